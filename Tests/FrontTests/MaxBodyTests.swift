import Foundation
import TestSupport
import XCTest

/// --max-body with streamed bodies: a declared length over it is refused before any of the
/// body reaches a worker, a chunked body that grows over it is cut off, 0 means no limit.
final class MaxBodyTests: XCTestCase {
  func testDeclaredBodyOverTheLimitGets413AndNeverReachesTheWorker() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--max-body", "200000",
    ])
    defer { XCTAssertEqual(broker.stop(), 0) }
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    let taken = try XCTUnwrap(requestsTaken(byWorkersOf: broker.pid))
    let client = try RawHTTPClient(port: broker.port)
    try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: 200001\r\n\r\n")
    XCTAssertEqual(try client.readResponse().status, 413)
    XCTAssertEqual(requestsTaken(byWorkersOf: broker.pid), taken)
    // At the limit it is accepted, streamed and whole.
    let body = Uploads.body(count: 200_000)
    let accepted = try RawHTTPClient(port: broker.port)
    try Uploads.sendContentLength(accepted, path: "/sum", body: body)
    XCTAssertEqual(try accepted.readResponse().bodyText, Uploads.sumLine(body, streamed: true))
  }

  func testChunkedBodyGrowingOverTheLimitGets413AndTheConnectionCloses() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--max-body", "300000",
    ])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let client = try RawHTTPClient(port: broker.port, timeout: 10)
    try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in 0..<4 {
      try client.send("186a0\r\n")  // 100,000 bytes per chunk
      try client.send(Uploads.body(count: 100_000) + Array("\r\n".utf8))
    }
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 413)
    XCTAssertEqual(client.waitForClose(), [])
    // The worker's read failed (RB_REQ_BODY_ABORTED), and it serves on.
    XCTAssertTrue(
      waitUntil(timeout: 10) { (try? get(broker.port, "/stats").bodyText) == "body_errors 1\n" },
      broker.stderr)
  }

  func testZeroMeansNoLimit() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--max-body", "0",
    ])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let body = Uploads.body(count: 3 << 20)
    let client = try RawHTTPClient(port: broker.port, timeout: 60)
    try Uploads.sendContentLength(client, path: "/sum", body: body)
    XCTAssertEqual(try client.readResponse().bodyText, Uploads.sumLine(body, streamed: true))
    let chunked = try RawHTTPClient(port: broker.port, timeout: 60)
    try Uploads.sendChunked(chunked, path: "/sum", body: body)
    XCTAssertEqual(try chunked.readResponse().bodyText, Uploads.sumLine(body, streamed: true))
  }

  func testDefaultLimitIs100MiB() throws {
    let broker = try BrokerProcess(["--workers", "1", "--worker", Products.cWorker])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let over = try RawHTTPClient(port: broker.port)
    try over.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: \((100 << 20) + 1)\r\n\r\n")
    XCTAssertEqual(try over.readResponse().status, 413)
  }

  func testBadValuesGiveOneLineNamingTheOption() throws {
    for value in ["-1", "lots", "1.5"] {
      let result = try BrokerProcess.runToExit(["--inline", "--max-body", value])
      XCTAssertNotEqual(result.status, 0, value)
      let lines = result.stderr.split(separator: "\n")
      XCTAssertEqual(lines.count, 1, "\(value): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains("max-body"), "\(value): \(result.stderr)")
    }
  }
}
