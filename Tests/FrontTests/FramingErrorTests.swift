import TestSupport
import XCTest

/// Malformed requests get HTTP1's status, `Connection: close`, and the connection is closed.
final class FramingErrorTests: InlineBrokerTestCase {
  private func expectRejection(
    _ request: String, status: Int, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(request)
    let response = try client.readResponse()
    XCTAssertEqual(response.status, status, "\(response)", file: file, line: line)
    XCTAssertTrue(response.closesConnection, "\(response)", file: file, line: line)
    XCTAssertEqual(
      response.header("Content-Length"), String(response.body.count), file: file, line: line)
    XCTAssertFalse(response.body.isEmpty, file: file, line: line)
    XCTAssertEqual(
      client.waitForClose(), [], "connection must be closed after a framing error", file: file,
      line: line)
  }

  func testMissingHostIs400() throws {
    try expectRejection("GET / HTTP/1.1\r\n\r\n", status: 400)
  }

  func testGarbageIs400() throws {
    try expectRejection("\u{16}\u{03}\u{01} hello\r\n\r\n", status: 400)
  }

  func testConflictingContentLengthIs400() throws {
    try expectRejection(
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      status: 400)
  }

  func testBadChunkSizeIs400() throws {
    try expectRejection(
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 400)
  }

  func testBodyOverLimitIs413() throws {
    try expectRejection(
      // Over the default --max-body, 100 MiB.
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: \((100 << 20) + 1)\r\n\r\n", status: 413)
  }

  func testRequestLineTooLongIs414() throws {
    try expectRejection(Requests.get("/" + String(repeating: "a", count: 9000)), status: 414)
  }

  func testRequestLineTooLongWithoutEndIs414() throws {
    // The line never ends: the limit alone must trigger the error.
    try expectRejection("GET /" + String(repeating: "a", count: 9000), status: 414)
  }

  func testHeadTooLargeIs431() throws {
    let headers = (0..<40).map { "X-Filler-\($0): " + String(repeating: "v", count: 1000) }
    try expectRejection(Requests.get("/", headers: headers), status: 431)
  }

  func testUnknownTransferCodingIs501() throws {
    try expectRejection(
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n", status: 501)
  }

  func testHTTP2VersionIs505() throws {
    try expectRejection("GET / HTTP/2.0\r\nHost: t\r\n\r\n", status: 505)
  }

  func testErrorAfterValidPipelinedRequestKeepsOrder() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get("/ok") + "GET / HTTP/1.1\r\n\r\n")
    let first = try client.readResponse()
    XCTAssertEqual(first.status, 200)
    XCTAssertFalse(first.closesConnection)
    let second = try client.readResponse()
    XCTAssertEqual(second.status, 400)
    XCTAssertTrue(second.closesConnection)
    XCTAssertEqual(client.waitForClose(), [])
  }

  func testChunkedBodyOverLimitIs413() throws {
    let small = try BrokerProcess(["--inline", "--max-body", "100"])
    defer { XCTAssertEqual(small.stop(), 0) }
    let client = try RawHTTPClient(port: small.port)
    try client.send(
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        + Requests.chunked([String(repeating: "x", count: 80), String(repeating: "y", count: 80)]))
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 413)
    XCTAssertTrue(response.closesConnection)
    XCTAssertEqual(client.waitForClose(), [])
  }
}
