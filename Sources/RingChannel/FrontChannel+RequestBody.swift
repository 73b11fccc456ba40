import CRingABI

/// How far a streamed request body got through its slot's window: front-private, so that the
/// worker cannot forge which parts it was given.
@usableFromInline struct BodyProgress {
  var window: BodyWindow
  /// Parts pushed, and parts the worker acknowledged (RB_RESP_BODY_TAKEN), since dispatch.
  var partsSent: UInt64 = 0
  var partsTaken: UInt64 = 0
  /// The last part (RB_REQ_BODY_END) was pushed: nothing more goes into the window.
  var ended = false

  init(window: BodyWindow) { self.window = window }
}

/// The front's half of streamed request bodies (ringabi.h, "Streamed request bodies"): it
/// writes parts into the window of a slot still with the worker, at most
/// RB_BODY_PARTS_IN_FLIGHT unacknowledged, and checks every acknowledgement against what it
/// sent.
extension FrontChannel {
  /// Where the next body part of `slot` may be written, a whole window half; nil while
  /// RB_BODY_PARTS_IN_FLIGHT parts are unacknowledged, after the last part, or when the slot
  /// is no longer with the worker (it replied, or the channel broke).
  public func bodyRoom(slot index: Int) -> UnsafeMutableRawBufferPointer? {
    guard !isBroken, index < slotCount, slots[index].isWithWorker,
      let body = slots[index].body, !body.ended,
      body.partsSent - body.partsTaken < UInt64(RB_BODY_PARTS_IN_FLIGHT)
    else { return nil }
    let offset = body.window.offset(ofPart: body.partsSent)
    return UnsafeMutableRawBufferPointer(
      start: slotBases[index] + offset, count: body.window.halfSize)
  }

  /// Pushes the part just written at `bodyRoom(slot:)`: `length` bytes (at most a half),
  /// `last` with RB_REQ_BODY_END, `aborted` (with `last`) for a body that did not arrive whole.
  /// It reaches the worker at `publish()`. False when there was no room for it, or the ring
  /// was broken (the channel is then broken).
  @discardableResult
  public func sendBodyPart(slot index: Int, length: Int, last: Bool, aborted: Bool = false)
    -> Bool
  {
    guard bodyRoom(slot: index) != nil, var body = slots[index].body,
      length <= body.window.halfSize
    else { return false }
    var flags = UInt32(RB_REQ_BODY_PART)
    if last { flags |= UInt32(RB_REQ_BODY_END) }
    if last && aborted { flags |= UInt32(RB_REQ_BODY_ABORTED) }
    let descriptor = rb_request_descriptor(
      slot: UInt32(index), length: UInt32(length), request_id: slots[index].requestID,
      generation: header.pointee.generation, flags: flags,
      reply_offset: UInt32(body.window.offset(ofPart: body.partsSent)), reply_capacity: 0)
    switch requests.push(descriptor) {
    case .pushed: break
    case .full:
      noteBroken("request ring full while streaming a body")
      return false
    case .corruptTail:
      noteBroken("worker wrote an impossible request-ring tail")
      return false
    }
    body.partsSent += 1
    body.ended = last
    slots[index].body = body
    bump(&counters.pointee.bytes_in, by: UInt64(length))
    return true
  }

  /// True while `slot` is with the worker and streams a body whose last part was not pushed.
  public func isStreamingBody(slot index: Int) -> Bool {
    index < slotCount && slots[index].isWithWorker && slots[index].body?.ended == false
  }

  /// Checks an RB_RESP_BODY_TAKEN: it must name a slot with the worker that streams a body and
  /// has a part outstanding, carry that request's id and nothing else. Anything else breaks
  /// the channel.
  func takeBodyAcknowledgement(_ descriptor: rb_response_descriptor) -> ReplyPoll {
    let index = Int(descriptor.slot)
    guard index < slotCount, slots[index].isWithWorker,
      slots[index].requestID == descriptor.request_id
    else {
      return markBroken(
        "body acknowledgement names slot \(descriptor.slot) / request \(descriptor.request_id), "
          + "which is not with the worker")
    }
    guard var body = slots[index].body, body.partsTaken < body.partsSent else {
      return markBroken(
        "body acknowledgement for slot \(index), which has no body part outstanding")
    }
    guard descriptor.status == 0, descriptor.header_length == 0, descriptor.body_offset == 0,
      descriptor.body_length == 0
    else { return markBroken("body acknowledgement for slot \(index) carries reply fields") }
    body.partsTaken += 1
    slots[index].body = body
    return .bodyTaken(slot: index)
  }
}
