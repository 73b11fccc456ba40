import XCTest

@testable import HTTP1

final class ConnectionTests: XCTestCase {
  private func keepAlive(_ version: String, _ fields: String) -> Bool {
    assertComplete("GET / HTTP/\(version)\r\nHost: x\r\n\(fields)\r\n").head.keepAlive
  }

  func testHTTP11DefaultsToKeepAlive() {
    XCTAssertTrue(keepAlive("1.1", ""))
    XCTAssertFalse(keepAlive("1.1", "Connection: close\r\n"))
    XCTAssertFalse(keepAlive("1.1", "connection: CLOSE\r\n"))
    XCTAssertFalse(keepAlive("1.1", "Connection: keep-alive, close\r\n"))
    XCTAssertFalse(keepAlive("1.1", "Connection: upgrade\r\nConnection: close\r\n"))
    XCTAssertTrue(keepAlive("1.1", "Connection: upgrade\r\n"))
    XCTAssertTrue(keepAlive("1.1", "Connection: closed\r\n"))
  }

  func testHTTP10DefaultsToClose() {
    XCTAssertFalse(keepAlive("1.0", ""))
    XCTAssertTrue(keepAlive("1.0", "Connection: keep-alive\r\n"))
    XCTAssertTrue(keepAlive("1.0", "Connection: Upgrade ,Keep-Alive\r\n"))
    XCTAssertFalse(keepAlive("1.0", "Connection: keep-alive, close\r\n"))
  }

  func testExpect() {
    let p = assertComplete(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n")
    XCTAssertTrue(p.head.expectsContinue)
    XCTAssertTrue(
      assertComplete("POST / HTTP/1.1\r\nHost: x\r\nexpect: 100-Continue\r\n\r\n").head
        .expectsContinue)
    XCTAssertFalse(assertComplete("POST / HTTP/1.1\r\nHost: x\r\n\r\n").head.expectsContinue)
    // RFC 9110 §10.1.1: ignored in HTTP/1.0.
    XCTAssertFalse(
      assertComplete("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").head.expectsContinue)
    assertFails("POST / HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n", 417)
    assertFails("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue, foo\r\n\r\n", 417)
  }
}
