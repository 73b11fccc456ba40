import CRingABI
import Glibc
import RingChannel

/// The worker's end of a channel: takes requests from the request ring and hands replies back
/// through the response ring. Workers never see ring indices; this class owns them.
public final class Worker {
  public enum Next {
    case request(Request)
    case timeout
    /// The worker should exit: the broker asked it to, is gone, or broke the channel.
    case exit(String)
  }

  /// Mutable hot-path state lives behind a pointer: stored properties of a class pay a dynamic
  /// exclusivity check on every access, which showed up as ~20% of a ring hop.
  struct Rings {
    var requests: RingConsumer<rb_request_descriptor>
    var responses: RingProducer<rb_response_descriptor>
    /// Replies written but not yet published: publishing once per batch saves cache-line trips.
    var unpublishedReplies = 0
    /// New requests taken from the ring while the worker waited inside a handler, in order,
    /// not yet claimed: the next `next()` claims and hands them out first.
    var queuedFirst = 0
    var queuedCount = 0
  }

  public let segment: ChannelSegment
  private let rings: UnsafeMutablePointer<Rings>
  var requests: RingConsumer<rb_request_descriptor> {
    _read { yield rings.pointee.requests }
    _modify { yield &rings.pointee.requests }
  }
  var responses: RingProducer<rb_response_descriptor> {
    _read { yield rings.pointee.responses }
    _modify { yield &rings.pointee.responses }
  }
  var unpublishedReplies: Int {
    get { rings.pointee.unpublishedReplies }
    set { rings.pointee.unpublishedReplies = newValue }
  }
  let records: UnsafeMutablePointer<RequestRecord>
  /// Every slot's address text room (RequestRecord.addressText).
  private let addressText: UnsafeMutablePointer<CChar>
  /// The requests in `Rings.queued*`: as many entries as the request ring has, so it holds
  /// whatever the ring could.
  private let queued: UnsafeMutablePointer<QueuedRequest>
  private let queueCapacity: Int
  /// Why the worker must exit, noticed while it waited for a credit: `next()` says so once the
  /// requests taken before it are handed out.
  private var pendingExit: String?
  /// Set with `pendingExit` when the channel itself is gone or broken (not a shutdown): later
  /// credit waits fail at once.
  private var brokenReason: String?
  private let spin: SpinPolicy
  /// ringabi.h, "Stream window": lent to one streamed reply at a time (a caller may hold
  /// several requests), from its first write until its last part.
  let streamWindow: UnsafeMutableRawBufferPointer
  var streamWindowInUse = false
  private let brokerPidfd: Int32
  let counters: UnsafeMutablePointer<rb_worker_counters>
  private static let maximumBatch = 8

  /// The connection to the broker's control socket, for an attached worker (else -1).
  var controlConnection: Int32 = -1

  /// Opens the channel given by the environment: RINGWORKER_FD (spawned by the broker), or
  /// RINGWORKER_ENDPOINT (a running broker's control socket, to attach to).
  public static func fromEnvironment() throws(ChannelError) -> Worker {
    if getenv("RINGWORKER_FD") == nil, let endpoint = getenv("RINGWORKER_ENDPOINT") {
      return try attach(endpoint: String(cString: endpoint))
    }
    if let text = getenv("RINGWORKER_FD").map({ String(cString: $0) }) {
      guard let fd = Int32(text), fd >= 0 else {
        throw .invalidParameters("RINGWORKER_FD='\(text)' is not a file descriptor")
      }
      return try Worker(fd: fd)
    }
    throw .invalidParameters(
      "neither RINGWORKER_FD nor RINGWORKER_ENDPOINT is set: start this worker with ringbroker --worker CMD, or set RINGWORKER_ENDPOINT to a broker's control socket"
    )
  }

