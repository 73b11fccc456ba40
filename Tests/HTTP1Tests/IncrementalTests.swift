import XCTest

@testable import HTTP1

final class IncrementalTests: XCTestCase {
  static let requests = [
    "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n",
    "\r\nPOST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Tab: \t\r\n\r\n",
  ]

  func testEveryPrefixIsIncomplete() {
    for request in Self.requests {
      let bytes = Array(request.utf8)
      for length in 0..<bytes.count {
        let p = Parsed(bytes: Array(bytes[..<length]))
        XCTAssertEqual(p.result, .incomplete, "\(request.debugDescription) cut at \(length)")
      }
      XCTAssertEqual(Parsed(bytes: bytes).result, .complete)
    }
  }

  func testFedByteByByteIntoGrowingBuffer() {
    // As the front does it: append what arrived, parse from the start again.
    let bytes = Array(Self.requests[0].utf8)
    var buffer: [UInt8] = []
    var head = RequestHead()
    for (index, byte) in bytes.enumerated() {
      buffer.append(byte)
      let result = buffer.withUnsafeBytes {
        parseRequestHead($0, into: &head, limits: HTTPLimits())
      }
      XCTAssertEqual(result, index == bytes.count - 1 ? .complete : .incomplete)
    }
    XCTAssertEqual(head.headLength, bytes.count)
    XCTAssertEqual(head.headers.count, 3)
  }

  func testPipelinedRequestsInOneBuffer() {
    let text =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      + "HEAD /c?q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
      + "GET /d HTTP/1.1\r\nHo"
    let bytes = Array(text.utf8)
    var head = RequestHead()
    var offset = 0
    var seen: [(String, BodyFraming, Bool)] = []
    while true {
      let result = bytes.withUnsafeBytes { raw in
        parseRequestHead(
          UnsafeRawBufferPointer(rebasing: raw[offset...]), into: &head, limits: HTTPLimits())
      }
      guard result == .complete else {
        XCTAssertEqual(result, .incomplete)
        break
      }
      let path = String(
        decoding: bytes[(offset + head.path.lowerBound)..<(offset + head.path.upperBound)],
        as: UTF8.self)
      seen.append((path, head.framing, head.keepAlive))
      offset += head.headLength
      if case .contentLength(let n) = head.framing {
        XCTAssertEqual(String(decoding: bytes[offset..<(offset + n)], as: UTF8.self), "hello")
        offset += n
      }
    }
    XCTAssertEqual(seen.map(\.0), ["/a", "/b", "/c"])
    XCTAssertEqual(seen.map(\.1), [.none, .contentLength(5), .none])
    XCTAssertEqual(seen.map(\.2), [true, true, false])
    XCTAssertEqual(String(decoding: bytes[offset...], as: UTF8.self), "GET /d HTTP/1.1\r\nHo")
  }

  func testHeadFollowedByBody() {
    let p = assertComplete("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
    XCTAssertEqual(p.head.headLength, p.bytes.count - 4)
  }

  func testEmptyBuffer() {
    XCTAssertEqual(Parsed("").result, .incomplete)
    var head = RequestHead()
    XCTAssertEqual(
      parseRequestHead(
        UnsafeRawBufferPointer(start: nil, count: 0), into: &head, limits: HTTPLimits()),
      .incomplete)
  }
}
