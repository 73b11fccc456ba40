/// A read-only view of the buffer being parsed. Loads go through `UnsafeRawPointer.load`
/// rather than a rebound `UnsafePointer<UInt8>` so the parser never makes assumptions about
/// how the caller's memory is bound, and there is no bounds-check overhead on the hot path:
/// every caller keeps its indices below `count` itself.
struct Bytes {
  let base: UnsafeRawPointer
  let count: Int

  @inline(__always)
  subscript(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }

  /// Eight bytes starting at `i`, any alignment; only used to test whole words for bytes
  /// that end a run, so the byte order does not matter.
  @inline(__always)
  func word(at i: Int) -> UInt64 { base.loadUnaligned(fromByteOffset: i, as: UInt64.self) }

  /// Exact, case-sensitive comparison (methods are case-sensitive, RFC 9110 §9.1).
  @inline(__always)
  func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
    guard range.count == literal.utf8CodeUnitCount else { return false }
    let lit = literal.utf8Start
    var k = 0
    while k < range.count {
      if self[range.lowerBound + k] != lit[k] { return false }
      k += 1
    }
    return true
  }

  /// Case-insensitive comparison against a lowercase literal made of letters, digits and '-'.
  /// Folding with `| 0x20` is exact here: for a letter it maps only the two cases together,
  /// and for '-' or a digit the only other byte it admits is a control character, which the
  /// callers have already rejected (field names are tokens, field values contain no CTL but
  /// HTAB, and HTAB | 0x20 is ')').
  @inline(__always)
  func equalsLowercase(_ range: Range<Int>, _ literal: StaticString) -> Bool {
    guard range.count == literal.utf8CodeUnitCount else { return false }
    let lit = literal.utf8Start
    var k = 0
    while k < range.count {
      if self[range.lowerBound + k] | 0x20 != lit[k] { return false }
      k += 1
    }
    return true
  }
}

extension Bytes {
  init(_ buffer: UnsafeRawBufferPointer) {
    // A zero-length buffer may have no base address; any non-null pointer will do then,
    // because nothing is ever loaded from it.
    base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
    count = buffer.count
  }
}