  /// Takes ownership of `fd`, a channel memfd.
  public init(fd: Int32, spin: SpinPolicy = .fromEnvironment()) throws(ChannelError) {
    segment = try ChannelSegment.attach(fd: fd)
    rings = .allocate(capacity: 1)
    rings.initialize(
      to: Rings(
        requests: RingConsumer(segment.requestRing), responses: RingProducer(segment.responseRing)))
    self.spin = spin
    queueCapacity = segment.requestRing.capacity
    streamWindow = segment.streamWindow
    queued = .allocate(capacity: queueCapacity)
    let slotCount = segment.slotCount
    records = .allocate(capacity: slotCount)
    records.initialize(repeating: RequestRecord(), count: slotCount)
    let textPerSlot = 2 * rb_endpoint.maximumTextLength
    addressText = .allocate(capacity: slotCount * textPerSlot)
    brokerPidfd = rb_pidfd_open(pid_t(segment.header.pointee.broker_pid))
    counters = UnsafeMutableRawPointer(segment.header)
      .advanced(by: MemoryLayout<rb_channel_header>.offset(of: \.worker)!)
      .assumingMemoryBound(to: rb_worker_counters.self)
    counters.pointee.pid = UInt32(getpid())
    let opaqueSelf = Unmanaged.passUnretained(self).toOpaque()
    for slot in 0..<slotCount {
      let memory = segment.slot(slot)!
      records[slot].slot = UInt32(slot)
      records[slot].memory = memory.baseAddress
      records[slot].slotSize = memory.count
      records[slot].worker = opaqueSelf
      records[slot].addressText = addressText + slot * textPerSlot
    }
  }

  deinit {
    flush()
    rings.deinitialize(count: 1)
    rings.deallocate()
    records.deinitialize(count: segment.slotCount)
    records.deallocate()
    addressText.deallocate()
    queued.deallocate()
    if brokerPidfd >= 0 { close(brokerPidfd) }
    if controlConnection >= 0 { close(controlConnection) }
  }

  /// Waits up to `timeoutMilliseconds` (negative: forever) for the next request.
  public func next(timeoutMilliseconds: Int = -1) -> Next {
    if let request = take() { return request }
    flush()
    if spin.spin(until: { requests.hasPending() }), let request = take() { return request }
    let deadline =
      timeoutMilliseconds < 0
      ? UInt64.max : rb_monotonic_ns() + UInt64(timeoutMilliseconds) * 1_000_000
    var checkBroker = true
    while true {
      if let request = take() { return request }
      // The broker's liveness costs a syscall: check it on entry and after each slice that ran
      // out, not on every wake-up.
      if checkBroker, let reason = reasonToExit() { return .exit(reason) }
      let now = rb_monotonic_ns()
      if now >= deadline { return .timeout }
      // Sleep in slices, to notice a broker that died without waking us.
      let slice = min(deadline - now, 500_000_000)
      checkBroker = false
      if let word = requests.prepareToSleep() {
        let timedOut = requests.sleep(expecting: word, timeoutNanoseconds: Int64(slice))
        requests.markAwake()
        checkBroker = timedOut
        if timedOut && requests.hasPending() {
          rb_store_relaxed_u32(&counters.pointee.late_wakeups, counters.pointee.late_wakeups + 1)
        }
        rb_store_relaxed_u64(&counters.pointee.wakeups, counters.pointee.wakeups + 1)
      }
    }
  }

  /// The next request: one taken earlier (while a handler waited) first, then the ring's.
  /// Credits on the way are applied, and requests the front took back skipped; nil when
  /// nothing is waiting.
  private func take() -> Next? {
    while rings.pointee.queuedCount > 0 {
      let queued = dequeue()
      if queued.isClaimed {
        return .request(Request(record: records + Int(queued.descriptor.slot)))
      }
      if let next = claim(queued.descriptor) { return next }
    }
    if let pendingExit { return .exit(pendingExit) }
    while true {
      switch route() {
      case .empty: return nil
      case .request(let request): return .request(request)
      case .unclaimed(let descriptor):
        if let next = claim(descriptor) { return next }
        continue
      case .applied: continue
      case .shutdown(let reason), .exit(let reason):
        pendingExit = reason
        return .exit(reason)
      }
    }
  }

