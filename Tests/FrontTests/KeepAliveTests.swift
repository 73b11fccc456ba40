import TestSupport
import XCTest

/// Keep-alive, Connection: close, HTTP/1.0, pipelining and HEAD against `ringbroker --inline`.
final class KeepAliveTests: InlineBrokerTestCase {
  func testInlineReply() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get("/hello?x=1"))
    let response = try client.readResponse()
    XCTAssertEqual(response.version, "HTTP/1.1")
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.reason, "OK")
    XCTAssertEqual(response.bodyText, "hello world\n")
    XCTAssertEqual(response.header("Content-Length"), "12")
    XCTAssertEqual(response.header("Content-Type"), "text/plain")
    XCTAssertNotNil(response.header("Date"))
    XCTAssertTrue(response.header("Date")!.hasSuffix(" GMT"))
    XCTAssertNil(response.header("Connection"))
  }

  func testKeepAliveServesManyRequestsOnOneConnection() throws {
    let client = try RawHTTPClient(port: broker.port)
    for i in 0..<50 {
      try client.send(Requests.get("/\(i)"))
      let response = try client.readResponse()
      XCTAssertEqual(response.status, 200)
      XCTAssertEqual(response.bodyText, "hello world\n")
    }
    XCTAssertTrue(client.staysSilent(for: 0.3), "keep-alive connection must stay open")
  }

  func testPipelinedRequestsAnsweredInOrder() throws {
    let client = try RawHTTPClient(port: broker.port)
    // Three requests in one write; the HEAD in the middle proves replies keep their order.
    try client.send(
      Requests.get("/1") + "HEAD /2 HTTP/1.1\r\nHost: t\r\n\r\n" + Requests.post("/3", body: "abc"))
    let first = try client.readResponse()
    let second = try client.readResponse(forHEAD: true)
    let third = try client.readResponse()
    XCTAssertEqual([first.status, second.status, third.status], [200, 200, 200])
    XCTAssertEqual(first.bodyText, "hello world\n")
    XCTAssertEqual(second.header("Content-Length"), "12")
    XCTAssertEqual(third.bodyText, "hello world\n")
    XCTAssertEqual(client.bufferedBytes, 0, "HEAD reply must carry no body")
  }

  func testManyPipelinedRequestsSplitAcrossWrites() throws {
    let client = try RawHTTPClient(port: broker.port)
    let all = String(repeating: Requests.get("/p"), count: 100)
    let bytes = Array(all.utf8)
    // Odd-sized pieces so request boundaries fall everywhere.
    var offset = 0
    while offset < bytes.count {
      let end = min(offset + 333, bytes.count)
      try client.send(Array(bytes[offset..<end]))
      offset = end
    }
    for _ in 0..<100 { XCTAssertEqual(try client.readResponse().status, 200) }
  }

  func testConnectionCloseIsHonoured() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get("/", headers: ["Connection: close"]))
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 200)
    XCTAssertTrue(response.closesConnection)
    XCTAssertEqual(client.waitForClose(), [])
  }

  func testRequestsAfterConnectionCloseAreNotServed() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get("/", headers: ["Connection: close"]) + Requests.get("/never"))
    XCTAssertEqual(try client.readResponse().status, 200)
    XCTAssertEqual(client.waitForClose(), [])
    XCTAssertEqual(client.bufferedBytes, 0)
  }

  func testHTTP10ClosesByDefault() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send("GET / HTTP/1.0\r\n\r\n")
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.bodyText, "hello world\n")
    XCTAssertTrue(response.closesConnection)
    XCTAssertEqual(client.waitForClose(), [])
  }

  func testHTTP10KeepAlive() throws {
    let client = try RawHTTPClient(port: broker.port)
    for _ in 0..<3 {
      try client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
      let response = try client.readResponse()
      XCTAssertEqual(response.status, 200)
      XCTAssertEqual(response.header("Connection")?.lowercased(), "keep-alive")
    }
    XCTAssertTrue(client.staysSilent(for: 0.3))
  }

  func testHeadHasContentLengthButNoBody() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
    let response = try client.readResponse(forHEAD: true)
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.header("Content-Length"), "12")
    // The connection is still in sync: a GET right after gets its own full reply.
    try client.send(Requests.get())
    let next = try client.readResponse()
    XCTAssertEqual(next.bodyText, "hello world\n")
  }

  func testClientHalfCloseAfterRequestStillGetsReply() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get())
    client.finishSending()
    XCTAssertEqual(try client.readResponse().status, 200)
    XCTAssertEqual(client.waitForClose(), [])
  }
}
