import CRingABI

/// Streamed replies on the front's side (ringabi.h, "Streamed replies"): each part a worker
/// publishes is checked against the slot's front-private streaming state before the caller
/// sees it, and the front's credits go back through the request ring.
extension FrontChannel {
  /// Every RB_RESP_* bit a reply part may carry.
  static let knownPartFlags = UInt32(
    RB_RESP_CHUNK | RB_RESP_END | RB_RESP_LENGTH | RB_RESP_ABORT | RB_RESP_IN_STREAM_WINDOW)

  /// One RB_RESP_CHUNK descriptor of slot `index` (with the worker or streaming; its request id
  /// checked), validated field by field against what the front knows of the slot.
  func takePart(_ descriptor: rb_response_descriptor, slot index: Int, now: UInt64) -> ReplyPoll {
    let flags = descriptor.flags
    guard flags & ~Self.knownPartFlags == 0 else {
      return markBroken("reply part flags 0x\(String(flags, radix: 16)) are not supported")
    }
    let isLast = flags & UInt32(RB_RESP_END) != 0
    let isAborted = flags & UInt32(RB_RESP_ABORT) != 0
    guard isLast || !isAborted else {
      return markBroken("reply part for slot \(index) aborts without ending the reply")
    }
    let isFirst = slots[index].state == .withWorker
    let slotSize = slotSizes[index]
    let replyStart = Int(slots[index].replyOffset)
    let base = UnsafeRawPointer(slotBases[index])
    var headerBlock = UnsafeRawBufferPointer(start: base + replyStart, count: 0)
    var declaredLength: UInt64? = nil
    // Where this part's body may start: after the first part's header lines (and its declared
    // length), anywhere in the reply room for later parts.
    var bodyFloor = replyStart
    if isFirst {
      guard (200...599).contains(descriptor.status) else {
        return markBroken("reply status \(descriptor.status) is not 200..599")
      }
      let headersEnd = replyStart + Int(descriptor.header_length)
      guard headersEnd <= slotSize else {
        return markBroken("reply header range lies outside slot \(index)")
      }
      headerBlock = UnsafeRawBufferPointer(start: base + replyStart, count: headersEnd - replyStart)
      bodyFloor = headersEnd
      if flags & UInt32(RB_RESP_LENGTH) != 0 {
        guard headersEnd + 8 <= slotSize else {
          return markBroken("declared reply length lies outside slot \(index)")
        }
        // Read once, into the front's own copy: the worker may rewrite the slot at any time.
        let length = (base + headersEnd).loadUnaligned(as: UInt64.self)
        guard length < UInt64(Int64.max) else {
          return markBroken("declared reply length \(length) in slot \(index) is impossible")
        }
        declaredLength = length
        slots[index].declaredLength = length
        bodyFloor = headersEnd + 8
      }
    } else {
      guard descriptor.status == 0, descriptor.header_length == 0,
        flags & UInt32(RB_RESP_LENGTH) == 0
      else {
        return markBroken("later reply part for slot \(index) carries a status, headers or length")
      }
    }
    let bodyStart = Int(descriptor.body_offset)
    let bodyEnd = bodyStart + Int(descriptor.body_length)
    let body: UnsafeRawBufferPointer
    slots[index].lastPartInWindow = flags & UInt32(RB_RESP_IN_STREAM_WINDOW) != 0
    if slots[index].lastPartInWindow {
      guard bodyEnd <= streamWindow.count else {
        return markBroken("reply part body range of slot \(index) lies outside the stream window")
      }
      body = UnsafeRawBufferPointer(rebasing: streamWindow[bodyStart..<bodyEnd])
    } else {
      guard bodyStart >= bodyFloor, bodyEnd <= slotSize else {
        return markBroken("reply part body range lies outside the reply room of slot \(index)")
      }
      body = UnsafeRawBufferPointer(start: base + bodyStart, count: bodyEnd - bodyStart)
    }
    if !isLast {
      guard slots[index].partsInFlight < UInt8(RB_REPLY_PARTS_IN_FLIGHT) else {
        return markBroken(
          "slot \(index) has more than \(RB_REPLY_PARTS_IN_FLIGHT) reply parts uncredited")
      }
    }
    // An aborted reply's last part is not sent: its bytes do not count.
    let counted = isAborted ? 0 : UInt64(descriptor.body_length)
    let total = slots[index].bodyBytes + counted
    let declared = slots[index].declaredLength
    if declared != UInt64(RB_LENGTH_UNDECLARED) {
      guard total <= declared else {
        return markBroken("reply parts of slot \(index) exceed the declared length \(declared)")
      }
      guard !isLast || isAborted || total == declared else {
        return markBroken(
          "reply of slot \(index) ended after \(total) of its declared \(declared) bytes")
      }
    }
    slots[index].bodyBytes = total
    bump(&counters.pointee.bytes_out, by: counted)
    rb_store_relaxed_u64(&counters.pointee.last_progress_ns, now)
    if isFirst { recordLatency(now &- slots[index].dispatchedAt) }
    if isLast {
      slots[index].state = .replied
      inFlight -= 1
      state.pointee.repliesCompleted &+= 1
      bump(&counters.pointee.replies_completed)
    } else {
      slots[index].state = .streaming
      slots[index].partsInFlight += 1
    }
    return .reply(
      ValidatedReply(
        slot: index, requestID: descriptor.request_id, status: Int(descriptor.status),
        headerBlock: headerBlock,
        body: body,
        part: isFirst ? .first : .next, isLast: isLast, isAborted: isAborted,
        declaredLength: declaredLength))
  }

  /// One part of slot `index` has left (sent, or dropped because its client is gone): the
  /// worker gets its credit (RB_REQ_PART_SENT, with RB_REQ_CLIENT_GONE when `clientGone`),
  /// visible at the next `publish()`. A slot whose reply already ended gets no credit: its
  /// last one frees it, when its release came first.
  public func partSent(slot index: Int, clientGone: Bool) {
    guard slots[index].partsInFlight > 0 else { return }
    slots[index].partsInFlight -= 1
    switch slots[index].state {
    case .streaming:
      guard !isBroken else { return }
      var flags = UInt32(RB_REQ_PART_SENT)
      if clientGone { flags |= UInt32(RB_REQ_CLIENT_GONE) }
      let credit = rb_request_descriptor(
        slot: UInt32(index), length: 0, request_id: slots[index].requestID,
        generation: header.pointee.generation, flags: flags, reply_offset: 0, reply_capacity: 0)
      switch requests.push(credit) {
      case .pushed: break
      case .full: noteBroken("request ring full although the protocol bounds it")
      case .corruptTail: noteBroken("worker wrote an impossible request-ring tail")
      }
    case .replied:
      if slots[index].partsInFlight == 0 && slots[index].freeWhenCredited {
        slots[index].freeWhenCredited = false
        free(index)
      }
    case .free, .filling, .withWorker, .revoked:
      break
    }
  }

  /// The streamed reply of slot `index` waits for its client, not for its worker: both parts
  /// are out, or a stream-window reply has one out (its worker waits for every credit before
  /// the end). The request timeout does not run then; the client's send timeout does.
  public func waitsForClient(slot index: Int) -> Bool {
    let out = slots[index].partsInFlight
    return out >= UInt8(RB_REPLY_PARTS_IN_FLIGHT) || (out > 0 && slots[index].lastPartInWindow)
  }
}