  /// What one descriptor from the request ring was.
  enum Routed {
    case empty
    /// A new request, claimed and checked (one whose body streams: its parts follow).
    case request(Request)
    /// A new request not claimed yet: `claim` it right before running it, so that the front
    /// can still run it elsewhere while this worker is busy.
    case unclaimed(rb_request_descriptor)
    /// A reply credit or a body part, applied to its request's record.
    case applied
    /// RB_REQ_SHUTDOWN: exit once the work in hand is done.
    case shutdown(String)
    /// The channel cannot be trusted any more: exit now.
    case exit(String)
  }

  /// Takes one descriptor from the request ring and routes it by kind (ringabi.h, request
  /// descriptor flags): the one place that knows them all. Everything is checked before use;
  /// a descriptor that does not fit what this side knows breaks the channel (`.exit`).
  func route() -> Routed {
    switch requests.pop() {
    case .empty: return .empty
    case .corruptHead: return .exit("channel broken: impossible request-ring head")
    case .entry(let descriptor):
      // Publish the take at once (a store to a line only this side writes): if the worker
      // dies in the handler, the front must know the request was taken and may have had
      // effects, and must not run it again elsewhere.
      requests.release()
      let flags = descriptor.flags
      if flags & Self.notNewRequest != 0 {
        if flags & UInt32(RB_REQ_SHUTDOWN) != 0 {
          return .shutdown("the broker asked this worker to stop")
        }
        if flags & UInt32(RB_REQ_PART_SENT) != 0 { return applyCredit(descriptor) }
        if flags & UInt32(RB_REQ_BODY_PART) != 0 {
          // RequestBody.swift files it with its request.
          if let problem = acceptBodyPart(descriptor) { return .exit("channel broken: \(problem)") }
          return .applied
        }
        return .exit(
          "channel broken: descriptor flags 0x\(String(flags, radix: 16)) are not supported")
      }
      guard Int(descriptor.slot) < segment.slotCount else {
        return .exit("channel broken: request descriptor names slot \(descriptor.slot)")
      }
      // Its body parts follow it in the ring and need its record: it is claimed at once (the
      // front never takes such a request back).
      if flags & UInt32(RB_REQ_BODY_STREAM) != 0 {
        switch claim(descriptor) {
        case .request(let request): return .request(request)
        case .exit(let reason): return .exit(reason)
        case .timeout, nil: return .applied
        }
      }
      return .unclaimed(descriptor)
    }
  }

  /// Claims a new request (ringabi.h, "Slot claims") and checks it: nil when the front took it
  /// back first (the slot may already carry its next request; it is not touched).
  private func claim(_ descriptor: rb_request_descriptor) -> Next? {
    let id = descriptor.request_id
    guard rb_compare_exchange_u64(segment.claimWord(Int(descriptor.slot)), id, ~id) else {
      return nil
    }
    switch admit(descriptor) {
    case .request(let request):
      // Replies held back for a batch go out before the next handler runs: it may be slow,
      // and they must not wait for it.
      if unpublishedReplies > 0 { flush() }
      return .request(request)
    case .exit(let reason): return .exit(stopTrusting(reason))
    default: return nil
    }
  }

  private static let notNewRequest = UInt32(RB_REQ_SHUTDOWN | RB_REQ_PART_SENT | RB_REQ_BODY_PART)

  /// A new request, checked against its slot before anyone reads it.
  private func admit(_ descriptor: rb_request_descriptor) -> Routed {
    let slot = Int(descriptor.slot)
    guard records[slot].phase == .idle,
      Int(descriptor.length) <= records[slot].slotSize,
      Int(descriptor.reply_offset) <= records[slot].slotSize,
      Int(descriptor.reply_offset) >= Int(descriptor.length)
    else { return .exit("channel broken: request descriptor names slot \(descriptor.slot)") }
    if let problem = RequestHeadCheck.problem(
      records[slot].memory!, length: Int(descriptor.length))
    {
      return .exit("channel broken: the request in slot \(slot) \(problem.description)")
    }
    let record = records + slot
    if let problem = beginBody(record, descriptor) {
      return .exit("channel broken: the request in slot \(slot) \(problem)")
    }
    record.pointee.requestID = descriptor.request_id
    record.pointee.replyOffset = Int(descriptor.reply_offset)
    record.pointee.phase = .received
    record.pointee.declaredLength = RB_LENGTH_UNDECLARED
    rb_store_relaxed_u64(&counters.pointee.requests_taken, counters.pointee.requests_taken + 1)
    return .request(Request(record: record))
  }

