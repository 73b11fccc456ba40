import XCTest

@testable import HTTP1

final class ContentLengthTests: XCTestCase {
  private func request(_ fields: String) -> String { "POST / HTTP/1.1\r\nHost: x\r\n\(fields)\r\n" }

  func testValid() {
    XCTAssertEqual(
      assertComplete(request("Content-Length: 42\r\n")).head.framing, .contentLength(42))
    XCTAssertEqual(assertComplete(request("content-length: 0\r\n")).head.framing, .contentLength(0))
    XCTAssertEqual(
      assertComplete(request("Content-Length: 007\r\n")).head.framing, .contentLength(7))
  }

  func testDigitsOnly() {
    for bad in ["+5", "-1", "5a", "0x5", "5 5", "", "1.0", "١"] {
      assertFails(request("Content-Length: \(bad)\r\n"), 400)
    }
  }

  func testOverflow() {
    assertFails(request("Content-Length: 99999999999999999999\r\n"), 400)
    assertFails(request("Content-Length: 9223372036854775808\r\n"), 400)
    let noLimit = HTTPLimits(maxBodyLength: .max)
    XCTAssertEqual(
      assertComplete(request("Content-Length: 9223372036854775807\r\n"), limits: noLimit).head
        .framing,
      .contentLength(.max))
  }

  func testDuplicates() {
    XCTAssertEqual(
      assertComplete(request("Content-Length: 5\r\nContent-Length: 5\r\n")).head.framing,
      .contentLength(5))
    XCTAssertEqual(
      assertComplete(request("Content-Length: 5, 5\r\n")).head.framing, .contentLength(5))
    XCTAssertEqual(
      assertComplete(request("Content-Length: 5,5\r\nContent-Length: 05\r\n")).head.framing,
      .contentLength(5))
    assertFails(request("Content-Length: 5\r\nContent-Length: 6\r\n"), 400)
    assertFails(request("Content-Length: 5, 6\r\n"), 400)
    assertFails(request("Content-Length: 5,\r\n"), 400)
    assertFails(request("Content-Length: 5,,5\r\n"), 400)
  }

  func testOverLimitIs413() {
    let limits = HTTPLimits(maxBodyLength: 100)
    XCTAssertEqual(
      assertComplete(request("Content-Length: 100\r\n"), limits: limits).head.framing,
      .contentLength(100))
    assertFails(request("Content-Length: 101\r\n"), 413, limits: limits)
    // Known as soon as the field is complete, before the head is.
    XCTAssertEqual(Parsed("POST / HTTP/1.1\r\nContent-Length: 101\r\n", limits: limits).status, 413)
  }
}
