import XCTest

@testable import HTTP1

final class TransferEncodingTests: XCTestCase {
  private func request(_ fields: String, version: String = "1.1") -> String {
    "POST / HTTP/\(version)\r\nHost: x\r\n\(fields)\r\n"
  }

  func testChunked() {
    XCTAssertEqual(assertComplete(request("Transfer-Encoding: chunked\r\n")).head.framing, .chunked)
    XCTAssertEqual(assertComplete(request("transfer-encoding: CHUNKED\r\n")).head.framing, .chunked)
    XCTAssertEqual(
      assertComplete(request("Transfer-Encoding: , chunked ,\r\n")).head.framing, .chunked)
  }

  func testFinalCodingMustBeChunked() {
    assertFails(request("Transfer-Encoding: chunked, gzip\r\n"), 400)
    assertFails(request("Transfer-Encoding: gzip\r\n"), 400)
    assertFails(request("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), 400)
    assertFails(request("Transfer-Encoding: chunked, chunked\r\n"), 400)
    assertFails(request("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400)
    assertFails(request("Transfer-Encoding: chunked;x=1\r\n"), 400)
  }

  func testUnknownOrUndecodedCodingIs501() {
    assertFails(request("Transfer-Encoding: foo\r\n"), 501)
    assertFails(request("Transfer-Encoding: foo, chunked\r\n"), 501)
    assertFails(request("Transfer-Encoding: gzip, chunked\r\n"), 501)
    assertFails(request("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501)
    assertFails(request("Transfer-Encoding: gzip;q=1, chunked\r\n"), 501)
  }

  func testMalformed() {
    assertFails(request("Transfer-Encoding:\r\n"), 400)
    assertFails(request("Transfer-Encoding: ,\r\n"), 400)
    assertFails(request("Transfer-Encoding: chun ked\r\n"), 400)
    assertFails(request("Transfer-Encoding: \"chunked\"\r\n"), 400)
  }

  func testWithContentLengthRefused() {
    assertFails(request("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400)
    assertFails(request("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400)
  }

  func testRefusedInHTTP10() {
    assertFails(request("Transfer-Encoding: chunked\r\n", version: "1.0"), 400)
  }
}
