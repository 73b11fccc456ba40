import XCTest

@testable import HTTP1

final class HostTests: XCTestCase {
  func testHTTP11RequiresExactlyOneHost() {
    assertFails("GET / HTTP/1.1\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400)
    XCTAssertEqual(assertComplete("GET / HTTP/1.1\r\nhOsT: a.example\r\n\r\n").host, "a.example")
  }

  func testHTTP10MayOmitHostButNotRepeatIt() {
    XCTAssertEqual(assertComplete("GET / HTTP/1.0\r\n\r\n").host, "")
    assertFails("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400)
  }

  func testHostValue() {
    XCTAssertEqual(assertComplete("GET / HTTP/1.1\r\nHost: \r\n\r\n").host, "")
    XCTAssertEqual(assertComplete("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").host, "[::1]:8080")
    assertFails("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400)
    assertFails("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400)
  }
}
