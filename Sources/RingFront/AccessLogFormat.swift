import CRingABI
import Glibc
import RingChannel

/// The shape of access log lines (--access-log-format).
public enum AccessLogFormat: String, CaseIterable, Sendable {
  /// nginx's "combined", then ` rid=ID worker=N upstream=SECONDS` (each `-` when the reply has
  /// none): `$remote_addr - - [$time_local] "$request" $status $body_bytes_sent
  /// "$http_referer" "$http_user_agent" rid=… worker=… upstream=…`.
  case combined
  /// One JSON object a line.
  case json
}

/// One line's facts besides what the connection captured from the request head.
struct AccessLogRecord {
  var remote: rb_endpoint
  /// CLOCK_REALTIME when the reply was recorded.
  var unixNanoseconds: UInt64
  var status: Int
  var bodyBytes: Int
  var upstream: UpstreamNote
}

/// Writes access log lines straight into the writer's buffer with byte copies and integer
/// formatting: no String, no allocation per line. The policy (what a line says and how it is
/// escaped); AccessLogWriter is the mechanism that gets the lines to the file.
///
/// Client bytes never break a line. Combined escapes `"`, `\`, bytes below 0x20 and from 0x7F
/// as `\xHH`, as nginx does; JSON escapes `"` and `\` with a backslash, keeps well-formed
/// UTF-8, and writes control characters, DEL and bytes that are not UTF-8 as `\u00hh` (the
/// byte's value), so a line is always valid UTF-8 and valid JSON.
final class AccessLogFormatter {
  let format: AccessLogFormat
  private let time = AccessLogTime()

  init(format: AccessLogFormat) { self.format = format }

  /// Bytes a line for `capture` can take at most: every captured byte escaped (JSON writes the
  /// request line twice: whole, and as method and target), plus the fixed part.
  static func maximumLength(_ capture: AccessLogCapture) -> Int {
    let fields = max(capture.refererLength, 0) + max(capture.userAgentLength, 0)
    return 512 + 12 * capture.lineLength + 6 * fields
  }

  /// Writes the line, newline included, at `start` (room for `maximumLength`); returns its
  /// length.
  func write(
    _ record: AccessLogRecord, _ capture: AccessLogCapture, to start: UnsafeMutableRawPointer
  ) -> Int {
    time.update(unixSeconds: Int(record.unixNanoseconds / 1_000_000_000))
    switch format {
    case .combined: return writeCombined(record, capture, to: start)
    case .json: return writeJSON(record, capture, to: start)
    }
  }

  // MARK: - combined

  private func writeCombined(
    _ record: AccessLogRecord, _ capture: AccessLogCapture, to start: UnsafeMutableRawPointer
  ) -> Int {
    var p = start
    p += Self.writeAddress(record.remote, to: p)
    p += Self.copy(" - - [", to: p)
    p.copyMemory(from: time.local, byteCount: AccessLogTime.localLength)
    p += AccessLogTime.localLength
    p += Self.copy("] \"", to: p)
    p += Self.escapeCombined(capture.requestLine, to: p)
    if capture.isParsed {
      p += Self.copy(" HTTP/1.", to: p)
      p += ReplyHeadWriter.writeDecimal(capture.versionMinor, to: p)
    }
    p += Self.copy("\" ", to: p)
    p += ReplyHeadWriter.writeDecimal(record.status, to: p)
    p += Self.copy(" ", to: p)
    p += ReplyHeadWriter.writeDecimal(record.bodyBytes, to: p)
    p += Self.copy(" \"", to: p)
    p += Self.combinedField(capture.referer, to: p)
    p += Self.copy("\" \"", to: p)
    p += Self.combinedField(capture.userAgent, to: p)
    p += Self.copy("\" rid=", to: p)
    let upstream = record.upstream
    p +=
      upstream.requestID == 0
      ? Self.copy("-", to: p) : Self.writeUnsigned(upstream.requestID, to: p)
    p += Self.copy(" worker=", to: p)
    p +=
      upstream.worker < 0
      ? Self.copy("-", to: p) : ReplyHeadWriter.writeDecimal(upstream.worker, to: p)
    p += Self.copy(" upstream=", to: p)
    p +=
      upstream.nanoseconds == .max
      ? Self.copy("-", to: p) : Self.writeSeconds(upstream.nanoseconds, to: p)
    p += Self.copy("\n", to: p)
    return p - start
  }

