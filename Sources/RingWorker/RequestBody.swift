import CRingABI
import Glibc
import RingChannel

/// Why a body could not be read.
public enum BodyReadError: Error, Equatable, CustomStringConvertible {
  /// The body did not arrive whole: the client left, sent broken chunked framing, went over
  /// --max-body or stalled past --body-timeout (RB_REQ_BODY_ABORTED).
  case aborted
  /// The request was already answered: its slot is the front's again.
  case answered
  /// The broker is gone or the channel broke; the worker should exit.
  case channelClosed(String)

  public var description: String {
    switch self {
    case .aborted:
      return "the request body did not arrive whole (the client left or sent a broken body)"
    case .answered: return "the request was already answered; its body is gone"
    case .channelClosed(let why): return why
    }
  }
}

/// How far a request's body was read: for an in-slot body a cursor, for a streamed one
/// (RB_REQ_BODY_STREAM) the parts received and acknowledged. Parts are acknowledged in order,
/// each as soon as it was read whole, so the front can refill its window half meanwhile.
struct BodyReadState {
  var streams = false
  var window: BodyWindow? = nil
  /// In-slot body: bytes read so far.
  var cursor = 0
  var partsReceived: UInt64 = 0
  var partsAcknowledged: UInt64 = 0
  /// Lengths of the (at most RB_BODY_PARTS_IN_FLIGHT) parts received and not acknowledged,
  /// by part index mod 2.
  var partLengths: (Int, Int) = (0, 0)
  /// Bytes of the oldest unacknowledged part already read.
  var readOffset = 0
  /// Index of the RB_REQ_BODY_END part, once received.
  var endPart: UInt64? = nil
  var aborted = false
  /// Bytes handed out in place by `nextBodyChunk` and not yet consumed.
  var chunkOutstanding = 0
  var failure: BodyReadError? = nil

  func length(ofPart index: UInt64) -> Int { index & 1 == 0 ? partLengths.0 : partLengths.1 }
  mutating func setLength(_ length: Int, ofPart index: UInt64) {
    if index & 1 == 0 { partLengths.0 = length } else { partLengths.1 = length }
  }
}

extension Worker {
  /// Sets up body reading for a request just taken; a problem string when its body window is
  /// impossible (the channel then breaks).
  func beginBody(_ record: UnsafeMutablePointer<RequestRecord>, _ descriptor: rb_request_descriptor)
    -> String?
  {
    record.pointee.body = BodyReadState()
    guard descriptor.flags & UInt32(RB_REQ_BODY_STREAM) != 0 else { return nil }
    guard
      let window = BodyWindow(
        requestLength: Int(descriptor.length), replyOffset: Int(descriptor.reply_offset))
    else { return "streams its body but leaves no body window" }
    record.pointee.body.streams = true
    record.pointee.body.window = window
    return nil
  }

  /// Checks a body-part descriptor and files it with its request; a problem string when it
  /// breaks the channel. Parts for a request this worker answered before its body ended are
  /// dropped: they were on their way when the reply went.
  func acceptBodyPart(_ descriptor: rb_request_descriptor) -> String? {
    let slot = Int(descriptor.slot)
    guard slot < segment.slotCount else {
      return "body part names slot \(descriptor.slot)"
    }
    let record = records + slot
    var body = record.pointee.body
    guard body.streams, record.pointee.requestID == descriptor.request_id, body.endPart == nil
    else {
      return "body part for slot \(slot) / request \(descriptor.request_id), which streams no body"
    }
    let isEnd = descriptor.flags & UInt32(RB_REQ_BODY_END) != 0
    if record.pointee.phase == .idle {
      if isEnd { record.pointee.body.endPart = body.partsReceived }
      return nil
    }
    let window = body.window!
    let aborted = descriptor.flags & UInt32(RB_REQ_BODY_ABORTED) != 0
    guard body.partsReceived - body.partsAcknowledged < UInt64(RB_BODY_PARTS_IN_FLIGHT),
      Int(descriptor.reply_offset) == window.offset(ofPart: body.partsReceived),
      Int(descriptor.length) <= window.halfSize, descriptor.reply_capacity == 0,
      !aborted || isEnd
    else {
      return "body part \(body.partsReceived) of slot \(slot) is out of order or outside its window"
    }
    body.setLength(Int(descriptor.length), ofPart: body.partsReceived)
    if isEnd {
      body.endPart = body.partsReceived
      body.aborted = aborted
    }
    body.partsReceived += 1
    record.pointee.body = body
    return nil
  }

