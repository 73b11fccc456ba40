/// The rules for the header lines a worker adds to a reply, in one place for every side that
/// applies them: the worker library refuses a header that breaks them (ReplyWriter), the Lua
/// worker checks a handler's headers before its reply starts (a started reply cannot become a
/// 500), and the front checks the block it copied from an UNTRUSTED worker before sending it
/// after its own status line. Anything looser would let a worker end the head early or smuggle
/// a second response onto a keep-alive connection.
///
/// - A name is a token (RFC 9110 §5.6.2).
/// - A value holds HTAB and bytes from SP up, but no DEL: no CR, LF or other control.
/// - The front owns framing and connection management: Content-Length, Transfer-Encoding,
///   Connection, Keep-Alive, Upgrade and Date (the front writes its cached one) are its own.
///
/// These run for every header of every reply: byte compares and bit masks, no allocation, and
/// inlinable so that each caller's module compiles them into its own loop.
public enum ReplyHeaderRules {
  /// The header names the front writes itself, for messages that list them.
  public static let framingNames = [
    "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Date",
  ]

  /// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|"
  /// / "~" / DIGIT / ALPHA, as bits of two 64-bit masks (bytes 0...63 and 64...127).
  @inlinable @inline(__always)
  public static func isTokenByte(_ byte: UInt8) -> Bool {
    let low: UInt64 = 0x03ff_6cfa_0000_0000
    let high: UInt64 = 0x57ff_ffff_c7ff_fffe
    if byte < 64 { return low >> UInt64(byte) & 1 != 0 }
    if byte < 128 { return high >> UInt64(byte &- 64) & 1 != 0 }
    return false
  }

  /// Whether `byte` may stand in a field value: HTAB, or anything from SP up but DEL (bytes
  /// from 0x80 are obs-text, allowed).
  @inlinable @inline(__always)
  public static func isValueByte(_ byte: UInt8) -> Bool {
    byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
  }

  /// Whether `name` is a header name: one or more token bytes.
  @inlinable
  public static func isName(_ name: UnsafeRawBufferPointer) -> Bool {
    guard !name.isEmpty else { return false }
    for byte in name where !isTokenByte(byte) { return false }
    return true
  }

  /// Whether `value` is a header value (possibly empty).
  @inlinable
  public static func isValue(_ value: UnsafeRawBufferPointer) -> Bool {
    for byte in value where !isValueByte(byte) { return false }
    return true
  }

  /// Whether `name` is one of the framing headers the front writes itself (ASCII
  /// case-insensitive). Lengths first: most names (Content-Type, Cache-Control...) are ruled
  /// out by their length alone.
  @inlinable
  public static func isFramingName(_ name: UnsafeRawBufferPointer) -> Bool {
    switch name.count {
    case 4: return equalsLowercase(name, "date")
    case 7: return equalsLowercase(name, "upgrade")
    case 10: return equalsLowercase(name, "connection") || equalsLowercase(name, "keep-alive")
    case 14: return equalsLowercase(name, "content-length")
    case 17: return equalsLowercase(name, "transfer-encoding")
    default: return false
    }
  }

  /// Whether `block` is zero or more lines "Name:value\r\n" by these rules: a name, a colon,
  /// a value (the ": " separator's space is part of it), CRLF, and no CR or LF anywhere else.
  @inlinable
  public static func isValidBlock(_ block: UnsafeRawBufferPointer) -> Bool {
    let count = block.count
    guard count > 0, let base = block.baseAddress else { return true }
    var index = 0
    while index < count {
      let nameStart = index
      while index < count && isTokenByte(base.load(fromByteOffset: index, as: UInt8.self)) {
        index &+= 1
      }
      guard index > nameStart, index < count,
        base.load(fromByteOffset: index, as: UInt8.self) == 0x3A,
        !isFramingName(UnsafeRawBufferPointer(start: base + nameStart, count: index &- nameStart))
      else { return false }
      index &+= 1
      while index < count && isValueByte(base.load(fromByteOffset: index, as: UInt8.self)) {
        index &+= 1
      }
      guard index &+ 1 < count, base.load(fromByteOffset: index, as: UInt8.self) == 0x0D,
        base.load(fromByteOffset: index &+ 1, as: UInt8.self) == 0x0A
      else { return false }
      index &+= 2
    }
    return true
  }

  /// ASCII case-insensitive comparison with a lower-case literal of the same length as `name`.
  /// Only letters are folded, so that no other byte (CR against '-') can pass for a letter.
  @inlinable @inline(__always)
  static func equalsLowercase(_ name: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
    let expected = literal.utf8Start
    for index in 0..<name.count {
      let byte = name[index]
      let folded = byte &- 0x41 < 26 ? byte | 0x20 : byte
      if folded != expected[index] { return false }
    }
    return true
  }
}
