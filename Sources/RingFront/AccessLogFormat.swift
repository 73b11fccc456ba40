import Glibc

/// The shape of access log lines (--access-log-format).
public enum AccessLogFormat: String, CaseIterable, Sendable {
  /// nginx's "combined", then ` rid=ID worker=N upstream=SECONDS` (each `-` when the reply has
  /// none): `$remote_addr - - [$time_local] "$request" $status $body_bytes_sent
  /// "$http_referer" "$http_user_agent" rid=… worker=… upstream=…`.
  case combined
  /// One JSON object a line.
  case json
}

/// One line's facts besides what the connection captured (AccessLogCapture).
struct AccessLogRecord {
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
    p += Self.writeAddress(capture.address, to: p)
    p += Self.copy(" - - [", to: p)
    p.copyMemory(from: time.local, byteCount: AccessLogTime.localLength)
    p += AccessLogTime.localLength
    p += Self.copy("] \"", to: p)
    p += Self.writeRequestLine(capture, .nginx, to: p)
    p += Self.copy("\"", to: p)
    p += Self.writeTail(record, capture, .combined, .nginx, to: p)
    p += Self.copy("\n", to: p)
    return p - start
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
    p += AccessLogTime.put(Int(record.unixNanoseconds / 1_000_000 % 1000), digits: 3, to: p)
    p += Self.copy("Z\",\"remote_addr\":\"", to: p)
    p += Self.writeAddress(capture.address, to: p)
    p += Self.copy("\",\"request\":\"", to: p)
    p += Self.writeRequestLine(capture, .json, to: p)
    if capture.isParsed {
      p += Self.copy("\",\"method\":\"", to: p)
      p += Self.escape(capture.method, .json, to: p)
      p += Self.copy("\",\"target\":\"", to: p)
      p += Self.escape(capture.target, .json, to: p)
      p += Self.copy("\",\"protocol\":\"HTTP/1.", to: p)
      p += ReplyHeadWriter.writeDecimal(capture.versionMinor, to: p)
      p += Self.copy("\"", to: p)
    } else {
      p += Self.copy("\",\"method\":null,\"target\":null,\"protocol\":null", to: p)
    }
    p += Self.writeTail(record, capture, .json, .json, to: p)
    p += Self.copy("}\n", to: p)
    return p - start
  }

  // MARK: - Escaping

  /// How client bytes are written inside a quoted field.
  private enum Escaping {
    /// nginx's access log escaping: `"`, `\`, bytes below 0x20 and from 0x7F become `\xHH`.
    case nginx
    /// JSON: `"` and `\` with a backslash; well-formed UTF-8 as it is; control characters,
    /// DEL and every byte of a sequence that is not UTF-8 as `\u00hh`.
    case json

    /// What stands for a field the request did not have: nginx's not-found `"-"`, or null.
    var missing: StaticString { self == .nginx ? "\"-\"" : "null" }
  }

  /// A field in quotes, escaped; `Escaping.missing` when the request had no such field.
  private static func writeField(
    _ bytes: UnsafeRawBufferPointer?, _ escaping: Escaping, to p: UnsafeMutableRawPointer
  ) -> Int {
    guard let bytes else { return copy(escaping.missing, to: p) }
    var length = copy("\"", to: p)
    length += escape(bytes, escaping, to: p + length)
    return length + copy("\"", to: p + length)
  }

  private static func escape(
    _ bytes: UnsafeRawBufferPointer, _ escaping: Escaping, to p: UnsafeMutableRawPointer
  ) -> Int {
    var out = 0
    var i = 0
    while i < bytes.count {
      let byte = bytes[i]
      let sequence = escaping == .json && byte >= 0x80 ? utf8SequenceLength(bytes, at: i) : 0
      if sequence > 0 {
        (p + out).copyMemory(from: bytes.baseAddress! + i, byteCount: sequence)
        out += sequence
        i += sequence
        continue
      }
      i += 1
      if byte >= 0x20 && byte < 0x7F && byte != 0x22 && byte != 0x5C {
        p.storeBytes(of: byte, toByteOffset: out, as: UInt8.self)
        out += 1
      } else if escaping == .nginx {
        out += copy("\\x", to: p + out)
        out += writeHexByte(byte, uppercase: true, to: p + out)
      } else if byte == 0x22 || byte == 0x5C {
        p.storeBytes(of: 0x5C, toByteOffset: out, as: UInt8.self)
        p.storeBytes(of: byte, toByteOffset: out + 1, as: UInt8.self)
        out += 2
      } else {
        out += copy("\\u00", to: p + out)
        out += writeHexByte(byte, uppercase: false, to: p + out)
      }
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

  /// The request line as the client sent it, escaped (cut at AccessLogCapture's limit).
  private static func writeRequestLine(
    _ capture: AccessLogCapture, _ escaping: Escaping, to start: UnsafeMutableRawPointer
  ) -> Int {
    var p = start
    p += escape(capture.requestLine, escaping, to: p)
    if capture.isParsed {
      p += copy(" HTTP/1.", to: p)
      p += ReplyHeadWriter.writeDecimal(capture.versionMinor, to: p)
    }
    return p - start
  }

  /// The labels before the values both formats end a line with, in the same order.
  private struct TailLabels {
    var status, bodyBytes, referer, userAgent, requestID, worker, upstream: StaticString

    static let combined = TailLabels(
      status: " ", bodyBytes: " ", referer: " ", userAgent: " ", requestID: " rid=",
      worker: " worker=", upstream: " upstream=")
    static let json = TailLabels(
      status: ",\"status\":", bodyBytes: ",\"bytes\":", referer: ",\"referer\":",
      userAgent: ",\"user_agent\":", requestID: ",\"request_id\":", worker: ",\"worker\":",
      upstream: ",\"upstream_time\":")
  }

  /// Status, body bytes, the two fields, then what the handler noted (FrontLoop.noteUpstream):
  /// the request id (a string in JSON: ids use all 64 bits, more than a JSON number keeps
  /// exactly in most parsers), the worker and the upstream time; `-` or null for those the
  /// reply lacks.
  private static func writeTail(
    _ record: AccessLogRecord, _ capture: AccessLogCapture, _ labels: TailLabels,
    _ escaping: Escaping, to start: UnsafeMutableRawPointer
  ) -> Int {
    let upstream = record.upstream
    let missing: StaticString = escaping == .nginx ? "-" : "null"
    let idQuote: StaticString = escaping == .nginx ? "" : "\""
    var p = start
    p += copy(labels.status, to: p)
    p += ReplyHeadWriter.writeDecimal(record.status, to: p)
    p += copy(labels.bodyBytes, to: p)
    p += ReplyHeadWriter.writeDecimal(record.bodyBytes, to: p)
    p += copy(labels.referer, to: p)
    p += writeField(capture.referer, escaping, to: p)
    p += copy(labels.userAgent, to: p)
    p += writeField(capture.userAgent, escaping, to: p)
    p += copy(labels.requestID, to: p)
    if upstream.requestID == 0 {
      p += copy(missing, to: p)
    } else {
      p += copy(idQuote, to: p)
      p += writeUnsigned(upstream.requestID, to: p)
      p += copy(idQuote, to: p)
    }
    p += copy(labels.worker, to: p)
    p +=
      upstream.worker < 0
      ? copy(missing, to: p) : ReplyHeadWriter.writeDecimal(upstream.worker, to: p)
    p += copy(labels.upstream, to: p)
    p +=
      upstream.nanoseconds == .max
      ? copy(missing, to: p) : writeSeconds(upstream.nanoseconds, to: p)
    return p - start
  }

  // MARK: - Pieces

  /// The client's address ("127.0.0.1", "::1"), or `-` when it has none.
  private static func writeAddress(_ text: UnsafeRawBufferPointer, to p: UnsafeMutableRawPointer)
    -> Int
  {
    guard text.count > 0 else { return copy("-", to: p) }
    p.copyMemory(from: text.baseAddress!, byteCount: text.count)
    return text.count
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

  /// Two hex digits; returns 2.
  private static func writeHexByte(_ byte: UInt8, uppercase: Bool, to p: UnsafeMutableRawPointer)
    -> Int
  {
    let digits: StaticString = uppercase ? "0123456789ABCDEF" : "0123456789abcdef"
    p.storeBytes(of: digits.utf8Start[Int(byte >> 4)], as: UInt8.self)
    p.storeBytes(of: digits.utf8Start[Int(byte & 0xF)], toByteOffset: 1, as: UInt8.self)
    return 2
  }

  @inline(__always)
  private static func copy(_ text: StaticString, to p: UnsafeMutableRawPointer) -> Int {
    ReplyHeadWriter.copy(text, to: p)
  }
}
