import CRingABI

/// Streamed replies (ringabi.h, "Streamed replies"): after `start` and the headers, the body
/// goes out in parts with `write` and ends with `end`, whatever its size. The reply room after
/// the header lines is split in two halves: the worker fills one while the front sends the
/// other, and waits for a credit only when both are out, so memory stays bounded and a client
/// that reads slowly slows the writer down. A reply larger than the slot's room takes the
/// halves from the channel's stream window instead, when no other reply holds it: fewer,
/// larger parts, so fewer round trips.
extension ReplyWriter {
  /// Declares the body length (optional; after `start` and the headers, before the first
  /// `write`): the client gets Content-Length, and the writes must add up to it exactly.
  /// Without it the client gets chunked framing (HTTP/1.1) or a body ended by closing the
  /// connection (HTTP/1.0).
  public func setLength(_ total: UInt64) throws(ReplyError) {
    try answeringOnFailure { () throws(ReplyError) in
      guard record.pointee.phase == .replying else {
        throw .wrongOrder("declare the length after start and before the first write")
      }
      guard total < UInt64(Int64.max) else {
        throw .lengthMismatch("declared length \(total) is impossible")
      }
      record.pointee.declaredLength = total
    }
  }

  /// Copies `bytes` into the reply room and hands them to the front at once, in parts of at
  /// most half the room. Blocks while both halves are with the front (the client reads slower
  /// than the worker writes). Throws `.clientGone` once the client left (the reply is then
  /// ended), `.lengthMismatch` for bytes beyond the declared length (the connection is then
  /// closed), `.channelClosed` when the broker went away meanwhile.
  public func write(_ bytes: UnsafeRawBufferPointer) throws(ReplyError) {
    try answeringOnFailure { () throws(ReplyError) in
      switch record.pointee.phase {
      case .replying:
        if bytes.isEmpty { return }
        try beginStream(firstWrite: bytes.count)
      case .streaming: break
      case .idle: throw .wrongOrder("this request was already answered")
      case .received: throw .wrongOrder("start the reply before writing its body")
      case .bodyTaken: throw .wrongOrder("the body was taken with body(); send it with send")
      }
      if record.pointee.clientGone { throw .clientGone }
      let declared = record.pointee.declaredLength
      if declared != RB_LENGTH_UNDECLARED
        && record.pointee.bodyWritten + UInt64(bytes.count) > declared
      {
        throw .lengthMismatch("writes exceed the declared length of \(declared) bytes")
      }
      var offset = 0
      while offset < bytes.count {
        if record.pointee.halfFill == 0 { try awaitFreeHalf() }
        let fill = record.pointee.halfFill
        let count = min(record.pointee.halfSize - fill, bytes.count - offset)
        (currentHalf + fill).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
        record.pointee.halfFill = fill + count
        record.pointee.bodyWritten += UInt64(count)
        offset += count
        if record.pointee.halfFill == record.pointee.halfSize { publishHalf(flags: 0) }
      }
      if record.pointee.halfFill > 0 { publishHalf(flags: 0) }
    }
  }

  /// Ends a streamed reply (a reply started and never written ends with an empty body).
  /// Throws `.lengthMismatch` short of the declared length (the connection is then closed) and
  /// `.clientGone` when the client left before the end.
  public func end() throws(ReplyError) {
    try answeringOnFailure { () throws(ReplyError) in
      let declared = record.pointee.declaredLength
      switch record.pointee.phase {
      case .replying:
        guard declared == RB_LENGTH_UNDECLARED || declared == 0 else {
          throw .lengthMismatch("reply ended after 0 of its declared \(declared) bytes")
        }
        let cursor = record.pointee.headerCursor
        worker.complete(
          record, headerLength: cursor - record.pointee.replyOffset, bodyOffset: cursor,
          bodyLength: 0)
      case .streaming:
        let written = record.pointee.bodyWritten
        guard declared == RB_LENGTH_UNDECLARED || written == declared else {
          throw .lengthMismatch("reply ended after \(written) of its declared \(declared) bytes")
        }
        if record.pointee.clientGone { throw .clientGone }
        publishHalf(flags: UInt32(RB_RESP_END))
      case .idle: throw .wrongOrder("this request was already answered")
      case .received: throw .wrongOrder("start the reply before ending it")
      case .bodyTaken: throw .wrongOrder("the body was taken with body(); send it with send")
      }
    }
  }

  // MARK: Internals

  var worker: Worker { Unmanaged<Worker>.fromOpaque(record.pointee.worker!).takeUnretainedValue() }

