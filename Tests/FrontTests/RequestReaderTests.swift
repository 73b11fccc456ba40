import CRingABI
import HTTP1
import RingChannel
import XCTest

@testable import RingFront

/// The framing state machine without sockets: what the handler would be given.
final class RequestReaderTests: XCTestCase {
  private var buffer = ReceiveBuffer()
  private var reader = RequestReader(limits: HTTPLimits())
  private let origin = RequestOrigin(
    remote: rb_endpoint(ipv4: (127, 0, 0, 1), port: 40000),
    local: rb_endpoint(ipv4: (127, 0, 0, 1), port: 8080), receivedUnixNanoseconds: 1)

  override func tearDown() {
    buffer.releaseMemory()
    reader.releaseMemory()
  }

  private func feed(_ text: String) {
    let bytes = Array(text.utf8)
    XCTAssertTrue(buffer.reserve(atLeast: bytes.count, limit: 1 << 22))
    bytes.withUnsafeBytes { buffer.writable.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    buffer.commit(bytes.count)
  }

  private func text(_ bytes: UnsafeRawBufferPointer) -> String {
    String(decoding: bytes, as: UTF8.self)
  }

  func testContentLengthBodyInPlace() {
    feed("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhel")
    XCTAssertEqual(reader.advance(&buffer), .needMore(bytes: 2))
    feed("loGET")
    XCTAssertEqual(reader.advance(&buffer), .complete)
    let request = reader.request(in: buffer, origin: origin)
    XCTAssertEqual(text(request.body), "hello")
    XCTAssertTrue(text(request.head).hasPrefix("POST /a HTTP/1.1\r\n"))
    XCTAssertTrue(text(request.head).hasSuffix("\r\n\r\n"))
    reader.finish(&buffer)
    XCTAssertEqual(text(buffer.readable), "GET", "pipelined bytes stay for the next request")
  }

  func testChunkedBodyIsDecodedAndFramingRemoved() {
    feed("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    XCTAssertEqual(reader.advance(&buffer), .needMore(bytes: 1))
    feed("7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT")
    XCTAssertEqual(reader.advance(&buffer), .complete)
    let request = reader.request(in: buffer, origin: origin)
    XCTAssertEqual(text(request.body), "hello, world")
    XCTAssertEqual(request.head.count, request.parsed.headLength)
    reader.finish(&buffer)
    XCTAssertEqual(text(buffer.readable), "NEXT")
  }

  func testHeadArrivingByteByByte() {
    let request = Array("GET /x?y=1 HTTP/1.1\r\nHost: t\r\n\r\n".utf8)
    for (i, byte) in request.enumerated() {
      feed(String(decoding: [byte], as: UTF8.self))
      let step = reader.advance(&buffer)
      XCTAssertEqual(step, i == request.count - 1 ? .complete : .needMore(bytes: 1))
    }
    let parsed = reader.request(in: buffer, origin: origin)
    XCTAssertEqual(text(UnsafeRawBufferPointer(rebasing: parsed.head[parsed.parsed.path])), "/x")
    XCTAssertEqual(parsed.body.count, 0)
  }

  func testExpectContinueAskedOnceBeforeBody() {
    feed("PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    XCTAssertEqual(reader.advance(&buffer), .sendContinue)
    XCTAssertEqual(reader.advance(&buffer), .needMore(bytes: 3))
    feed("abc")
    XCTAssertEqual(reader.advance(&buffer), .complete)
  }

  func testNoContinueForHTTP10() {
    feed("PUT / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    XCTAssertEqual(reader.advance(&buffer), .needMore(bytes: 3))
  }

  func testFramingErrorsComeFromHTTP1() {
    feed("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
    guard case .failed(let error) = reader.advance(&buffer) else {
      return XCTFail("expected failure")
    }
    XCTAssertEqual(error.status, 400)
  }

  func testLongRequestLineWithoutEndIs414() {
    feed("GET /" + String(repeating: "a", count: 9000))
    guard case .failed(let error) = reader.advance(&buffer) else {
      return XCTFail("expected failure")
    }
    XCTAssertEqual(error.status, 414)
  }
}

final class ReplyHeadWriterTests: XCTestCase {
  func testHeadLayout() {
    var writer = ReplyHeadWriter()
    let memory = UnsafeMutableRawPointer.allocate(
      byteCount: ReplyHeadWriter.maxLength, alignment: 8)
    defer { memory.deallocate() }
    let n = writer.write(
      into: memory, status: 404, contentLength: 1234, connection: .close, unixSeconds: 784_111_777)
    XCTAssertEqual(
      String(decoding: UnsafeRawBufferPointer(start: memory, count: n), as: UTF8.self),
      "HTTP/1.1 404 Not Found\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 1234\r\nConnection: close\r\n"
    )
    let m = writer.write(
      into: memory, status: 204, contentLength: nil, connection: .keepAlive, unixSeconds: 0)
    XCTAssertEqual(
      String(decoding: UnsafeRawBufferPointer(start: memory, count: m), as: UTF8.self),
      "HTTP/1.1 204 No Content\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nConnection: keep-alive\r\n"
    )
  }

  func testListenAddressParsing() {
    XCTAssertEqual(
      ListenAddress(parsing: "127.0.0.1:8080"), ListenAddress(host: "127.0.0.1", port: 8080))
    XCTAssertEqual(ListenAddress(parsing: "[::1]:0"), ListenAddress(host: "::1", port: 0))
    XCTAssertEqual(ListenAddress(parsing: "*:80"), ListenAddress(host: "", port: 80))
    XCTAssertEqual(ListenAddress(parsing: "[::1]:80")?.description, "[::1]:80")
    XCTAssertNil(ListenAddress(parsing: "8080"))
    XCTAssertNil(ListenAddress(parsing: "host:99999"))
    XCTAssertNil(ListenAddress(parsing: "::1:80"))
  }
}
