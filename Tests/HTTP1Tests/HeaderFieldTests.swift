import XCTest

@testable import HTTP1

final class HeaderFieldTests: XCTestCase {
  func testFieldsAndTrimming() {
    let p = assertComplete(
      "GET / HTTP/1.1\r\nHost:example.com\r\nX-A:   spaced  value \t \r\nX-Empty:\r\nX-Tab:\ta\tb\r\n\r\n"
    )
    XCTAssertEqual(p.headers.map(\.0), ["Host", "X-A", "X-Empty", "X-Tab"])
    XCTAssertEqual(p.headers.map(\.1), ["example.com", "spaced  value", "", "a\tb"])
  }

  func testEmptyValueRangeIsInsideLine() {
    let p = assertComplete("GET / HTTP/1.1\r\nHost: x\r\nX:   \r\n\r\n")
    let field = p.head.headers[1]
    XCTAssertTrue(field.value.isEmpty)
    XCTAssertGreaterThanOrEqual(field.value.lowerBound, field.name.upperBound)
  }

  func testObsTextAllowedInValues() {
    let bytes =
      Array("GET / HTTP/1.1\r\nHost: x\r\nX-Name: caf".utf8) + [0xC3, 0xA9, 0xFF]
      + Array("\r\n\r\n".utf8)
    let p = Parsed(bytes: bytes)
    XCTAssertEqual(p.result, .complete)
    XCTAssertEqual(Array(p.bytes[p.head.headers[1].value].suffix(3)), [0xC3, 0xA9, 0xFF])
  }

  func testLongValueCrossesWordBoundaries() {
    // Exercises the eight-bytes-at-a-time scan with the line end at every offset.
    for n in 0..<24 {
      let value = String(repeating: "v", count: n)
      let p = assertComplete("GET / HTTP/1.1\r\nHost: x\r\nX: \(value)\r\n\r\n")
      XCTAssertEqual(p.headers[1].1, value)
      assertFails("GET / HTTP/1.1\r\nHost: x\r\nX: \(value)\u{7F}\(value)\r\n\r\n", 400)
      assertFails("GET / HTTP/1.1\r\nHost: x\r\nX: \(value)\u{1F}\r\n\r\n", 400)
    }
  }

  func testWhitespaceBeforeColon() {
    assertFails("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: x\r\nX-A : y\r\n\r\n", 400)
  }

  func testNameMustBeToken() {
    assertFails("GET / HTTP/1.1\r\nHost: x\r\n: novalue\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: x\r\nX(A): y\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: x\r\nX\u{01}: y\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400)
  }

  func testControlCharactersInValues() {
    for c in ["\u{00}", "\u{01}", "\u{08}", "\u{0B}", "\u{0C}", "\u{1B}", "\u{7F}"] {
      assertFails("GET / HTTP/1.1\r\nHost: x\r\nX: a\(c)b\r\n\r\n", 400)
    }
    assertComplete("GET / HTTP/1.1\r\nHost: x\r\nX: a\tb\r\n\r\n")
  }

  func testObsFoldRefused() {
    assertFails("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n", 400)
    // Whitespace between the request line and the first field (RFC 9112 §2.2).
    assertFails("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400)
  }

  func testBareLineEndsInFields() {
    assertFails("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: x\r\n\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: x\r\n\rX", 400)
    assertFails("GET / HTTP/1.1\nHost: x\n\n", 400)
  }

  func testHeaderArrayReusedWithoutGrowing() {
    var head = RequestHead()
    let many =
      "GET / HTTP/1.1\r\nHost: x\r\n"
      + (0..<40).map { "X-\($0): v\r\n" }.joined() + "\r\n"
    let few = "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\r\n"
    let manyBytes = Array(many.utf8)
    let fewBytes = Array(few.utf8)
    XCTAssertEqual(
      manyBytes.withUnsafeBytes { parseRequestHead($0, into: &head, limits: HTTPLimits()) },
      .complete)
    XCTAssertEqual(head.headers.count, 41)
    let capacity = head.headers.capacity
    for _ in 0..<3 {
      XCTAssertEqual(
        fewBytes.withUnsafeBytes { parseRequestHead($0, into: &head, limits: HTTPLimits()) },
        .complete)
      XCTAssertEqual(head.headers.count, 2)
      XCTAssertEqual(
        manyBytes.withUnsafeBytes { parseRequestHead($0, into: &head, limits: HTTPLimits()) },
        .complete)
      XCTAssertEqual(head.headers.capacity, capacity)
    }
  }

  func testStateResetBetweenParses() {
    var head = RequestHead()
    let post = Array("POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n".utf8)
    let get = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
    _ = post.withUnsafeBytes { parseRequestHead($0, into: &head, limits: HTTPLimits()) }
    XCTAssertEqual(head.framing, .contentLength(3))
    XCTAssertFalse(head.keepAlive)
    _ = get.withUnsafeBytes { parseRequestHead($0, into: &head, limits: HTTPLimits()) }
    XCTAssertEqual(head.framing, .none)
    XCTAssertTrue(head.keepAlive)
    XCTAssertFalse(head.expectsContinue)
    XCTAssertEqual(head.versionMinor, 1)
  }
}
