import BrokerLog
import CRingABI
import RingChannel
import RingFront

extension Dispatcher {
  /// Takes every finished reply from every channel and queues it for sending (a large body
  /// straight from the slot; the loop copies small ones). A worker that wrote something impossible breaks its channel: it is then
  /// replaced by `replaceWorkersWithBrokenChannels`.
  func collectReplies(loop: some PoolLoop) {
    for worker in workers {
      if worker.sleepFlagSet, let channel = worker.channel {
        channel.markAwake()
        worker.sleepFlagSet = false
      }
      guard let channel = worker.channel, channel.inFlight > 0 else { continue }
      var collected = false
      while true {
        switch channel.nextReply(now: loop.now) {
        case .none:
          break
        case .reply(let reply):
          collected = true
          deliver(reply, from: worker, channel: channel, loop: loop)
          continue
        case .bodyTaken(let slot):
          collected = true
          bodyPartTaken(slot: slot, from: worker, channel: channel, loop: loop)
          continue
        case .broken:
          break
        }
        break
      }
      if collected { channel.releaseResponses() }
    }
  }

  private func deliver(
    _ reply: ValidatedReply, from worker: WorkerHandle, channel: FrontChannel, loop: some PoolLoop
  ) {
    if reply.part != .whole {
      deliverPart(reply, from: worker, channel: channel, loop: loop)
      return
    }
    guard let entry = worker.slots[reply.slot] else {
      channel.releaseSlot(reply.slot)
      return
    }
    worker.slots[reply.slot] = nil
    if entry.streamsBody { worker.streamedBodies -= 1 }
    // The slot goes back through the release token, whatever the outcome.
    worker.outstandingSends += 1
    noteUpstream(of: entry, answeredBy: worker, loop: loop)
    let outcome = loop.reply(
      entry.ticket, status: reply.status, headerBlock: reply.headerBlock, body: reply.body,
      releaseToken: operations.insert(
        .replyRelease, worker: worker.index, generation: worker.generation, slot: reply.slot))
    noteOutcome(outcome, of: reply, from: worker, channel: channel)
  }

  /// Tells the loop, for the access log, who answers the request of `entry`: `worker`, with the
  /// request id it saw and the time since the request was put in its slot; or, with `worker`
  /// nil (the broker answers in its place: 502, 503, 504), only the request id.
  func noteUpstream(
    of entry: WorkerHandle.SlotTicket, answeredBy worker: WorkerHandle?, loop: some PoolLoop
  ) {
    var upstreamNs: UInt64?
    if worker != nil { upstreamNs = loop.now &- entry.placedAt }
    loop.noteUpstream(
      entry.ticket, worker: worker?.id, requestID: entry.requestID, upstreamNs: upstreamNs)
  }

  /// The front checks the header lines on its own copy (the worker may rewrite the slot at any
  /// time), so the outcome of queuing a reply is where a bad block shows.
  func noteOutcome(
    _ outcome: ReplyOutcome, of reply: ValidatedReply, from worker: WorkerHandle,
    channel: FrontChannel
  ) {
    switch outcome {
    case .invalidHeaders:
      channel.countError()
      Log.error("worker \(worker.id) wrote invalid reply headers; answered 502")
    case .invalidStatus:
      channel.countError()
      Log.error("worker \(worker.id) wrote reply status \(reply.status); answered 502")
    case .queued, .clientGone:
      break
    }
  }

  /// The loop no longer reads the reply's bytes: its slot can carry the next request.
  func releaseSlot(of worker: WorkerHandle, generation: UInt64, slot: Int) {
    if generation == worker.generation, let channel = worker.channel {
      worker.outstandingSends -= 1
      channel.releaseSlot(slot)
      return
    }
    guard let index = worker.retired.firstIndex(where: { $0.generation == generation }) else {
      return
    }
    worker.retired[index].channel.releaseSlot(slot)
    worker.retired[index].outstandingSends -= 1
    if worker.retired[index].outstandingSends == 0 { worker.retired.remove(at: index) }
  }

  /// Before the loop blocks: for each worker that owes replies, raise the front's sleeping
  /// flag and keep a FUTEX_WAIT armed on the response ring's wake word, so that the worker's
  /// wake ends the loop's wait. A reply that slipped in meanwhile keeps the loop from sleeping.
  func armReplyWaits(loop: some PoolLoop) -> Bool {
    var mayBlock = true
    for worker in workers {
      guard let channel = worker.channel, channel.inFlight > 0, !channel.isBroken else { continue }
      guard let word = channel.prepareToWaitForReplies() else {
        mayBlock = false
        continue
      }
      worker.sleepFlagSet = true
      guard !worker.futexArmed else { continue }
      worker.futexArmed = true
      let token = operations.insert(.futexWait, worker: worker.index, generation: worker.generation)
      worker.futexWaitToken = token
      loop.waitOnWord(channel.responseWakeWord, expected: word, token: token)
    }
    return mayBlock
  }
}