  /// RB_REQ_PART_SENT: one part of a streamed reply left (the oldest uncredited one).
  private func applyCredit(_ descriptor: rb_request_descriptor) -> Routed {
    let slot = Int(descriptor.slot)
    // A credit may also come just after the worker published the last part: the front pushed
    // it before it took that part. It names the same request, and there are never more
    // credits than parts.
    guard slot < segment.slotCount,
      records[slot].phase == .streaming || records[slot].phase == .idle,
      records[slot].requestID == descriptor.request_id, records[slot].partsInFlight > 0
    else { return .exit("channel broken: reply credit names slot \(descriptor.slot)") }
    records[slot].partsInFlight -= 1
    if descriptor.flags & UInt32(RB_REQ_CLIENT_GONE) != 0 { records[slot].clientGone = true }
    return .applied
  }

  /// A new request taken from the ring inside a handler, waiting for `next()`.
  struct QueuedRequest {
    var descriptor: rb_request_descriptor
    /// Claimed and checked when taken (its body streams); else `take` claims it.
    var isClaimed: Bool

    init(unclaimed descriptor: rb_request_descriptor) {
      self.descriptor = descriptor
      isClaimed = false
    }

    init(slot: UInt32) {
      descriptor = rb_request_descriptor()
      descriptor.slot = slot
      isClaimed = true
    }
  }

  /// False when the queue is full: only a front that breaks the protocol gets there (a slot's
  /// descriptors never outnumber its ring entries).
  private func enqueue(_ request: QueuedRequest) -> Bool {
    guard rings.pointee.queuedCount < queueCapacity else { return false }
    queued[(rings.pointee.queuedFirst + rings.pointee.queuedCount) % queueCapacity] = request
    rings.pointee.queuedCount += 1
    return true
  }

  private func dequeue() -> QueuedRequest {
    let request = queued[rings.pointee.queuedFirst]
    rings.pointee.queuedFirst = (rings.pointee.queuedFirst + 1) % queueCapacity
    rings.pointee.queuedCount -= 1
    return request
  }

  /// Waits until `record` may publish another part (fewer than RB_REPLY_PARTS_IN_FLIGHT
  /// uncredited, or the client is gone). Returns why the worker must exit instead, if it must.
  func waitForCredit(_ record: UnsafeMutablePointer<RequestRecord>, below limit: Int) -> String? {
    waitInHandler { record.pointee.partsInFlight < limit || record.pointee.clientGone }
  }

  /// Waits until every part `record` published was credited: its memory is the worker's
  /// again (the stream window is lent on only then). Returns why the worker must exit instead.
  func waitForAllCredits(_ record: UnsafeMutablePointer<RequestRecord>) -> String? {
    waitInHandler { record.pointee.partsInFlight == 0 }
  }

  /// Waits, inside a handler, until `done` holds (a credit or a body part arrived), taking
  /// every descriptor that arrives meanwhile: new requests wait in the worker's queue for
  /// `next()`. Sleeps on the request ring's futex like `next()`, and notices a broker that
  /// died. Returns why the worker must exit instead, if it must: then `done` never will.
  func waitInHandler(until done: () -> Bool) -> String? {
    if let brokenReason { return brokenReason }
    var checkBroker = false
    while !done() {
      let queued: QueuedRequest
      switch route() {
      case .request(let request):
        queued = QueuedRequest(slot: request.record.pointee.slot)
      case .unclaimed(let descriptor):
        queued = QueuedRequest(unclaimed: descriptor)
      case .applied:
        continue
      case .shutdown(let reason):
        // The request in hand is work in hand: it finishes first.
        pendingExit = reason
        continue
      case .exit(let reason):
        return stopTrusting(reason)
      case .empty:
        if checkBroker, let reason = reasonToExit() {
          return stopTrusting(reason)
        }
        // Our published parts and released entries must be visible before we sleep on them.
        flush()
        checkBroker = true
        // The front usually answers within one of its loop turns (a send of the part, then the
        // credit): spinning that long saves the two futex wake-ups a sleep costs.
        if spin.spin(until: { requests.hasPending() }) { continue }
        if let word = requests.prepareToSleep() {
          let timedOut = requests.sleep(expecting: word, timeoutNanoseconds: 500_000_000)
          requests.markAwake()
          checkBroker = timedOut
          rb_store_relaxed_u64(&counters.pointee.wakeups, counters.pointee.wakeups + 1)
        }
        continue
      }
      guard enqueue(queued) else {
        return stopTrusting("channel broken: more requests than the request ring holds")
      }
    }
    return nil
  }