  /// The unread body bytes of the current part (or the in-slot body), in place; nil at the
  /// end. Waits for the next part when none is here.
  func unreadBody(_ record: UnsafeMutablePointer<RequestRecord>) throws(BodyReadError)
    -> UnsafeRawBufferPointer?
  {
    guard record.pointee.phase != .idle else { throw .answered }
    if let failure = record.pointee.body.failure { throw failure }
    let memory = UnsafeRawPointer(record.pointee.memory!)
    guard record.pointee.body.streams else {
      let span = record.pointee.head.pointee.body
      let cursor = record.pointee.body.cursor
      guard cursor < Int(span.length) else { return nil }
      return UnsafeRawBufferPointer(
        start: memory + Int(span.offset) + cursor, count: Int(span.length) - cursor)
    }
    while true {
      let body = record.pointee.body
      if let end = body.endPart, body.partsAcknowledged > end { return nil }
      if body.partsAcknowledged < body.partsReceived {
        let index = body.partsAcknowledged
        if index == body.endPart && body.aborted {
          record.pointee.body.failure = .aborted
          throw .aborted
        }
        let length = body.length(ofPart: index)
        if body.readOffset < length {
          return UnsafeRawBufferPointer(
            start: memory + body.window!.offset(ofPart: index) + body.readOffset,
            count: length - body.readOffset)
        }
        acknowledgePart(record)  // an empty part (the END of a body that ended on a boundary)
        continue
      }
      if let problem = waitForBodyPart(record) {
        record.pointee.body.failure = .channelClosed(problem)
        throw .channelClosed(problem)
      }
    }
  }

  /// Marks `count` bytes of what `unreadBody` returned as read; a part read whole is
  /// acknowledged at once.
  func consumeBody(_ record: UnsafeMutablePointer<RequestRecord>, count: Int) {
    guard record.pointee.body.streams else {
      record.pointee.body.cursor += count
      return
    }
    record.pointee.body.readOffset += count
    let body = record.pointee.body
    if body.readOffset >= body.length(ofPart: body.partsAcknowledged) { acknowledgePart(record) }
  }

  /// RB_RESP_BODY_TAKEN for the oldest unacknowledged part, published at once: the front is
  /// waiting for the window half.
  private func acknowledgePart(_ record: UnsafeMutablePointer<RequestRecord>) {
    record.pointee.body.partsAcknowledged += 1
    record.pointee.body.readOffset = 0
    let descriptor = rb_response_descriptor(
      slot: record.pointee.slot, status: 0, request_id: record.pointee.requestID,
      header_length: 0, flags: UInt32(RB_RESP_BODY_TAKEN), body_offset: 0, body_length: 0)
    // The ring has room for RB_BODY_PARTS_IN_FLIGHT acknowledgements per slot.
    _ = responses.push(descriptor)
    unpublishedReplies += 1
    flush()
  }

  /// Waits until the request in `record` has a new part (Worker.waitInHandler: new requests
  /// meanwhile wait for `next()`). Nil once a part is here; else why it never will be (broker
  /// gone, channel broken).
  private func waitForBodyPart(_ record: UnsafeMutablePointer<RequestRecord>) -> String? {
    let received = record.pointee.body.partsReceived
    return waitInHandler { record.pointee.body.partsReceived != received }
  }
}

extension Request {
  /// True when the body did not fit the slot and arrives in parts as the client sends it.
  public var bodyIsStreamed: Bool { record.pointee.body.streams }

  private var worker: Worker {
    Unmanaged<Worker>.fromOpaque(record.pointee.worker!).takeUnretainedValue()
  }

  /// Copies up to `buffer.count` body bytes into `buffer`: the count, 0 at the end of the
  /// body. Works for every body; a streamed one is waited for as it arrives.
  public func readBody(into buffer: UnsafeMutableRawBufferPointer) throws(BodyReadError) -> Int {
    finishChunk()
    guard buffer.count > 0, let unread = try worker.unreadBody(record) else { return 0 }
    let count = min(unread.count, buffer.count)
    buffer.baseAddress!.copyMemory(from: unread.baseAddress!, byteCount: count)
    worker.consumeBody(record, count: count)
    return count
  }

  /// The next piece of the body, in place in shared memory: valid until the next call (or
  /// reply); nil at the end of the body.
  public func nextBodyChunk() throws(BodyReadError) -> UnsafeRawBufferPointer? {
    finishChunk()
    guard let unread = try worker.unreadBody(record) else { return nil }
    record.pointee.body.chunkOutstanding = unread.count
    return unread
  }

  /// The body piece by piece (`nextBodyChunk`), each buffer valid until the next element.
  /// The sequence ends early when the body cannot be read whole: `bodyError` then says why.
  public var bodyChunks: BodyChunks { BodyChunks(request: self) }

  /// Why reading the body failed, if it did.
  public var bodyError: BodyReadError? { record.pointee.body.failure }

  /// The piece `nextBodyChunk` handed out is read.
  private func finishChunk() {
    let outstanding = record.pointee.body.chunkOutstanding
    guard outstanding > 0, record.pointee.phase != .idle else { return }
    record.pointee.body.chunkOutstanding = 0
    worker.consumeBody(record, count: outstanding)
  }
}

/// A request's body as a sequence of buffers in shared memory, each valid until the next.
public struct BodyChunks: Sequence, IteratorProtocol {
  let request: Request

  public mutating func next() -> UnsafeRawBufferPointer? {
    do {
      return try request.nextBodyChunk()
    } catch {
      return nil
    }
  }
}
