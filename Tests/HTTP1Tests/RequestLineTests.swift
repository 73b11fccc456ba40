import XCTest

@testable import HTTP1

final class RequestLineTests: XCTestCase {
  func testSimpleGet() {
    let p = assertComplete("GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\n\r\n")
    XCTAssertEqual(p.method, "GET")
    XCTAssertEqual(p.target, "/index.html?a=1&b=2")
    XCTAssertEqual(p.path, "/index.html")
    XCTAssertEqual(p.query, "a=1&b=2")
    XCTAssertEqual(p.host, "example.com")
    XCTAssertEqual(p.head.versionMinor, 1)
    XCTAssertEqual(p.head.headLength, p.bytes.count)
    XCTAssertFalse(p.head.isHeadMethod)
    XCTAssertEqual(p.head.framing, .none)
  }

  func testQueryAbsentIsEmptyAtEndOfPath() {
    let p = assertComplete("GET /a/b HTTP/1.1\r\nHost: x\r\n\r\n")
    XCTAssertEqual(p.head.query, p.head.path.upperBound..<p.head.path.upperBound)
    let q = assertComplete("GET /a? HTTP/1.1\r\nHost: x\r\n\r\n")
    XCTAssertEqual(q.path, "/a")
    XCTAssertEqual(q.query, "")
    let r = assertComplete("GET /a?b?c HTTP/1.1\r\nHost: x\r\n\r\n")
    XCTAssertEqual(r.query, "b?c", "only the first '?' splits")
  }

  func testRawQueryCharactersBrowsersSend() {
    let p = assertComplete("GET /s?a[]=1&b={x}|^ HTTP/1.1\r\nHost: x\r\n\r\n")
    XCTAssertEqual(p.query, "a[]=1&b={x}|^")
  }

  func testAbsoluteForm() {
    let p = assertComplete("GET http://example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: other\r\n\r\n")
    XCTAssertEqual(p.host, "example.com:8080", "the target's authority wins over Host")
    XCTAssertEqual(p.path, "/p/q")
    XCTAssertEqual(p.query, "x=1")
    let bare = assertComplete("GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n")
    XCTAssertEqual(bare.path, "")
    XCTAssertEqual(bare.query, "")
    let q = assertComplete("GET http://h?y HTTP/1.1\r\nHost: h\r\n\r\n")
    XCTAssertEqual(q.host, "h")
    XCTAssertEqual(q.path, "")
    XCTAssertEqual(q.query, "y")
    assertFails("GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    assertFails("GET http://user@h/p HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    assertFails("GET http:/p HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    assertFails("GET 1http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400)
  }

  func testAsteriskOnlyForOptions() {
    let p = assertComplete("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
    XCTAssertEqual(p.path, "*")
    XCTAssertEqual(p.query, "")
    assertFails("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assertFails("OPTIONS *x HTTP/1.1\r\nHost: x\r\n\r\n", 400)
  }

  func testAuthorityFormRefused() {
    assertFails("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", 400)
  }

  func testMethodMustBeToken() {
    assertComplete("PURGE /x HTTP/1.1\r\nHost: x\r\n\r\n")
    assertComplete("M-SEARCH / HTTP/1.1\r\nHost: x\r\n\r\n")
    assertFails("GE(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assertFails("GE:T / HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assertFails(" / HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assertFails("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", 400)
  }

  func testHeadMethodIsCaseSensitive() {
    XCTAssertTrue(assertComplete("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n").head.isHeadMethod)
    XCTAssertFalse(assertComplete("head / HTTP/1.1\r\nHost: x\r\n\r\n").head.isHeadMethod)
    XCTAssertFalse(assertComplete("HEADS / HTTP/1.1\r\nHost: x\r\n\r\n").head.isHeadMethod)
  }

  func testSingleSpacesOnly() {
    assertFails("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assertFails("GET /  HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400)
  }

  func testTargetWithoutControlOrSpace() {
    for bad in ["\u{01}", "\u{7F}", "\t", "\u{00}"] {
      assertFails("GET /a\(bad)b HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    }
    assertFails("GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    let nonASCII: [UInt8] =
      Array("GET /a".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
    XCTAssertEqual(Parsed(bytes: nonASCII).status, 400)
    assertFails("GET relative HTTP/1.1\r\nHost: x\r\n\r\n", 400)
  }

  func testVersions() {
    let p = assertComplete("GET / HTTP/1.0\r\n\r\n")
    XCTAssertEqual(p.head.versionMinor, 0)
    for v in ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.1", "HTTP/9.9"] {
      assertFails("GET / \(v)\r\nHost: x\r\n\r\n", 505)
    }
    for v in [
      "HTTP/1.10", "http/1.1", "HTTP/1", "HTTP/1.", "HTP/1.1", "HTTP/11", "HTTP/a.b", "HTTPS/1.1",
      "XYZ",
    ] {
      assertFails("GET / \(v)\r\nHost: x\r\n\r\n", 400)
    }
    assertFails("GET /\r\nHost: x\r\n\r\n", 400)  // HTTP/0.9 style
  }

  func testGarbageRefusedBeforeLineEnds() {
    // Refused at the first bad byte, without waiting for more input.
    XCTAssertEqual(Parsed("GET / XTTP").status, 400)
    XCTAssertEqual(Parsed("G\u{01}").status, 400)
    XCTAssertEqual(Parsed("GET / HTTP/1.1\r\nHo st").status, 400)
  }

  func testLeadingEmptyLineIgnoredOnce() {
    let p = assertComplete("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    XCTAssertEqual(p.method, "GET")
    XCTAssertEqual(p.head.method, 2..<5)
    XCTAssertEqual(p.head.headLength, p.bytes.count)
    assertFails("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assertFails("\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    XCTAssertEqual(Parsed("\r").result, .incomplete)
    XCTAssertEqual(Parsed("\r\n").result, .incomplete)
  }

  func testBareLineEndsInRequestLine() {
    assertFails("GET / HTTP/1.1\nHost: x\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\rHost: x\r\n\r\n", 400)
    assertFails("\rGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400)
  }
}
