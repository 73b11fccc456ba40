import CRingABI
import HTTP1
import RingChannel
import RingFront

/// Streamed request bodies, the dispatcher's side: a request too large to collect goes to a
/// worker with only its head, into a slot with a body window (BodyWindow); the loop then
/// writes the body into that window as the worker acknowledges parts (FrontChannel
/// +RequestBody checks every acknowledgement).
extension Dispatcher {
  /// Requests that fit the smallest slot class with reply room are collected whole; larger
  /// ones stream (derived from the channel layout, whatever the slot sizes are).
  public var wholeRequestLimit: Int? {
    let smallest = launcher.parameters.slotClasses.map(\.slotSize).min() ?? 0
    return max(smallest - FrontChannel.minimumReplyRoom, 0)
  }

  func handleStreamed(_ request: IncomingRequest, ticket: ReplyTicket, loop: some PoolLoop) {
    let needed = BodyWindow.requiredBytes(
      requestLength: RequestSlotWriter.requiredBytes(
        headerCount: request.parsed.headers.count, rawHeadLength: request.head.count,
        bodyLength: 0))
    guard needed + FrontChannel.minimumReplyRoom <= largestSlotSize else {
      loop.replyError(ticket, status: 413, body: "request head too large to stream a body\n")
      return
    }
    if queue.isEmpty,
      dispatchStreamed(
        head: request.head, parts: RequestSlotWriter.Parts(request.parsed),
        headers: request.parsed.headerRanges,
        origin: request.origin, ticket: ticket, loop: loop)
    {
      observeQueueWait(0, loop: loop)
      return
    }
    // Only the head waits: the body stays in the client's socket until a slot is free.
    queueOrRefuse(ticket, loop: loop) {
      queue.appendStreamedHead(request, ticket: ticket, deadline: loop.now + config.queueTimeoutNs)
    }
  }

  /// Writes the head into a slot with a body window and lets the loop feed the body; false
  /// when no worker has a slot free for it.
  func dispatchStreamed(
    head: UnsafeRawBufferPointer, parts: RequestSlotWriter.Parts,
    headers: some Collection<(name: Range<Int>, value: Range<Int>)>, origin: RequestOrigin,
    ticket: ReplyTicket, loop: some PoolLoop
  ) -> Bool {
    let needed = BodyWindow.requiredBytes(
      requestLength: RequestSlotWriter.requiredBytes(
        headerCount: headers.count, rawHeadLength: head.count, bodyLength: 0))
    var token: UInt64 = 0
    // A worker reading a body serves at its client's pace (a sequential worker waits in
    // rw_body_read): one body per worker at a time, and never on every worker, so that
    // clients that never finish their uploads cannot keep other requests out. The others
    // wait in the queue with only their head (their bodies wait in the kernel).
    let serving = workers.lazy.filter(\.isServing).count
    let reading = workers.lazy.filter { $0.isServing && $0.streamedBodies > 0 }.count
    guard serving == 1 || reading < serving - 1 else { return false }
    let placed = placeInFreeSlot(requestBytes: needed) { worker, channel, slot, memory in
      guard worker.streamedBodies == 0 else {
        channel.abandonSlot(slot)
        return false
      }
      guard
        fillSlot(
          slot, memory: memory, of: worker, channel: channel, head: head, parts: parts,
          headers: headers, body: UnsafeRawBufferPointer(start: nil, count: 0), origin: origin,
          ticket: ticket, now: loop.now, streamsBody: true)
      else { return false }
      token = Self.bodyToken(worker: worker.index, slot: slot)
      worker.streamedBodies += 1
      return true
    }
    if placed { loop.resumeBody(ticket, token: token) }
    return placed
  }

  public func bodyRoom(token: UInt64, ticket: ReplyTicket) -> UnsafeMutableRawBufferPointer? {
    guard let (worker, channel, slot) = bodySlot(token, ticket) else { return nil }
    return channel.bodyRoom(slot: slot)
  }

  public func bodyWritten(token: UInt64, ticket: ReplyTicket, count: Int, isLast: Bool) {
    guard let (worker, channel, slot) = bodySlot(token, ticket),
      channel.sendBodyPart(slot: slot, length: count, last: isLast)
    else { return }
    noteBodyProgress(worker, slot: slot)
  }

  public func bodyAborted(token: UInt64, ticket: ReplyTicket) {
    guard let (worker, channel, slot) = bodySlot(token, ticket), channel.isStreamingBody(slot: slot)
    else { return }
    if channel.bodyRoom(slot: slot) == nil {
      worker.slots[slot]!.bodyAbortPending = true
      return
    }
    channel.sendBodyPart(slot: slot, length: 0, last: true, aborted: true)
    noteBodyProgress(worker, slot: slot)
  }

  /// An acknowledgement freed a window half: the pending abort goes out, else the loop feeds
  /// the next part.
  func bodyPartTaken(
    slot: Int, from worker: WorkerHandle, channel: FrontChannel, loop: some PoolLoop
  ) {
    guard let entry = worker.slots[slot] else { return }
    worker.slots[slot]!.dispatchedAt = loop.now
    if entry.bodyAbortPending {
      worker.slots[slot]!.bodyAbortPending = false
      channel.sendBodyPart(slot: slot, length: 0, last: true, aborted: true)
      noteBodyProgress(worker, slot: slot)
      return
    }
    loop.resumeBody(entry.ticket, token: 0)
  }

  /// The request timeout of a streamed-body request runs from its last progress, not from
  /// dispatch: a long upload that keeps moving is not the worker being stuck.
  private func noteBodyProgress(_ worker: WorkerHandle, slot: Int) {
    worker.slots[slot]!.dispatchedAt = rb_monotonic_ns()
    if !unpublished.contains(worker.index) { unpublished.append(worker.index) }
  }

  /// Tokens name a worker position and a slot; 0 means "not placed".
  static func bodyToken(worker: Int, slot: Int) -> UInt64 {
    (UInt64(worker) << 32 | UInt64(slot)) + 1
  }

  /// The worker, channel and slot a token names, if that slot still holds the ticket's request.
  private func bodySlot(_ token: UInt64, _ ticket: ReplyTicket) -> (
    WorkerHandle, FrontChannel, Int
  )? {
    guard token != 0 else { return nil }
    let index = Int((token - 1) >> 32)
    let slot = Int((token - 1) & 0xFFFF_FFFF)
    guard index < workers.count, let channel = workers[index].channel,
      slot < workers[index].slots.count, workers[index].slots[slot]?.ticket == ticket
    else { return nil }
    return (workers[index], channel, slot)
  }
}