  private var currentHalf: UnsafeMutableRawPointer {
    let base =
      record.pointee.inStreamWindow ? worker.streamWindow.baseAddress! : record.pointee.memory!
    return base + record.pointee.halvesStart + record.pointee.half * record.pointee.halfSize
  }

  /// Places the two halves: in the stream window for a reply larger than the slot's room
  /// (declared so, or a first write larger than a half) while no other reply holds it, else in
  /// the room after the header lines (and the declared length).
  private func beginStream(firstWrite: Int) throws(ReplyError) {
    let declared = record.pointee.declaredLength
    let start =
      (record.pointee.headerCursor + (declared != RB_LENGTH_UNDECLARED ? 8 : 0) + 15) & ~15
    let slotHalf = (max(0, record.pointee.slotSize - start) / 2) & ~15
    let windowHalf = (worker.streamWindow.count / 2) & ~15
    let isLarge =
      declared != RB_LENGTH_UNDECLARED ? declared > UInt64(2 * slotHalf) : firstWrite > slotHalf
    if isLarge && windowHalf > slotHalf && start <= record.pointee.slotSize
      && !worker.streamWindowInUse
    {
      worker.streamWindowInUse = true
      record.pointee.inStreamWindow = true
      record.pointee.halvesStart = 0
      record.pointee.halfSize = windowHalf
    } else {
      guard slotHalf >= Self.minimumHalf else {
        throw .noRoom(
          needed: start + 2 * Self.minimumHalf - record.pointee.replyOffset,
          available: record.pointee.slotSize - record.pointee.replyOffset)
      }
      record.pointee.inStreamWindow = false
      record.pointee.halvesStart = start
      record.pointee.halfSize = slotHalf
    }
    record.pointee.half = 0
    record.pointee.halfFill = 0
    record.pointee.bodyWritten = 0
    record.pointee.partsInFlight = 0
    record.pointee.clientGone = false
    record.pointee.headPending = true
    record.pointee.phase = .streaming
  }

  /// This reply is done with the stream window; the next one may take it. Only once no byte
  /// of it is still to be sent (ringabi.h, "Stream window").
  func returnStreamWindow() {
    record.pointee.inStreamWindow = false
    worker.streamWindowInUse = false
  }

  /// Parts smaller than this would cost a ring hop for a few bytes each.
  static let minimumHalf = 256

  /// Waits until the current half is the worker's again: the part published from it, two
  /// parts ago, was credited.
  private func awaitFreeHalf() throws(ReplyError) {
    if let reason = worker.waitForCredit(record, below: Int(RB_REPLY_PARTS_IN_FLIGHT)) {
      throw .channelClosed(reason)
    }
    if record.pointee.clientGone { throw .clientGone }
  }

  /// Publishes the current half's bytes as one part (the first carries status, header lines
  /// and the declared length) and moves to the other half.
  private func publishHalf(flags: UInt32) {
    let offset = record.pointee.halvesStart + record.pointee.half * record.pointee.halfSize
    publishPart(flags: flags, bodyOffset: offset, bodyLength: record.pointee.halfFill)
    record.pointee.half ^= 1
    record.pointee.halfFill = 0
  }

  /// One part: the first one carries the status, header lines and declared length. The last
  /// part of a reply in the stream window waits until every earlier part was credited, and
  /// then lends the window on (ringabi.h, "Stream window").
  func publishPart(flags: UInt32, bodyOffset: Int? = nil, bodyLength: Int) {
    let offset = bodyOffset ?? record.pointee.halvesStart
    var flags = flags
    if record.pointee.inStreamWindow {
      flags |= UInt32(RB_RESP_IN_STREAM_WINDOW)
      if flags & UInt32(RB_RESP_END) != 0 {
        // A channel that closed meanwhile never credits; the part then goes nowhere.
        _ = worker.waitForAllCredits(record)
        returnStreamWindow()
      }
    }
    if record.pointee.headPending {
      record.pointee.headPending = false
      let cursor = record.pointee.headerCursor
      let declared = record.pointee.declaredLength
      if declared != RB_LENGTH_UNDECLARED {
        (record.pointee.memory! + cursor).storeBytes(of: declared, as: UInt64.self)
        flags |= UInt32(RB_RESP_LENGTH)
      }
      worker.publishPart(
        record, status: record.pointee.status, headerLength: cursor - record.pointee.replyOffset,
        flags: flags, bodyOffset: offset, bodyLength: bodyLength)
    } else {
      worker.publishPart(
        record, status: 0, headerLength: 0, flags: flags, bodyOffset: offset,
        bodyLength: bodyLength)
    }
  }
}