  /// A field's escaped bytes; `-` when the request had no such field (nginx's not-found value).
  private static func combinedField(_ bytes: UnsafeRawBufferPointer?, to p: UnsafeMutableRawPointer)
    -> Int
  {
    guard let bytes else { return copy("-", to: p) }
    return escapeCombined(bytes, to: p)
  }

  /// nginx's access log escaping: `"`, `\`, bytes below 0x20 and from 0x7F become `\xHH`.
  private static func escapeCombined(_ bytes: UnsafeRawBufferPointer, to p: UnsafeMutableRawPointer)
    -> Int
  {
    var out = 0
    for byte in bytes {
      if byte < 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C {
        p.storeBytes(of: 0x5C, toByteOffset: out, as: UInt8.self)
        p.storeBytes(of: 0x78, toByteOffset: out + 1, as: UInt8.self)
        writeHexByte(byte, uppercase: true, to: p + out + 2)
        out += 4
      } else {
        p.storeBytes(of: byte, toByteOffset: out, as: UInt8.self)
        out += 1
      }
    }
    return out
  }

  // MARK: - json

  private func writeJSON(
    _ record: AccessLogRecord, _ capture: AccessLogCapture, to start: UnsafeMutableRawPointer
  ) -> Int {
    var p = start
    p += Self.copy("{\"time\":\"", to: p)
    p.copyMemory(from: time.utc, byteCount: AccessLogTime.utcLength)
    p += AccessLogTime.utcLength
    p += Self.copy(".", to: p)
    p += AccessLogTime.put(
      Int(record.unixNanoseconds / 1_000_000 % 1000), digits: 3, to: p)
    p += Self.copy("Z\",\"remote_addr\":\"", to: p)
    p += Self.writeAddress(record.remote, to: p)
    p += Self.copy("\",\"request\":\"", to: p)
    p += Self.escapeJSON(capture.requestLine, to: p)
    if capture.isParsed {
      p += Self.copy(" HTTP/1.", to: p)
      p += ReplyHeadWriter.writeDecimal(capture.versionMinor, to: p)
      p += Self.copy("\",\"method\":\"", to: p)
      p += Self.escapeJSON(capture.method, to: p)
      p += Self.copy("\",\"target\":\"", to: p)
      p += Self.escapeJSON(capture.target, to: p)
      p += Self.copy("\",\"protocol\":\"HTTP/1.", to: p)
      p += ReplyHeadWriter.writeDecimal(capture.versionMinor, to: p)
      p += Self.copy("\",", to: p)
    } else {
      p += Self.copy("\",\"method\":null,\"target\":null,\"protocol\":null,", to: p)
    }
    p += Self.copy("\"status\":", to: p)
    p += ReplyHeadWriter.writeDecimal(record.status, to: p)
    p += Self.copy(",\"bytes\":", to: p)
    p += ReplyHeadWriter.writeDecimal(record.bodyBytes, to: p)
    p += Self.copy(",\"referer\":", to: p)
    p += Self.jsonField(capture.referer, to: p)
    p += Self.copy(",\"user_agent\":", to: p)
    p += Self.jsonField(capture.userAgent, to: p)
    let upstream = record.upstream
    p += Self.copy(",\"request_id\":", to: p)
    if upstream.requestID == 0 {
      p += Self.copy("null", to: p)
    } else {
      // A string: ids use all 64 bits, more than a JSON number keeps exactly in most parsers.
      p += Self.copy("\"", to: p)
      p += Self.writeUnsigned(upstream.requestID, to: p)
      p += Self.copy("\"", to: p)
    }
    p += Self.copy(",\"worker\":", to: p)
    p +=
      upstream.worker < 0
      ? Self.copy("null", to: p) : ReplyHeadWriter.writeDecimal(upstream.worker, to: p)
    p += Self.copy(",\"upstream_time\":", to: p)
    p +=
      upstream.nanoseconds == .max
      ? Self.copy("null", to: p) : Self.writeSeconds(upstream.nanoseconds, to: p)
    p += Self.copy("}\n", to: p)
    return p - start
  }

