import TestSupport
import XCTest

/// Request bodies: Content-Length, chunked, Expect: 100-continue. The inline responder ignores
/// bodies, so these tests prove framing by keeping the connection in sync afterwards; the decoded
/// bytes themselves are checked in RequestReaderTests.
final class RequestBodyTests: InlineBrokerTestCase {
  func testContentLengthBodyThenNextRequest() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.post("/upload", body: String(repeating: "b", count: 100_000)))
    XCTAssertEqual(try client.readResponse().status, 200)
    try client.send(Requests.get("/after"))
    XCTAssertEqual(try client.readResponse().status, 200)
  }

  func testLargestAllowedBody() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.post("/max", body: String(repeating: "m", count: 1 << 20)))
    XCTAssertEqual(try client.readResponse().status, 200)
  }

  func testChunkedUpload() throws {
    let client = try RawHTTPClient(port: broker.port)
    let body = Requests.chunked([
      "hello ", "chunked ", String(repeating: "z", count: 5000), "world",
    ])
    try client.send(
      "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body
        + Requests.get("/next"))
    XCTAssertEqual(try client.readResponse().status, 200)
    XCTAssertEqual(try client.readResponse().status, 200)
  }

  func testChunkedUploadTrickledByteByByte() throws {
    let client = try RawHTTPClient(port: broker.port)
    let request =
      "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      + Requests.chunked(["ab", "cde"])
    for byte in request.utf8 {
      try client.send([byte])
      usleep(500)  // the trickle is what is under test: one byte per segment
    }
    XCTAssertEqual(try client.readResponse().status, 200)
    try client.send(Requests.get())
    XCTAssertEqual(try client.readResponse().status, 200)
  }

  func testExpectContinueGetsInterimResponseBeforeBody() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(
      "POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    // The client waits for the interim response before sending the body.
    let interim = try client.readResponse()
    XCTAssertEqual(interim.status, 100)
    try client.send("hello")
    let final = try client.readResponse()
    XCTAssertEqual(final.status, 200)
    XCTAssertEqual(final.bodyText, "hello world\n")
  }

  func testExpectContinueWithChunkedBody() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(
      "POST /e HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
    XCTAssertEqual(try client.readResponse().status, 100)
    try client.send(Requests.chunked(["data"]))
    XCTAssertEqual(try client.readResponse().status, 200)
  }

  func testNoInterimResponseWhenBodyAlreadySent() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.post("/e", body: "hello", headers: ["Expect: 100-continue"]))
    XCTAssertEqual(try client.readResponse().status, 200)
  }

  func testExpectContinueOverLimitGets413NotContinue() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(
      "POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: \((100 << 20) + 1)\r\nExpect: 100-continue\r\n\r\n"
    )
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 413)
    XCTAssertEqual(client.waitForClose(), [])
  }
}
