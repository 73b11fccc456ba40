/// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1):
///
///     chunked-body = *chunk last-chunk trailer-section CRLF
///     chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
///
/// A byte-at-a-time state machine for the framing and bulk copies for the data, so input
/// may be split anywhere. Chunk extensions are checked for stray control bytes and ignored;
/// trailer fields are checked like header fields and discarded (the front forwards none).
public struct ChunkedDecoder {
  private enum State: UInt8 {
    case size, sizeSpace, extensions, sizeLF
    case data, dataCR, dataLF
    case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
    case complete
  }

  private let maxBodyLength: Int
  private let maxLineLength: Int
  private let maxTrailerLength: Int
  private var state = State.size
  private var chunkSize = 0
  private var sawDigit = false
  private var remaining = 0
  private var lineLength = 0
  private var trailerLength = 0
  private var failure: HTTPError?
  public private(set) var decodedLength = 0

  /// Last chunk and trailer section seen.
  public var isComplete: Bool { state == .complete }

  /// - maxBodyLength: decoded bytes allowed in total (413 beyond).
  /// - maxLineLength: a chunk-size line with its extensions (400 beyond: no client needs
  ///   kilobytes of extensions, and this keeps the decoder from reading them forever).
  /// - maxTrailerLength: the trailer section (431 beyond, like an over-long head).
  public init(maxBodyLength: Int, maxLineLength: Int = 4096, maxTrailerLength: Int = 32768) {
    self.maxBodyLength = maxBodyLength
    self.maxLineLength = maxLineLength
    self.maxTrailerLength = maxTrailerLength
  }

  /// The body and trailer limits the head was parsed with.
  public init(limits: HTTPLimits) {
    self.init(maxBodyLength: limits.maxBodyLength, maxTrailerLength: limits.maxHeadLength)
  }

  /// Decodes as much of `input` as it can, passing body bytes to `emit` (possibly several
  /// times); returns how many input bytes it consumed: all of them, unless the body ends
  /// inside `input`, in which case it stops right after the final CRLF. After an error,
  /// every call throws that error again.
  public mutating func decode(
    _ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void
  ) throws(HTTPError) -> Int {
    if let failure { throw failure }
    do throws(HTTPError) {
      return try run(input, emit: emit)
    } catch {
      failure = error
      throw error
    }
  }

  private mutating func run(
    _ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void
  ) throws(HTTPError) -> Int {
    let b = Bytes(input)
    let n = b.count
    var i = 0
    while i < n {
      if state == .data {
        let take = min(remaining, n &- i)
        emit(UnsafeRawBufferPointer(rebasing: input[i..<(i &+ take)]))
        i &+= take
        remaining &-= take
        decodedLength &+= take
        if remaining == 0 { state = .dataCR }
        continue
      }
      if state == .complete { return i }
      try step(b[i])
      i &+= 1
      if state == .complete { return i }
    }
    return i
  }

  /// Advances the framing state machine by one byte (every state but data and complete).
  @inline(__always)
  private mutating func step(_ c: UInt8) throws(HTTPError) {
    switch state {
    case .size, .sizeSpace, .extensions:
      lineLength &+= 1
      if lineLength > maxLineLength { throw .badRequest("chunk size line too long") }
      try stepSizeLine(c)
    case .sizeLF:
      if c != lf { throw .badRequest("bare CR") }
      lineLength = 0
      if chunkSize == 0 {
        state = .trailerLineStart
      } else {
        remaining = chunkSize
        state = .data
      }
    case .dataCR:
      if c != cr { throw .badRequest("chunk data not followed by CRLF") }
      state = .dataLF
    case .dataLF:
      if c != lf { throw .badRequest("chunk data not followed by CRLF") }
      chunkSize = 0
      sawDigit = false
      state = .size
    case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
      trailerLength &+= 1
      if trailerLength > maxTrailerLength {
        throw HTTPError(status: 431, reason: "trailer section too large")
      }
      try stepTrailer(c)
    case .data, .complete:
      break  // handled by run
    }
  }

  /// chunk-size [ chunk-ext ] CR, with chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ).
  private mutating func stepSizeLine(_ c: UInt8) throws(HTTPError) {
    switch state {
    case .size:
      if let digit = hexValue(c) {
        let (times16, o1) = chunkSize.multipliedReportingOverflow(by: 16)
        let (sum, o2) = times16.addingReportingOverflow(digit)
        if o1 || o2 { throw .badRequest("chunk size overflow") }
        chunkSize = sum
        sawDigit = true
        return
      }
      if !sawDigit { throw .badRequest("invalid chunk size") }
      // The size is known once its digits end: refuse it before reading any of its data.
      if chunkSize > maxBodyLength &- decodedLength {
        throw HTTPError(status: 413, reason: "chunked body over limit")
      }
      if c == cr {
        state = .sizeLF
      } else if c == 0x3B {
        state = .extensions
      } else if c == sp || c == htab {
        state = .sizeSpace
      } else {
        throw .badRequest(c == lf ? "bare LF" : "invalid chunk size")
      }
    case .sizeSpace:
      // BWS is only allowed before a ';', never before the CRLF.
      if c == 0x3B {
        state = .extensions
      } else if c != sp && c != htab {
        throw .badRequest("invalid chunk extension")
      }
    default:  // .extensions: names, values, quoted strings; only the line end matters here
      if c == cr {
        state = .sizeLF
      } else if c == lf {
        throw .badRequest("bare LF")
      } else if (c < 0x20 && c != htab) || c == 0x7F {
        throw .badRequest("control character in chunk extension")
      }
    }
  }

  /// trailer-section = *( field-line CRLF ), then the final CRLF.
  private mutating func stepTrailer(_ c: UInt8) throws(HTTPError) {
    switch state {
    case .trailerLineStart:
      if c == cr {
        state = .finalLF
      } else if isTokenByte(c) {
        state = .trailerName
      } else if c == sp || c == htab {
        throw .badRequest("obsolete line folding in trailer")
      } else {
        throw .badRequest(c == lf ? "bare LF" : "invalid trailer field")
      }
    case .trailerName:
      if c == 0x3A {
        state = .trailerValue
      } else if !isTokenByte(c) {
        throw .badRequest("invalid trailer field")
      }
    case .trailerValue:
      if c == cr {
        state = .trailerLF
      } else if c == lf {
        throw .badRequest("bare LF")
      } else if (c < 0x20 && c != htab) || c == 0x7F {
        throw .badRequest("control character in trailer value")
      }
    case .trailerLF:
      if c != lf { throw .badRequest("bare CR") }
      state = .trailerLineStart
    default:  // .finalLF
      if c != lf { throw .badRequest("bare CR") }
      state = .complete
    }
  }
}
