import XCTest

@testable import HTTP1

final class HeadEndTests: XCTestCase {
  private func find(_ text: String, from offset: Int = 0) -> Int? {
    Array(text.utf8).withUnsafeBytes { findHeadEnd($0, from: offset) }
  }

  func testMatchesHeadLengthOfValidHeads() {
    for request in IncrementalTests.requests {
      let parsed = assertComplete(request + "body")
      XCTAssertEqual(find(request + "body"), parsed.head.headLength)
    }
  }

  func testBareLineEndsAreFoundToo() {
    XCTAssertEqual(find("GET / HTTP/1.1\n\nX"), 16)
    XCTAssertEqual(find("GET / HTTP/1.1\r\nHost: x\n\r\n"), 26)
    XCTAssertNil(find("GET / HTTP/1.1\r\nHost: x\r\n"))
    XCTAssertNil(find("\r\nGET / HTTP/1.1\r\n"))
  }

  func testIncrementalScanOnlyLooksAtNewBytes() {
    // Fed one byte at a time, scanning from the previous length finds the same end.
    let bytes = Array(IncrementalTests.requests[0].utf8)
    var previous = 0
    var found: Int?
    for length in 1...bytes.count {
      found = bytes[..<length].withUnsafeBytes { findHeadEnd($0, from: previous) }
      if found != nil {
        XCTAssertEqual(length, bytes.count)
        break
      }
      previous = length
    }
    XCTAssertEqual(found, bytes.count)
  }
}
