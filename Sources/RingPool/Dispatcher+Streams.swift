import BrokerLog
import CRingABI
import RingChannel
import RingFront

extension Dispatcher {
  /// Queues one part of a streamed reply (checked by the channel) on its client's connection.
  /// Each part but the last gets a `.partRelease` token: its release credits the worker. The
  /// last one's frees the slot, as a whole reply's does. A part whose client is gone comes back
  /// released at once, so the worker hears of it with its next credit.
  func deliverPart(
    _ reply: ValidatedReply, from worker: WorkerHandle, channel: FrontChannel, loop: some PoolLoop
  ) {
    guard var entry = worker.slots[reply.slot] else {
      // Answered already (a 504 before its first part): dropped unsent.
      if reply.isLast {
        channel.releaseSlot(reply.slot)
      } else {
        channel.partSent(slot: reply.slot, clientGone: true)
        markUnpublished(worker)
      }
      return
    }
    worker.outstandingSends += 1
    let token = operations.insert(
      reply.isLast ? .replyRelease : .partRelease, worker: worker.index,
      generation: worker.generation, slot: reply.slot)
    if reply.isLast {
      worker.slots[reply.slot] = nil
      if entry.streamsBody { worker.streamedBodies -= 1 }
    } else {
      entry.streaming = true
      entry.dispatchedAt = loop.now
      // A part shows the worker alive: only a timeout without one since counts as stuck.
      entry.timedOut = false
      worker.slots[reply.slot] = entry
    }
    noteUpstream(of: entry, answeredBy: worker, loop: loop)
    if reply.isAborted {
      loop.abortReply(entry.ticket, releaseToken: token)
      Log.warning(
        "request \(Self.requestLine(in: channel, slot: reply.slot, length: entry.length)) on "
          + "worker \(worker.id): the worker aborted its streamed reply; closing the connection")
      return
    }
    let outcome: ReplyOutcome
    if reply.part == .first {
      outcome = loop.startReply(
        entry.ticket, status: reply.status, headerBlock: reply.headerBlock,
        declaredLength: reply.declaredLength, body: reply.body, isLast: reply.isLast,
        releaseToken: token)
    } else {
      outcome = loop.continueReply(
        entry.ticket, body: reply.body, isLast: reply.isLast, releaseToken: token)
    }
    noteOutcome(outcome, of: reply, from: worker, channel: channel)
  }

  /// A part's bytes have left (or never will: its client is gone): the worker gets its credit,
  /// with RB_REQ_CLIENT_GONE once the client can no longer get parts.
  func partReleased(of worker: WorkerHandle, generation: UInt64, slot: Int) {
    if generation == worker.generation, let channel = worker.channel {
      worker.outstandingSends -= 1
      let entry = worker.slots[slot]
      let clientGone = entry.map { !(servingLoop?.isReplyOpen($0.ticket) ?? false) } ?? true
      channel.partSent(slot: slot, clientGone: clientGone)
      // The worker may write again: the request timeout counts from here.
      if let now = servingLoop?.now, entry != nil { worker.slots[slot]!.dispatchedAt = now }
      markUnpublished(worker)
      return
    }
    guard let index = worker.retired.firstIndex(where: { $0.generation == generation }) else {
      return
    }
    worker.retired[index].channel.partSent(slot: slot, clientGone: true)
    worker.retired[index].outstandingSends -= 1
    if worker.retired[index].outstandingSends == 0 { worker.retired.remove(at: index) }
  }

  /// The worker's channel has descriptors for `publishAll` to make visible (and wake it for).
  func markUnpublished(_ worker: WorkerHandle) {
    if !unpublished.contains(worker.index) { unpublished.append(worker.index) }
  }
}
