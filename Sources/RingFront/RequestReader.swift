import Glibc
import HTTP1
import RingChannel

/// Assembles one request at a time from a connection's receive buffer: finds and parses the
/// head, then collects the body (Content-Length bodies stay in place, chunked bodies are decoded
/// into a side buffer and their framing is cut out of the receive buffer).
///
/// Pure logic, no I/O: the loop feeds it after every recv and asks what to do next.
struct RequestReader {
  enum Step: Equatable {
    /// Receive more; `bytes` is how much more at least the current request needs.
    case needMore(bytes: Int)
    /// The client asked `Expect: 100-continue` and no body byte is here yet: send the interim
    /// response, then receive.
    case sendContinue
    /// `request(in:)` is ready.
    case complete
    /// Framing error: reply with its status and close.
    case failed(HTTPError)
    /// The head is complete and the body is too large to collect (`wholeRequestLimit`): hand
    /// the request over now, without its body (`request(in:)`), after `takeBodyStream()`.
    case streamBody
  }

  private enum Phase {
    case head
    case contentLength(Int)
    case chunked
    case complete
    /// The head went to the handler alone; `takeBodyStream()` took the body's framing.
    case streamed
  }

  private var phase = Phase.head
  private(set) var head = RequestHead()
  private var headLength = 0
  private var contentLength = 0
  private var decoder: ChunkedDecoder?
  private var decoded = DecodedBody()
  private var continueHandled = false
  private var streamFraming: BodyStream.Framing?
  /// How much of the pending head was already searched for a line end: the parser runs again
  /// only when a new line arrived, so a client trickling bytes cannot make parsing quadratic.
  private var scannedUpTo = 0
  /// `head` is a parse of the bytes now at the start of the buffer (as far as they went).
  private var headIsCurrent = false

  let limits: HTTPLimits
  /// Requests needing more slot bytes than this (RequestSlotWriter.requiredBytes, body
  /// included) stream their body instead of being collected whole: FrontHandler
  /// .wholeRequestLimit. Nil: every body is collected (up to --max-body).
  var wholeRequestLimit: Int?

  init(limits: HTTPLimits) { self.limits = limits }

  /// True once the current request's head is parsed (its body may still be on its way).
  var hasHead: Bool {
    if case .head = phase { return false }
    return true
  }

  /// The parse of the head at the start of the buffer as far as it got (the fields before a
  /// parse error included; `headLength` 0 unless the head was complete), every range relative
  /// to the buffer's readable bytes; nil when `head` belongs to an earlier request. For the
  /// access log of a request the front refuses.
  func currentHead() -> RequestHead? { headIsCurrent ? head : nil }

  /// True once the head is complete and its body is still arriving.
  var isReadingBody: Bool {
    switch phase {
    case .contentLength, .chunked: return true
    case .head, .complete, .streamed: return false
    }
  }

  /// True while part of a request sits in the buffer or a body is being read.
  func hasPartialRequest(_ buffer: ReceiveBuffer) -> Bool {
    if case .head = phase { return !buffer.isEmpty }
    return true
  }

  mutating func advance(_ buffer: inout ReceiveBuffer) -> Step {
    switch phase {
    case .head: return advanceHead(&buffer)
    case .contentLength: return advanceContentLength(buffer)
    case .chunked: return advanceChunked(&buffer)
    case .complete: return .complete
    case .streamed: return .streamBody
    }
  }

  /// The complete request, pointing into `buffer` and the decode buffer.
  func request(in buffer: ReceiveBuffer, origin: RequestOrigin) -> IncomingRequest {
    let bytes = buffer.readable
    let headBytes = UnsafeRawBufferPointer(rebasing: bytes[0..<headLength])
    let body: UnsafeRawBufferPointer
    if case .streamed = phase {
      return IncomingRequest(
        head: headBytes, parsed: head, body: UnsafeRawBufferPointer(start: nil, count: 0),
        origin: origin, streamsBody: true)
    }
    switch head.framing {
    case .contentLength(let n) where n > 0:
      body = UnsafeRawBufferPointer(rebasing: bytes[headLength..<headLength + n])
    case .chunked:
      body = decoded.bytes
    default:
      body = UnsafeRawBufferPointer(start: nil, count: 0)
    }
    return IncomingRequest(head: headBytes, parsed: head, body: body, origin: origin)
  }

  /// Drops the complete request from the buffer and gets ready for the next one.
  mutating func finish(_ buffer: inout ReceiveBuffer) {
    if case .streamed = phase {
      contentLength = 0  // the body is the stream's to consume
    }
    buffer.consume(headLength + contentLength)
    reset()
  }

  /// Forgets any partial request (the buffer is the caller's).
  mutating func reset() {
    phase = .head
    headLength = 0
    contentLength = 0
    decoder = nil
    streamFraming = nil
    decoded.reset()
    continueHandled = false
    scannedUpTo = 0
    headIsCurrent = false
  }

  mutating func releaseMemory() { decoded.releaseMemory() }

  // MARK: - Phases

