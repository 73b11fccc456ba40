import BrokerLog
import CRingABI
import RingChannel
import RingFront

/// Requests that move to another worker before their worker began them: when it died, or when
/// it stalled on a slow request (ringabi.h, "Slot claims"): a slow handler holds up only its
/// own request, never those queued behind it while another worker could serve them.
extension Dispatcher {
  /// Refreshes every worker's `isStalled`, and moves what stalled workers hold unclaimed to
  /// workers that are not stalled. Nothing moves while every worker is stalled: the requests
  /// would only trade one wait for another (they then move as soon as one worker is free).
  func moveRequestsOffStalledWorkers(loop: some PoolLoop) {
    var someWorkerFree = false
    var someWorkerStalled = false
    for worker in workers {
      guard let channel = worker.channel, worker.isServing else {
        worker.isStalled = false
        continue
      }
      channel.freeRevokedSlots()
      worker.isStalled = channel.hasStalled(now: loop.now, thresholdNs: config.stallAfterNs)
      if worker.isStalled {
        someWorkerStalled = true
      } else if worker.inFlight < config.maxDepthPerWorker {
        someWorkerFree = true
      }
    }
    guard someWorkerStalled && someWorkerFree else { return }
    for worker in workers where worker.isStalled {
      guard let channel = worker.channel else { continue }
      for slot in worker.slots.indices where channel.mayRevoke(slot: slot) {
        guard let entry = worker.slots[slot], channel.revoke(slot: slot) else { continue }
        worker.slots[slot] = nil
        guard !redispatch(entry, from: channel, slot: slot, now: loop.now) else { continue }
        noteUpstream(of: entry, answeredBy: nil, loop: loop)
        loop.replyError(
          entry.ticket, status: 503, body: "all workers are busy\n",
          extraHeaders: "Retry-After: 1\r\n")
      }
    }
  }

  /// Before the loop sleeps: it must wake when a worker that holds requests would count as
  /// stalled, to move what waits behind its slow request.
  func wakeWhenWorkersMayStall(loop: some PoolLoop) {
    for worker in workers where worker.isServing && !worker.isStalled {
      guard let channel = worker.channel, channel.inFlight > 0 else { continue }
      loop.wake(by: channel.progressAt &+ config.stallAfterNs &+ 1)
    }
  }

  /// A request its worker never claimed (the worker died, or stalled): it goes to another
  /// worker, as is (every offset in it is relative to the slot start), or waits in the front
  /// for one; false when the queue is full too. Its bytes come from the front's own copy
  /// (FrontChannel.requestBytes): what moves is what the client sent, whatever the worker
  /// wrote into its slot.
  func redispatch(
    _ entry: WorkerHandle.SlotTicket, from channel: FrontChannel, slot: Int, now: UInt64
  ) -> Bool {
    let image = channel.requestBytes(slot: slot, length: entry.length)
    return dispatchSlotImage(image, replyOffset: entry.replyOffset, ticket: entry.ticket, now: now)
      || queue.appendSlotImage(
        image, replyOffset: entry.replyOffset, ticket: entry.ticket,
        deadline: now + config.queueTimeoutNs)
  }

  /// The id in the head of a slot image the front wrote.
  static func requestID(inImage image: UnsafeRawBufferPointer) -> UInt64 {
    let offset = MemoryLayout<rb_request_head>.offset(of: \rb_request_head.request_id)!
    guard image.count >= offset + 8 else { return 0 }
    return image.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
  }

  /// Copies a request already laid out in a slot into a slot of the least busy worker that has
  /// one free for it.
  func dispatchSlotImage(
    _ image: UnsafeRawBufferPointer, replyOffset: Int, ticket: ReplyTicket, now: UInt64
  ) -> Bool {
    placeInFreeSlot(requestBytes: replyOffset) { target, destination, newSlot, memory in
      memory.baseAddress!.copyMemory(from: image.baseAddress!, byteCount: image.count)
      // A new id for the hand-off; the head inside the image keeps the request's own id.
      let id = requestIDs.take()
      guard
        destination.dispatch(
          slot: newSlot, length: image.count, requestID: id, replyOffset: replyOffset, flags: 0,
          now: now)
      else { return false }
      target.slots[newSlot] = WorkerHandle.SlotTicket(
        ticket: ticket, length: image.count, replyOffset: replyOffset, dispatchedAt: now,
        requestID: Self.requestID(inImage: image), placedAt: now)
      if !unpublished.contains(target.index) { unpublished.append(target.index) }
      return true
    }
  }
}
