import ReplyHeaderRules
import XCTest

/// The single rules for names, values and framing headers, checked against the RFC's lists
/// byte by byte.
final class ReplyHeaderRulesTests: XCTestCase {
  private func check(_ text: String, _ rule: (UnsafeRawBufferPointer) -> Bool) -> Bool {
    Array(text.utf8).withUnsafeBytes(rule)
  }

  func testTokenBytesAreExactlyTchar() {
    let tchar = Set(
      "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    for byte in 0...255 {
      XCTAssertEqual(
        ReplyHeaderRules.isTokenByte(UInt8(byte)), tchar.contains(UInt8(byte)), "byte \(byte)")
    }
  }

  func testValueBytesAreHTabAndEverythingFromSpaceButDEL() {
    for byte in 0...255 {
      let expected = byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
      XCTAssertEqual(ReplyHeaderRules.isValueByte(UInt8(byte)), expected, "byte \(byte)")
    }
  }

  func testNames() {
    XCTAssertTrue(check("Content-Type", ReplyHeaderRules.isName))
    XCTAssertTrue(check("x", ReplyHeaderRules.isName))
    XCTAssertFalse(check("", ReplyHeaderRules.isName))
    XCTAssertFalse(ReplyHeaderRules.isName(UnsafeRawBufferPointer(start: nil, count: 0)))
    for bad in ["X A", "X:A", "X\rA", "X\nA", "X(A)", "Café"] {
      XCTAssertFalse(check(bad, ReplyHeaderRules.isName), bad)
    }
  }

  func testValues() {
    XCTAssertTrue(check("", ReplyHeaderRules.isValue))
    XCTAssertTrue(ReplyHeaderRules.isValue(UnsafeRawBufferPointer(start: nil, count: 0)))
    XCTAssertTrue(check("text/html; charset=utf-8", ReplyHeaderRules.isValue))
    XCTAssertTrue(check("a\tb café", ReplyHeaderRules.isValue))
    for bad in ["a\rb", "a\nb", "a\r\nContent-Length: 0", "a\u{0}b", "a\u{7F}"] {
      XCTAssertFalse(check(bad, ReplyHeaderRules.isValue), bad.debugDescription)
    }
  }

  func testFramingNamesInAnyCase() {
    for name in ReplyHeaderRules.framingNames {
      XCTAssertTrue(check(name, ReplyHeaderRules.isFramingName), name)
      XCTAssertTrue(check(name.uppercased(), ReplyHeaderRules.isFramingName), name)
      XCTAssertTrue(check(name.lowercased(), ReplyHeaderRules.isFramingName), name)
    }
    XCTAssertEqual(ReplyHeaderRules.framingNames.count, 6)
    for other in ["Content-Type", "Content-Lengths", "X-Date", "Dat", "Keep_Alive", "Upgrades"] {
      XCTAssertFalse(check(other, ReplyHeaderRules.isFramingName), other)
    }
  }

  /// Only letters are folded: '\r' | 0x20 is '-', and must not make a name that is not a
  /// token pass for Content-Length (what a check folding every byte would do).
  func testFoldingOnlyTouchesLetters() {
    XCTAssertFalse(check("content\rlength", ReplyHeaderRules.isFramingName))
    XCTAssertFalse(check("keep\ralive", ReplyHeaderRules.isFramingName))
    XCTAssertFalse(check("d@te", ReplyHeaderRules.isFramingName), "'@' | 0x20 is '`', not 'a'")
  }

  /// A block passes exactly when each of its lines passes the name and value rules one by one:
  /// the front's check and the worker library's cannot disagree.
  func testBlockAgreesWithTheLineRules() {
    let lines: [(String, String)] = [
      ("X-A", "b"), ("Content-Type", "text/plain"), ("X-Empty", ""), ("Date", "now"),
      ("X A", "b"), ("X-B", "a\rb"), ("Connection", "close"), ("X-Tab", "a\tb"),
    ]
    for (name, value) in lines {
      let expected =
        check(name, ReplyHeaderRules.isName) && check(value, ReplyHeaderRules.isValue)
        && !check(name, ReplyHeaderRules.isFramingName)
      let block = "X-First: 1\r\n\(name): \(value)\r\n"
      XCTAssertEqual(check(block, ReplyHeaderRules.isValidBlock), expected, block.debugDescription)
    }
  }
}
