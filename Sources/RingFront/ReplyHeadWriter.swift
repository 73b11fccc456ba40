import Glibc
import HTTP1

/// What the Connection header of a reply says.
enum ConnectionDirective {
  /// HTTP/1.1 keep-alive: the default, nothing to write.
  case implicit
  /// HTTP/1.0 keep-alive must be confirmed.
  case keepAlive
  case close
}

/// Writes the part of a reply head the front owns: status line, Date, Content-Length and
/// Connection. The front owns framing so a handler (or a worker behind it) can never desync a
/// client connection.
struct ReplyHeadWriter {
  /// Longest head this writer produces: status line (64) + Date (37) + Content-Length (38) +
  /// Connection (24), rounded up.
  static let maxLength = 192

  private var statusLines = StatusLineTable()
  private var dateLine = HTTPDateLine()
  private var dateSecond = Int.min
  private let dateBytes = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
  private var dateLength = 0

  /// Writes the head into `destination` (at least `maxLength` bytes) and returns its length.
  /// `contentLength` nil omits the header (1xx, 204, 304, and streamed replies of unknown
  /// length); `chunked` adds `Transfer-Encoding: chunked` (a streamed reply of unknown length
  /// to an HTTP/1.1 client).
  mutating func write(
    into destination: UnsafeMutableRawPointer, status: Int, contentLength: Int?,
    connection: ConnectionDirective, unixSeconds: Int, chunked: Bool = false
  ) -> Int {
    var p = destination
    p += statusLines.write(status, to: p)
    p += copyDate(to: p, unixSeconds: unixSeconds)
    if let length = contentLength {
      p += Self.copy("Content-Length: ", to: p)
      p += Self.writeDecimal(length, to: p)
      p += Self.copy("\r\n", to: p)
    } else if chunked {
      p += Self.copy("Transfer-Encoding: chunked\r\n", to: p)
    }
    switch connection {
    case .implicit: break
    case .keepAlive: p += Self.copy("Connection: keep-alive\r\n", to: p)
    case .close: p += Self.copy("Connection: close\r\n", to: p)
    }
    return p - destination
  }

  /// The Date line changes once per second; HTTP1 formats it, this keeps the copy.
  private mutating func copyDate(to destination: UnsafeMutableRawPointer, unixSeconds: Int) -> Int {
    if unixSeconds != dateSecond {
      let line = dateLine.line(forUnixSeconds: unixSeconds)
      dateLength = min(line.count, 64)
      dateBytes.copyMemory(from: line.baseAddress!, byteCount: dateLength)
      dateSecond = unixSeconds
    }
    destination.copyMemory(from: dateBytes, byteCount: dateLength)
    return dateLength
  }

  @inline(__always)
  static func copy(_ text: StaticString, to destination: UnsafeMutableRawPointer) -> Int {
    destination.copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
    return text.utf8CodeUnitCount
  }

  /// A chunk-size line's number: lowercase hex without leading zeros; returns the digit count.
  static func writeHex(_ value: Int, to destination: UnsafeMutableRawPointer) -> Int {
    let digits: StaticString = "0123456789abcdef"
    var count = 1
    while count < 16 && value >> (4 * count) != 0 { count += 1 }
    for i in 0..<count {
      let nibble = (value >> (4 * (count - 1 - i))) & 0xF
      destination.storeBytes(of: digits.utf8Start[nibble], toByteOffset: i, as: UInt8.self)
    }
    return count
  }

  /// Non-negative decimal without allocating; returns the digit count.
  static func writeDecimal(_ value: Int, to destination: UnsafeMutableRawPointer) -> Int {
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for Int.max
    var v = UInt64(max(value, 0))
    var count = 0
    withUnsafeMutableBytes(of: &digits) { scratch in
      repeat {
        scratch[23 - count] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
        v /= 10
        count += 1
      } while v > 0
      destination.copyMemory(from: scratch.baseAddress! + 24 - count, byteCount: count)
    }
    return count
  }
}