  private mutating func advanceHead(_ buffer: inout ReceiveBuffer) -> Step {
    let bytes = buffer.readable
    guard bytes.count > 0 else { return .needMore(bytes: 1) }
    guard shouldParse(bytes) else { return .needMore(bytes: 1) }
    headIsCurrent = true
    switch parseRequestHead(bytes, into: &head, limits: limits) {
    case .failed(let error):
      return .failed(error)
    case .incomplete:
      if bytes.count >= limits.maxRequestLineLength
        && !containsLineEnd(bytes, upTo: limits.maxRequestLineLength)
      {
        return .failed(HTTPError(status: 414, reason: "request line too long"))
      }
      if bytes.count >= limits.maxHeadLength {
        return .failed(HTTPError(status: 431, reason: "request head too large"))
      }
      return .needMore(bytes: 1)
    case .complete:
      headLength = head.headLength
      switch head.framing {
      case .none:
        phase = .complete
        return .complete
      case .contentLength(let n):
        guard n >= 0, n <= limits.maxBodyLength else {
          return .failed(HTTPError(status: 413, reason: "body too large"))
        }
        contentLength = n
        phase = .contentLength(n)
        if exceedsWholeRequestLimit(bodyLength: n) {
          streamFraming = .contentLength(remaining: n)
          phase = .streamed
          return .streamBody
        }
        return advanceContentLength(buffer)
      case .chunked:
        decoder = ChunkedDecoder(limits: limits)
        phase = .chunked
        return advanceChunked(&buffer)
      }
    }
  }

  private mutating func advanceContentLength(_ buffer: ReceiveBuffer) -> Step {
    let missing = headLength + contentLength - buffer.count
    if missing <= 0 {
      phase = .complete
      return .complete
    }
    if needsContinue(bodyBytesPresent: buffer.count > headLength) { return .sendContinue }
    return .needMore(bytes: missing)
  }

  private mutating func advanceChunked(_ buffer: inout ReceiveBuffer) -> Step {
    let raw = UnsafeRawBufferPointer(rebasing: buffer.readable[headLength...])
    if raw.count > 0 {
      // The decoder moves to a local while it runs: the emit closure appends to `decoded`, and
      // Swift forbids touching two properties of self from inside one mutating access.
      var running = decoder!
      let consumed: Int
      do {
        consumed = try running.decode(raw) { decoded.append($0) }
      } catch {
        return .failed(error)
      }
      decoder = running
      buffer.remove(at: headLength, count: consumed)
      // Past the limit the body streams, even when it is complete already: whether a body
      // streams must not depend on how its bytes happened to arrive.
      if exceedsWholeRequestLimit(bodyLength: decoded.count) {
        streamFraming = .chunked(running)
        phase = .streamed
        return .streamBody
      }
      if running.isComplete {
        phase = .complete
        return .complete
      }
    }
    if needsContinue(bodyBytesPresent: raw.count > 0 || decoded.count > 0) { return .sendContinue }
    return .needMore(bytes: 1)
  }

  private func exceedsWholeRequestLimit(bodyLength: Int) -> Bool {
    guard let wholeRequestLimit else { return false }
    return RequestSlotWriter.requiredBytes(
      headerCount: head.headers.count, rawHeadLength: headLength, bodyLength: bodyLength)
      > wholeRequestLimit
  }

  /// For `.streamBody`: the body's framing and what of it was decoded already (a chunked body
  /// that grew past the limit), and whether the client waits for 100 Continue. The request
  /// is then handed over, and `finish` drops only its head.
  mutating func takeBodyStream(_ buffer: ReceiveBuffer) -> (
    framing: BodyStream.Framing, decoded: DecodedBody, sendContinue: Bool
  ) {
    let framing = streamFraming!
    streamFraming = nil
    var taken = DecodedBody()
    swap(&taken, &decoded)
    let bodyBytesPresent = buffer.count > headLength || taken.count > 0
    return (framing, taken, needsContinue(bodyBytesPresent: bodyBytesPresent))
  }

  /// 100 Continue goes out once, to HTTP/1.1 clients that asked, before any body byte arrived.
  private mutating func needsContinue(bodyBytesPresent: Bool) -> Bool {
    guard !continueHandled else { return false }
    continueHandled = true
    return head.expectsContinue && head.versionMinor >= 1 && !bodyBytesPresent
  }

  private mutating func shouldParse(_ bytes: UnsafeRawBufferPointer) -> Bool {
    defer { scannedUpTo = bytes.count }
    if scannedUpTo == 0 || scannedUpTo > bytes.count { return true }
    if bytes.count >= limits.maxHeadLength { return true }
    if scannedUpTo < limits.maxRequestLineLength && bytes.count >= limits.maxRequestLineLength {
      return true
    }
    return memchr(bytes.baseAddress! + scannedUpTo, 0x0A, bytes.count - scannedUpTo) != nil
  }

  private func containsLineEnd(_ bytes: UnsafeRawBufferPointer, upTo limit: Int) -> Bool {
    memchr(bytes.baseAddress!, 0x0A, min(limit, bytes.count)) != nil
  }
}
