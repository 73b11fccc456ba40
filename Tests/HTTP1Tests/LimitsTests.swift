import XCTest

@testable import HTTP1

final class LimitsTests: XCTestCase {
  func testRequestLineLimit414() {
    let limits = HTTPLimits(maxRequestLineLength: 64)
    let fits = "GET /" + String(repeating: "a", count: 64 - 14) + " HTTP/1.1"
    XCTAssertEqual(fits.utf8.count, 64)
    assertComplete(fits + "\r\nHost: x\r\n\r\n", limits: limits)
    let over = "GET /" + String(repeating: "a", count: 64 - 13) + " HTTP/1.1"
    assertFails(over + "\r\nHost: x\r\n\r\n", 414, limits: limits)
  }

  func testRequestLineLimitDetectedBeforeLineEnds() {
    let limits = HTTPLimits(maxRequestLineLength: 64)
    let partial = "GET /" + String(repeating: "a", count: 100)
    assertFails(partial, 414, limits: limits)
    XCTAssertEqual(
      Parsed("GET /" + String(repeating: "a", count: 50), limits: limits).result, .incomplete)
    // With the default limit, 8 KiB of target and no CRLF yet is already too much.
    assertFails("GET /" + String(repeating: "a", count: 8200), 414)
    assertFails(String(repeating: "G", count: 9000), 414)
  }

  func testHeadLimit431() {
    let limits = HTTPLimits(maxHeadLength: 128)
    let prefix = "GET / HTTP/1.1\r\nHost: x\r\nX: "
    let fill = 128 - prefix.utf8.count - 4
    let fits = prefix + String(repeating: "v", count: fill) + "\r\n\r\n"
    XCTAssertEqual(fits.utf8.count, 128)
    XCTAssertEqual(assertComplete(fits, limits: limits).head.headLength, 128)
    assertFails(prefix + String(repeating: "v", count: fill + 1) + "\r\n\r\n", 431, limits: limits)
    // Still incomplete, but already longer than any acceptable head.
    assertFails(prefix + String(repeating: "v", count: 200), 431, limits: limits)
    XCTAssertEqual(Parsed(prefix + "v", limits: limits).result, .incomplete)
  }

  func testHeadLimitCountsFromRequestLineNotSkippedEmptyLine() {
    let limits = HTTPLimits(maxHeadLength: 27)
    let head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    XCTAssertEqual(head.utf8.count, 27)
    XCTAssertEqual(assertComplete("\r\n" + head, limits: limits).head.headLength, 29)
  }

  func testHeaderCountLimit431() {
    let limits = HTTPLimits(maxHeaderCount: 5)
    let fields = (0..<4).map { "X-\($0): v\r\n" }.joined()
    assertComplete("GET / HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n", limits: limits)
    assertFails("GET / HTTP/1.1\r\nHost: x\r\n" + fields + "X-5: v\r\n\r\n", 431, limits: limits)
    // Refused as soon as the sixth field starts.
    assertFails("GET / HTTP/1.1\r\nHost: x\r\n" + fields + "X", 431, limits: limits)
  }

  func testBodyLimit413() {
    let limits = HTTPLimits(maxBodyLength: 10)
    assertFails("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", 413, limits: limits)
  }

  func testUnlimited() {
    let limits = HTTPLimits(
      maxRequestLineLength: .max, maxHeadLength: .max, maxHeaderCount: .max, maxBodyLength: .max)
    assertComplete(
      "GET /" + String(repeating: "a", count: 20000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
      limits: limits)
    XCTAssertEqual(Parsed("GET /aaaa", limits: limits).result, .incomplete)
  }
}
