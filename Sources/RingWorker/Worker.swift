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
  private let spin: SpinPolicy
  private let brokerPidfd: Int32
  let counters: UnsafeMutablePointer<rb_worker_counters>
  private static let maximumBatch = 8

  /// What the ring brought while a body read waited for its part (new requests, an exit):
  /// handed out by `next()` first, in order (RequestBody.swift).
  var held: [Next] = []
  var heldStart = 0

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
    if brokerPidfd >= 0 { close(brokerPidfd) }
    if controlConnection >= 0 { close(controlConnection) }
  }

  /// Waits up to `timeoutMilliseconds` (negative: forever) for the next request.
  public func next(timeoutMilliseconds: Int = -1) -> Next {
    if let held = takeHeld() { return held }
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

  func take() -> Next? {
    while true {
      switch requests.pop() {
      case .empty: return nil
      case .corruptHead: return .exit("channel broken: impossible request-ring head")
      case .entry(let descriptor):
        // Publish the take at once (a store to a line only this side writes): if the worker
        // dies in the handler, the front must know the request was taken and may have had
        // effects, and must not run it again elsewhere.
        requests.release()
        if descriptor.flags & UInt32(RB_REQ_SHUTDOWN) != 0 {
          return .exit(Self.shutdownReason)
        }
        if descriptor.flags & UInt32(RB_REQ_BODY_PART) != 0 {
          if let problem = acceptBodyPart(descriptor) { return .exit("channel broken: \(problem)") }
          continue
        }
        let slot = Int(descriptor.slot)
        guard slot < segment.slotCount, records[slot].phase == .idle,
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
        rb_store_relaxed_u64(&counters.pointee.requests_taken, counters.pointee.requests_taken + 1)
        return .request(Request(record: record))
      }
    }
  }

  /// Called by ReplyWriter.send: queues the response descriptor and publishes the batch when
  /// nothing else is waiting (or the batch is full).
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

  static let shutdownReason = "the broker asked this worker to stop"

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
