import CRingABI
import Glibc
import HTTP1
import RingChannel

/// What the access log lines of a connection need: the client's address as text (formatted once,
/// at accept), and from the current request's head the request line, Referer and User-Agent,
/// copied out when the request is handed to the handler (the receive buffer is reused as soon
/// as `handle` returns) or when the front refuses it. Each is cut at a bounded length, so a
/// connection's capture is one fixed block, allocated with the connection slot and reused by
/// every request on it: nothing is allocated per request.
struct AccessLogCapture {
  static let requestLineLimit = 2048
  static let fieldLimit = 512
  private static let refererOffset = requestLineLimit
  private static let userAgentOffset = requestLineLimit + fieldLimit
  private static let addressOffset = requestLineLimit + 2 * fieldLimit
  private static let storageSize = addressOffset + rb_endpoint.maximumTextLength

  private let storage: UnsafeMutableRawPointer
  /// Bytes of the request line kept. Parsed: "METHOD TARGET" (the version is `versionMinor`);
  /// not parsed (the front refused the request): the raw line up to its first CR or LF.
  private(set) var lineLength = 0
  /// Parsed: the method's length; the target follows after one space.
  private(set) var methodLength = 0
  /// 0 or 1 for a parsed request line (HTTP/1.x); -1 when it was not parsed.
  private(set) var versionMinor = -1
  /// -1: the request had no such field.
  private(set) var refererLength = -1
  private(set) var userAgentLength = -1
  /// Holds the connection's current request (false once its line is written).
  var isCurrent = false
  /// The client's address text ("127.0.0.1"); 0: none (`-` in the line).
  private(set) var addressLength = 0

  init() { storage = .allocate(byteCount: Self.storageSize, alignment: 16) }

  func release() { storage.deallocate() }

  var isParsed: Bool { versionMinor >= 0 }
  var requestLine: UnsafeRawBufferPointer { bytes(at: 0, count: lineLength) }
  var method: UnsafeRawBufferPointer { bytes(at: 0, count: methodLength) }
  var target: UnsafeRawBufferPointer {
    bytes(at: methodLength + 1, count: max(lineLength - methodLength - 1, 0))
  }
  var referer: UnsafeRawBufferPointer? {
    refererLength < 0 ? nil : bytes(at: Self.refererOffset, count: refererLength)
  }
  var userAgent: UnsafeRawBufferPointer? {
    userAgentLength < 0 ? nil : bytes(at: Self.userAgentOffset, count: userAgentLength)
  }
  var address: UnsafeRawBufferPointer { bytes(at: Self.addressOffset, count: addressLength) }

  /// A new connection from `remote`: its address text, once for all its requests (glibc's
  /// inet_ntop formats with sprintf, too slow for every line).
  mutating func noteClient(_ remote: rb_endpoint) {
    addressLength = remote.formatAddress(
      into: (storage + Self.addressOffset).assumingMemoryBound(to: CChar.self))
  }

  /// A request the handler gets: method and target from the parse (the target cut to what
  /// fits), and the two fields.
  mutating func capture(head: UnsafeRawBufferPointer, parsed: RequestHead) {
    let limit = Self.requestLineLimit
    methodLength = min(parsed.method.count, limit)
    lineLength = copy(head, parsed.method.lowerBound, methodLength, to: 0)
    if lineLength < limit {
      storage.storeBytes(of: 0x20, toByteOffset: lineLength, as: UInt8.self)
      lineLength += 1
      lineLength += copy(
        head, parsed.target.lowerBound, min(parsed.target.count, limit - lineLength),
        to: lineLength)
    }
    versionMinor = parsed.versionMinor
    captureFields(head, parsed.headers)
    isCurrent = true
  }

  /// A request the front refuses before the handler has it (400, 408, 413, 414, 431, 501...):
  /// the raw bytes of its line as far as they came, like nginx's $request for such requests
  /// (from the first byte that is not CR or LF up to the next CR or LF). `headers` are the
  /// fields parsed before the parser gave up, relative to `bytes`, when it got that far.
  mutating func captureUnparsed(_ bytes: UnsafeRawBufferPointer, headers: [HeaderField]) {
    var start = 0
    while start < bytes.count && (bytes[start] == 0x0D || bytes[start] == 0x0A) { start += 1 }
    var end = start
    let limit = min(bytes.count, start + Self.requestLineLimit)
    while end < limit && bytes[end] != 0x0D && bytes[end] != 0x0A { end += 1 }
    lineLength = copy(bytes, start, end - start, to: 0)
    methodLength = 0
    versionMinor = -1
    captureFields(bytes, headers)
    isCurrent = true
  }

  /// Referer and User-Agent: the first field of each name (names are case-insensitive).
  private mutating func captureFields(_ head: UnsafeRawBufferPointer, _ headers: [HeaderField]) {
    refererLength = -1
    userAgentLength = -1
    for field in headers {
      // Ranges from a parse of these very bytes; checked anyway, so that a stale one can only
      // lose the field, never read outside the buffer.
      guard field.value.upperBound <= head.count, field.name.upperBound <= head.count else {
        continue
      }
      if refererLength < 0 && Self.nameIs(head, field.name, "referer") {
        refererLength = copy(
          head, field.value.lowerBound, min(field.value.count, Self.fieldLimit),
          to: Self.refererOffset)
      } else if userAgentLength < 0 && Self.nameIs(head, field.name, "user-agent") {
        userAgentLength = copy(
          head, field.value.lowerBound, min(field.value.count, Self.fieldLimit),
          to: Self.userAgentOffset)
      }
      if refererLength >= 0 && userAgentLength >= 0 { break }
    }
  }

  /// Case-insensitive comparison with a lowercase name of letters and '-' (field names are
  /// tokens, so folding with 0x20 is exact for them).
  private static func nameIs(
    _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercase: StaticString
  ) -> Bool {
    guard range.count == lowercase.utf8CodeUnitCount else { return false }
    for k in 0..<range.count where bytes[range.lowerBound + k] | 0x20 != lowercase.utf8Start[k] {
      return false
    }
    return true
  }

  private func copy(
    _ source: UnsafeRawBufferPointer, _ start: Int, _ count: Int, to offset: Int
  ) -> Int {
    if count > 0 {
      (storage + offset).copyMemory(from: source.baseAddress! + start, byteCount: count)
    }
    return count
  }

  private func bytes(at offset: Int, count: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: storage + offset, count: count)
  }
}

/// What the handler said about the reply it is about to queue (FrontLoop.noteUpstream): the
/// worker that wrote it, the request id that worker saw, and how long it took there.
struct UpstreamNote {
  /// -1: no worker (the front or the handler answered itself).
  var worker = -1
  /// 0: the request got no id.
  var requestID: UInt64 = 0
  /// UInt64.max: not measured.
  var nanoseconds = UInt64.max
}
