import Foundation
import TestSupport
import XCTest

/// A request body is timed between reads (like nginx's client_body_timeout), not as a whole:
/// a slow upload that keeps coming completes, one that stalls gets 408.
final class BodyTimeoutTests: XCTestCase {
  /// 400 KB at about 50 KB/s takes 8 s, well past the header and body timeouts (a gap of
  /// 3 s between pieces would still end it: loose for a loaded VM).
  func testSlowUploadThatKeepsProgressingCompletes() throws {
    let broker = try BrokerProcess(["--inline", "--header-timeout", "3", "--body-timeout", "3"])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let client = try RawHTTPClient(port: broker.port)
    let piece = [UInt8](repeating: UInt8(ascii: "u"), count: 5_000)
    let pieces = 80
    try client.send(
      "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: \(piece.count * pieces)\r\n\r\n")
    let started = Date()
    for _ in 0..<pieces {
      try client.send(piece)
      usleep(100_000)  // the client's pace, not a wait for broker state
    }
    XCTAssertGreaterThan(Date().timeIntervalSince(started), 7)
    XCTAssertEqual(try client.readResponse().status, 200)
    try client.send(Requests.get("/after"))
    XCTAssertEqual(try client.readResponse().status, 200)
  }

  func testStalledUploadGets408() throws {
    let broker = try BrokerProcess(["--inline", "--header-timeout", "5", "--body-timeout", "1"])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let client = try RawHTTPClient(port: broker.port)
    try client.send(
      "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10000\r\n\r\n"
        + String(repeating: "s", count: 4_000))
    let started = Date()
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 408)
    XCTAssertTrue(response.closesConnection)
    // The body timeout (1 s), not the header timeout (5 s), ended it.
    XCTAssertLessThan(Date().timeIntervalSince(started), 4)
  }

  func testBadBodyTimeoutIsAOneLineError() throws {
    let result = try BrokerProcess.runToExit(["--inline", "--body-timeout", "0"])
    XCTAssertEqual(result.status, 64)
    XCTAssertTrue(result.stderr.contains("--body-timeout must be between"), result.stderr)
  }
}
