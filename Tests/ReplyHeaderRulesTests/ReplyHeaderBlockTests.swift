import ReplyHeaderRules
import XCTest

/// The block check the front applies to the header lines it copied from a worker.
final class ReplyHeaderBlockTests: XCTestCase {
  private func valid(_ text: String) -> Bool { valid(Array(text.utf8)) }
  private func valid(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { ReplyHeaderRules.isValidBlock($0) }
  }

  func testWellFormed() {
    XCTAssertTrue(valid(""))
    XCTAssertTrue(ReplyHeaderRules.isValidBlock(UnsafeRawBufferPointer(start: nil, count: 0)))
    XCTAssertTrue(valid("Content-Type: text/plain\r\n"))
    XCTAssertTrue(
      valid("Content-Type: text/html; charset=utf-8\r\nX-A:b\r\nX-Empty:\r\nX-Tab: a\tb\r\n"))
    XCTAssertTrue(valid("Set-Cookie: a=b; Path=/\r\nSet-Cookie: c=d\r\n"))
    XCTAssertTrue(valid(Array("X-Name: caf".utf8) + [0xC3, 0xA9] + Array("\r\n".utf8)))
  }

  func testLineStructure() {
    XCTAssertFalse(valid("X-A: b"), "missing CRLF")
    XCTAssertFalse(valid("X-A: b\r"))
    XCTAssertFalse(valid("X-A: b\n"), "bare LF")
    XCTAssertFalse(valid("X-A: b\nX-B: c\r\n"))
    XCTAssertFalse(valid("\r\n"), "an empty line would end the head")
    XCTAssertFalse(valid("X-A: b\r\n\r\n"))
    XCTAssertFalse(valid(" X-A: b\r\n"), "continuation line")
    XCTAssertFalse(valid("X-A: b\r\n\tc\r\n"))
  }

  func testNames() {
    XCTAssertFalse(valid(": b\r\n"))
    XCTAssertFalse(valid("X-A : b\r\n"))
    XCTAssertFalse(valid("X A: b\r\n"))
    XCTAssertFalse(valid("X(A): b\r\n"))
    XCTAssertFalse(valid("NoColon\r\n"))
  }

  func testControlCharactersInValues() {
    for c: UInt8 in [0x00, 0x01, 0x0B, 0x0C, 0x1F, 0x7F] {
      XCTAssertFalse(valid(Array("X-A: a".utf8) + [c] + Array("b\r\n".utf8)), "byte \(c)")
    }
  }

  func testCRLFInjection() {
    XCTAssertFalse(valid("X-A: a\rContent-Length: 0\r\n"), "bare CR")
    XCTAssertFalse(valid("X-A: a\nContent-Length: 0\r\n"), "bare LF")
    XCTAssertFalse(valid("X-A: a\r\nContent-Length: 0\r\n"), "framing header on its own line")
    XCTAssertFalse(
      valid("X-A: a\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n"), "second response")
    XCTAssertFalse(valid("X-A: a\r\r\n"))
    XCTAssertFalse(valid("X-A: a\r\n\n"))
  }

  func testFrontOwnedNamesRefused() {
    for name in [
      "Content-Length", "transfer-encoding", "CONNECTION", "Keep-Alive", "Upgrade", "Date",
    ] {
      XCTAssertFalse(valid("X-Ok: 1\r\n\(name): x\r\n"), name)
    }
    XCTAssertTrue(valid("Content-Lengths: 1\r\nX-Date: now\r\nContent-Type: x\r\n"))
  }
}