  /// A quoted, escaped field; `null` when the request had no such field.
  private static func jsonField(_ bytes: UnsafeRawBufferPointer?, to p: UnsafeMutableRawPointer)
    -> Int
  {
    guard let bytes else { return copy("null", to: p) }
    var length = copy("\"", to: p)
    length += escapeJSON(bytes, to: p + length)
    return length + copy("\"", to: p + length)
  }

  /// `"` and `\` with a backslash; well-formed UTF-8 as it is; control characters, DEL and
  /// every byte of a sequence that is not UTF-8 as `\u00hh`.
  private static func escapeJSON(_ bytes: UnsafeRawBufferPointer, to p: UnsafeMutableRawPointer)
    -> Int
  {
    var out = 0
    var i = 0
    while i < bytes.count {
      let byte = bytes[i]
      let sequence = byte >= 0x80 ? utf8SequenceLength(bytes, at: i) : 0
      if sequence > 0 {
        (p + out).copyMemory(from: bytes.baseAddress! + i, byteCount: sequence)
        out += sequence
        i += sequence
        continue
      }
      if byte == 0x22 || byte == 0x5C {
        p.storeBytes(of: 0x5C, toByteOffset: out, as: UInt8.self)
        p.storeBytes(of: byte, toByteOffset: out + 1, as: UInt8.self)
        out += 2
      } else if byte < 0x20 || byte >= 0x7F {
        out += copy("\\u00", to: p + out)
        writeHexByte(byte, uppercase: false, to: p + out)
        out += 2
      } else {
        p.storeBytes(of: byte, toByteOffset: out, as: UInt8.self)
        out += 1
      }
      i += 1
    }
    return out
  }

  /// The length of the well-formed UTF-8 sequence of two to four bytes at `i` (Unicode
  /// table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF); 0 when there is none.
  private static func utf8SequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int {
    let lead = bytes[i]
    let length: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: length = 2
    case 0xE0: (length, low) = (3, 0xA0)
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED: (length, high) = (3, 0x9F)
    case 0xF0: (length, low) = (4, 0x90)
    case 0xF1...0xF3: length = 4
    case 0xF4: (length, high) = (4, 0x8F)
    default: return 0
    }
    guard i + length <= bytes.count, (low...high).contains(bytes[i + 1]) else { return 0 }
    for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return 0 }
    return length
  }

  // MARK: - Pieces

  /// The client's address ("127.0.0.1", "::1"), or `-` when it has none.
  private static func writeAddress(_ endpoint: rb_endpoint, to p: UnsafeMutableRawPointer) -> Int {
    let length = endpoint.formatAddress(into: p.assumingMemoryBound(to: CChar.self))
    return length > 0 ? length : copy("-", to: p)
  }

  /// Seconds with milliseconds, "0.001", like nginx's $upstream_response_time.
  private static func writeSeconds(_ nanoseconds: UInt64, to p: UnsafeMutableRawPointer) -> Int {
    let milliseconds = nanoseconds / 1_000_000
    var length = writeUnsigned(milliseconds / 1000, to: p)
    length += copy(".", to: p + length)
    return length + AccessLogTime.put(Int(milliseconds % 1000), digits: 3, to: p + length)
  }

  private static func writeUnsigned(_ value: UInt64, to p: UnsafeMutableRawPointer) -> Int {
    // Ids above Int.max (front threads 128 and up) in two halves: writeDecimal takes an Int.
    guard value > UInt64(Int.max) else { return ReplyHeadWriter.writeDecimal(Int(value), to: p) }
    let high = ReplyHeadWriter.writeDecimal(Int(value / 10), to: p)
    return high + ReplyHeadWriter.writeDecimal(Int(value % 10), to: p + high)
  }

  private static func writeHexByte(_ byte: UInt8, uppercase: Bool, to p: UnsafeMutableRawPointer) {
    let digits: StaticString = uppercase ? "0123456789ABCDEF" : "0123456789abcdef"
    p.storeBytes(of: digits.utf8Start[Int(byte >> 4)], as: UInt8.self)
    p.storeBytes(of: digits.utf8Start[Int(byte & 0xF)], toByteOffset: 1, as: UInt8.self)
  }

  @inline(__always)
  private static func copy(_ text: StaticString, to p: UnsafeMutableRawPointer) -> Int {
    ReplyHeadWriter.copy(text, to: p)
  }
}
