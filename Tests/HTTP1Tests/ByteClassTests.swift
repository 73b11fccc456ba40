import XCTest

@testable import HTTP1

/// The parser's character class table against the character lists of the RFCs.
final class ByteClassTests: XCTestCase {
  private let alpha = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
  private let digit = Set("0123456789".utf8)

  func testTableCoversEveryByte() {
    XCTAssertEqual(classTable.utf8CodeUnitCount, 256)
  }

  func testTargetMask() {
    for b in 0...255 {
      let plain = b > 0x20 && b < 0x7F && b != 0x23 && b != 0x3F
      XCTAssertEqual(isPlainTargetByte(UInt8(b)), plain, "byte \(b)")
    }
  }

  func testTokenMask() {
    let tchar = alpha.union(digit).union("!#$%&'*+-.^_`|~".utf8)
    for b in 0...255 {
      XCTAssertEqual(isTokenByte(UInt8(b)), tchar.contains(UInt8(b)), "byte \(b)")
    }
  }

  func testHostMask() {
    let host = alpha.union(digit).union("-._~%!$&'()*+,;=:[]".utf8)
    for b in 0...255 { XCTAssertEqual(isHostByte(UInt8(b)), host.contains(UInt8(b)), "byte \(b)") }
  }

  func testSchemeMask() {
    let scheme = alpha.union(digit).union("+-.".utf8)
    for b in 0...255 {
      XCTAssertEqual(isSchemeByte(UInt8(b)), scheme.contains(UInt8(b)), "byte \(b)")
    }
  }

  func testHexAndDigits() {
    for b in 0...255 {
      let c = UInt8(b)
      XCTAssertEqual(
        hexValue(c),
        Int(String(UnicodeScalar(c)), radix: 16).flatMap {
          digit.union("abcdefABCDEF".utf8).contains(c) ? $0 : nil
        })
      XCTAssertEqual(isDigit(c), digit.contains(c))
      XCTAssertEqual(isAlpha(c), alpha.contains(c))
    }
  }

  func testWordScanMatchesByteScan() {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      let count = Int.random(in: 0..<40, using: &generator)
      let bytes = (0..<count).map { _ -> UInt8 in
        // Mostly printable, sometimes a control byte, DEL or high byte.
        switch Int.random(in: 0..<20, using: &generator) {
        case 0: return UInt8.random(in: 0..<0x20, using: &generator)
        case 1: return 0x7F
        case 2: return UInt8.random(in: 0x80...0xFF, using: &generator)
        default: return UInt8.random(in: 0x20..<0x7F, using: &generator)
        }
      }
      let expected = bytes.firstIndex { $0 < 0x20 || $0 == 0x7F } ?? count
      let start = count > 0 ? Int.random(in: 0...min(expected, count), using: &generator) : 0
      let found = bytes.withUnsafeBytes { firstControlByte(Bytes($0), from: start, to: count) }
      XCTAssertEqual(found, expected, "\(bytes)")
    }
  }
}