  /// Publishes one part of a streamed reply at once (the client should get it now), waking
  /// the front if it sleeps. The ring cannot be full: a slot has at most RB_REPLY_PARTS_IN_FLIGHT
  /// parts and its last one out (RB_RING_ENTRIES_PER_SLOT).
  func publishPart(
    _ record: UnsafeMutablePointer<RequestRecord>, status: UInt32, headerLength: Int,
    flags: UInt32, bodyOffset: Int, bodyLength: Int
  ) {
    let descriptor = rb_response_descriptor(
      slot: record.pointee.slot, status: status, request_id: record.pointee.requestID,
      header_length: UInt32(headerLength), flags: UInt32(RB_RESP_CHUNK) | flags,
      body_offset: UInt32(bodyOffset), body_length: UInt32(bodyLength))
    if flags & UInt32(RB_RESP_END) != 0 {
      record.pointee.phase = .idle
      rb_store_relaxed_u64(
        &counters.pointee.replies_published, counters.pointee.replies_published + 1)
    } else {
      record.pointee.partsInFlight += 1
    }
    _ = responses.push(descriptor)
    unpublishedReplies += 1
    flush()
  }

  /// Called by ReplyWriter.send: queues the response descriptor and publishes the batch when
  /// nothing else is waiting (or the batch is full); at the latest, the next claim publishes
  /// it.
  func complete(
    _ record: UnsafeMutablePointer<RequestRecord>, headerLength: Int, bodyOffset: Int,
    bodyLength: Int
  ) {
    let descriptor = rb_response_descriptor(
      slot: record.pointee.slot, status: record.pointee.status,
      request_id: record.pointee.requestID,
      header_length: UInt32(headerLength), flags: UInt32(RB_RESP_FINAL),
      body_offset: UInt32(bodyOffset), body_length: UInt32(bodyLength))
    record.pointee.phase = .idle
    // The ring holds one entry per slot, so it cannot be full while this slot was ours.
    _ = responses.push(descriptor)
    unpublishedReplies += 1
    rb_store_relaxed_u64(
      &counters.pointee.replies_published, counters.pointee.replies_published + 1)
    if unpublishedReplies >= Self.maximumBatch || !requests.hasPending() { flush() }
  }

  /// Publishes pending replies and consumed request entries, waking the front if it sleeps.
  public func flush() {
    requests.release()
    guard unpublishedReplies > 0 else { return }
    unpublishedReplies = 0
    responses.publish()
    if responses.claimWake() { responses.wakeConsumer() }
  }

  /// The channel is gone or broken: every later wait fails at once, and `next()` says why.
  private func stopTrusting(_ reason: String) -> String {
    pendingExit = reason
    brokenReason = reason
    return reason
  }

  func reasonToExit() -> String? {
    let state = rb_load_acquire_u32(&segment.header.pointee.state)
    if state == UInt32(RB_STATE_BROKEN) { return "the broker marked this channel broken" }
    if state == UInt32(RB_STATE_DEAD) { return "the broker closed this channel" }
    if brokerPidfd >= 0 {
      var poller = pollfd(fd: brokerPidfd, events: Int16(POLLIN), revents: 0)
      if poll(&poller, 1, 0) > 0 { return "the broker exited" }
    } else if kill(pid_t(segment.header.pointee.broker_pid), 0) != 0 && errno == ESRCH {
      return "the broker exited"
    }
    return nil
  }
}
