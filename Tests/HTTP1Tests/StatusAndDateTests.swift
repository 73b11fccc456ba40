import Foundation
import XCTest

@testable import HTTP1

final class StatusAndDateTests: XCTestCase {
  func testReasonPhrases() {
    XCTAssertEqual(HTTPStatus.reasonPhrase(200), "OK")
    XCTAssertEqual(HTTPStatus.reasonPhrase(404), "Not Found")
    XCTAssertEqual(HTTPStatus.reasonPhrase(413), "Content Too Large")
    XCTAssertEqual(HTTPStatus.reasonPhrase(431), "Request Header Fields Too Large")
    XCTAssertEqual(HTTPStatus.reasonPhrase(505), "HTTP Version Not Supported")
    XCTAssertEqual(HTTPStatus.reasonPhrase(799), "")
    XCTAssertEqual(HTTPStatus.reasonPhrase(-1), "")
    // Every status this module can produce has a phrase.
    for code in [400, 413, 414, 417, 431, 501, 505] {
      XCTAssertFalse(HTTPStatus.reasonPhrase(code).isEmpty)
    }
  }

  private func text(_ line: inout HTTPDateLine, _ seconds: Int) -> String {
    String(decoding: line.line(forUnixSeconds: seconds), as: UTF8.self)
  }

  func testIMFFixdate() {
    var line = HTTPDateLine()
    XCTAssertEqual(text(&line, 784_111_777), "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n")
    XCTAssertEqual(text(&line, 0), "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n")
    XCTAssertEqual(text(&line, 951_782_400), "Date: Tue, 29 Feb 2000 00:00:00 GMT\r\n")
    XCTAssertEqual(text(&line, 4_102_444_799), "Date: Thu, 31 Dec 2099 23:59:59 GMT\r\n")
    XCTAssertEqual(text(&line, -5), "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n")
  }

  func testAgreesWithFoundation() {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss"
    var line = HTTPDateLine()
    var seconds = 0
    while seconds < 5_000_000_000 {
      let expected =
        "Date: " + formatter.string(from: Date(timeIntervalSince1970: Double(seconds))) + " GMT\r\n"
      XCTAssertEqual(text(&line, seconds), expected)
      seconds += 3_123_457
    }
  }

  func testCachedWithinASecondAndCopiesIndependent() {
    var line = HTTPDateLine()
    let first = line.line(forUnixSeconds: 1_000_000_000)
    XCTAssertEqual(line.line(forUnixSeconds: 1_000_000_000).baseAddress, first.baseAddress)
    var copy = line
    _ = copy.line(forUnixSeconds: 0)
    XCTAssertEqual(
      String(decoding: first, as: UTF8.self), "Date: Sun, 09 Sep 2001 01:46:40 GMT\r\n")
    XCTAssertEqual(text(&copy, 0), "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n")
  }
}
