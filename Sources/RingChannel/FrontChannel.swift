import CRingABI
import Glibc

/// A reply the worker finished, or one part of a streamed reply, after every field it wrote was
/// checked against the slot.
public struct ValidatedReply {
  /// Which piece of a reply this is (ringabi.h, "Streamed replies").
  public enum Part: Equatable {
    /// A whole reply (RB_RESP_FINAL).
    case whole
    /// The first part of a streamed reply: it carries the status and header lines.
    case first
    /// A later part: body bytes only.
    case next
  }

  public var slot: Int
  public var requestID: UInt64
  /// 0 on later parts.
  public var status: Int
  /// "Name: value\r\n" lines as the worker wrote them; the caller checks their syntax. Empty
  /// on later parts.
  public var headerBlock: UnsafeRawBufferPointer
  public var body: UnsafeRawBufferPointer
  public var part = Part.whole
  /// The last part (RB_RESP_END; always true for a whole reply): the slot's release frees it.
  public var isLast = true
  /// With `isLast`: the worker gave up midway (RB_RESP_ABORT); the body is not to be completed.
  public var isAborted = false
  /// On the first part: the body length the worker declared (RB_RESP_LENGTH), as read once.
  public var declaredLength: UInt64? = nil
}

/// A request the channel still held when its worker went away.
public struct OrphanedRequest {
  public var slot: Int
  public var requestID: UInt64
  /// False when the worker never took it from the ring: it can safely run elsewhere.
  public var takenByWorker: Bool
  /// Parts of its reply went out already (a streamed reply): the client has a status line, so
  /// only closing its connection is left.
  public var replyStarted: Bool
}

/// The front's side of one channel: it owns the slots, pushes requests, and takes replies,
/// trusting nothing the worker wrote. Used by one front thread only.
public final class FrontChannel {
  public enum ReplyPoll {
    case none
    case reply(ValidatedReply)
    case broken(String)
    /// The worker acknowledged the oldest body part of this slot (RB_RESP_BODY_TAKEN): its
    /// window half is free for the next one.
    case bodyTaken(slot: Int)
  }

  /// `streaming`: with the worker, and its reply's first part was taken. `revoked`: taken
  /// back before the worker claimed it (FrontChannel+Claims), free once the worker's ring
  /// tail passed its descriptor.
  @usableFromInline enum SlotState: UInt8 {
    case free, filling, withWorker, streaming, replied, revoked
  }

  /// Front-private bookkeeping of one slot (never in shared memory: the worker cannot forge it).
  @usableFromInline struct SlotRecord {
    var state = SlotState.free
    /// The worker holds the slot: its request, or a reply it is streaming.
    var isWithWorker: Bool { state == .withWorker || state == .streaming }
    var classIndex: UInt8 = 0
    var replyOffset: UInt32 = 0
    var requestID: UInt64 = 0
    var ringIndex: UInt64 = 0
    var dispatchedAt: UInt64 = 0
    /// A revocation found the request claimed (or its claim word not the front's value): it
    /// is the worker's, and is not tried again.
    var claimSeen = false
    /// Streamed reply: parts taken and not yet credited (RB_REQ_PART_SENT). A slot whose last
    /// part came while others were still out is freed by the last credit (`freeWhenCredited`),
    /// never earlier: the kernel may still read those parts from it.
    var partsInFlight: UInt8 = 0
    var freeWhenCredited = false
    /// The last part taken lay in the stream window: the worker waits for every credit before
    /// its reply's end (ringabi.h, "Stream window").
    var lastPartInWindow = false
    /// The declared body length (RB_LENGTH_UNDECLARED: none) and the body bytes taken so far.
    var declaredLength = UInt64(RB_LENGTH_UNDECLARED)
    var bodyBytes: UInt64 = 0
    /// Set while the request streams its body (RB_REQ_BODY_STREAM); see FrontChannel+RequestBody.
    var body: BodyProgress? = nil
  }

  /// Mutable hot-path state lives behind a pointer: stored properties of a class pay a dynamic
  /// exclusivity check on every access, which showed up as ~20% of a ring hop.
  @usableFromInline struct State {
    var requests: RingProducer<rb_request_descriptor>
    @usableFromInline var responses: RingConsumer<rb_response_descriptor>
    @usableFromInline var inFlight = 0
    /// Replies taken from this channel: the front's own count (the shared-memory counter is for
    /// ringstat, and the worker can write it).
    var repliesCompleted: UInt64 = 0
    @usableFromInline var freeStacks: [FreeStack] = []
    @usableFromInline var brokenReason: String? = nil
    /// When the worker last showed progress (took a reply, a part or a body acknowledgement
    /// from it), or when it got a request while holding none: see `hasStalled`.
    var progressAt: UInt64 = 0
    /// Slots in state `revoked`.
    var revokedCount = 0
  }

  public let segment: ChannelSegment
  @usableFromInline let state: UnsafeMutablePointer<State>
  var requests: RingProducer<rb_request_descriptor> {
    _read { yield state.pointee.requests }
    _modify { yield &state.pointee.requests }
  }
  private var responses: RingConsumer<rb_response_descriptor> {
    _read { yield state.pointee.responses }
    _modify { yield &state.pointee.responses }
  }
  private var freeStacks: [FreeStack] {
    _read { yield state.pointee.freeStacks }
    _modify { yield &state.pointee.freeStacks }
  }
  // The pool asks these for every request; inlinable, so that asking costs no call (and no
  // retain and release of the channel around one).
  @inlinable public var inFlight: Int {
    get { state.pointee.inFlight }
    set { state.pointee.inFlight = newValue }
  }
  let slotCount: Int
  let slots: UnsafeMutablePointer<SlotRecord>
  let slotBases: UnsafeMutablePointer<UnsafeMutableRawPointer>
  let slotSizes: UnsafeMutablePointer<Int>
  /// The front's own copy of each slot's request, as large as the slot. The worker may rewrite
  /// its slots at any time, so a request is written here first and copied into its slot at
  /// `dispatch`: what the front later moves to another worker (or names in a log line) is
  /// read from here, and is always what the client sent. Only the pages requests touched are
  /// resident (a hello-world GET touches one page per slot).
  let requestCopies: PrivateMemory
  let copyBases: UnsafeMutablePointer<UnsafeMutableRawPointer>
  /// ringabi.h, "Stream window": where parts with RB_RESP_IN_STREAM_WINDOW lie.
  let streamWindow: UnsafeRawBufferPointer
  let counters: UnsafeMutablePointer<rb_front_counters>
  public private(set) var brokenReason: String? {
    get { state.pointee.brokenReason }
    set { state.pointee.brokenReason = newValue }
  }

  /// Reply room a slot keeps after the request, when choosing a size class.
  public static let minimumReplyRoom = 16 * 1024

  public init(segment: ChannelSegment) {
    self.segment = segment
    state = .allocate(capacity: 1)
    state.initialize(
      to: State(
        requests: RingProducer(segment.requestRing), responses: RingConsumer(segment.responseRing)))
    slotCount = segment.slotCount
    slots = .allocate(capacity: slotCount)
    slots.initialize(repeating: SlotRecord(), count: slotCount)
    slotBases = .allocate(capacity: slotCount)
    slotSizes = .allocate(capacity: slotCount)
    copyBases = .allocate(capacity: slotCount)
    let copyBytes = segment.layout.slotClasses.reduce(0) {
      $0 + $1.spec.slotSize * $1.spec.slotCount
    }
    // As large as the segment's slots, which were just mapped: only a machine out of memory
    // refuses this, as it would refuse any allocation.
    guard let copies = PrivateMemory(byteCount: copyBytes) else {
      fatalError("cannot map \(copyBytes) bytes for the front's copies of a channel's requests")
    }
    requestCopies = copies
    streamWindow = UnsafeRawBufferPointer(segment.streamWindow)
    var copyOffset = 0
    for (classIndex, placed) in segment.layout.slotClasses.enumerated() {
      let range = placed.firstSlot..<placed.firstSlot + placed.spec.slotCount
      for index in range {
        let memory = segment.slot(index)!
        slotBases[index] = memory.baseAddress!
        slotSizes[index] = memory.count
        copyBases[index] = requestCopies.base + copyOffset
        copyOffset += memory.count
        slots[index].classIndex = UInt8(classIndex)
      }
      // Free slots per size class, as stacks (last freed, first reused: its lines are warm).
      state.pointee.freeStacks.append(
        FreeStack(slots: range.reversed(), slotSize: placed.spec.slotSize))
    }
    counters = UnsafeMutableRawPointer(segment.header)
      .advanced(by: MemoryLayout<rb_channel_header>.offset(of: \.front)!)
      .assumingMemoryBound(to: rb_front_counters.self)
  }

  deinit {
    state.deinitialize(count: 1)
    state.deallocate()
    slots.deallocate()
    slotBases.deallocate()
    slotSizes.deallocate()
    copyBases.deallocate()
    requestCopies.release()
  }

  @inlinable public var isBroken: Bool { state.pointee.brokenReason != nil }
  /// Replies taken from this channel, counted in front memory (decisions such as recycling
  /// rest on this, never on the counter in shared memory).
  public var repliesCompleted: UInt64 { state.pointee.repliesCompleted }
  public var header: UnsafeMutablePointer<rb_channel_header> { segment.header }

  // MARK: Requests

  /// A free slot large enough for `requestBytes` plus reply room, from the smallest class that
  /// fits (or the largest class, when only it can hold the request); nil when none is free.
  /// `memory` is the front's own copy of the slot (`requestCopies`): fill it with the request,
  /// and `dispatch` copies it into the slot.
  public func acquireSlot(requestBytes: Int) -> (index: Int, memory: UnsafeMutableRawBufferPointer)?
  {
    let last = freeStacks.count - 1
    for classIndex in 0...last {
      let size = freeStacks[classIndex].slotSize
      guard
        requestBytes + Self.minimumReplyRoom <= size
          || (classIndex == last
            && RequestSlotWriter.fits(requestBytes: requestBytes, slotSize: size))
      else { continue }
      guard let index = freeStacks[classIndex].pop() else { continue }
      slots[index].state = .filling
      return (
        index, UnsafeMutableRawBufferPointer(start: copyBases[index], count: slotSizes[index])
      )
    }
    return nil
  }

  /// Gives back a slot acquired but never dispatched.
  public func abandonSlot(_ index: Int) {
    precondition(slots[index].state == .filling)
    free(index)
  }

  /// Copies the request filled into slot `index` (its first `length` bytes) into the slot and
  /// queues it; it reaches the worker at `publish()`. False
  /// when the ring cannot take it because the worker broke it: the channel is then broken and
  /// the slot free again (the request must go elsewhere).
  public func dispatch(
    slot index: Int, length: Int, requestID: UInt64, replyOffset: Int, flags: UInt32, now: UInt64,
    bodyWindow: BodyWindow? = nil
  ) -> Bool {
    precondition(
      slots[index].state == .filling && length <= replyOffset && replyOffset <= slotSizes[index])
    let descriptor = rb_request_descriptor(
      slot: UInt32(index), length: UInt32(length), request_id: requestID,
      generation: header.pointee.generation, flags: flags, reply_offset: UInt32(replyOffset),
      reply_capacity: UInt32(slotSizes[index] - replyOffset))
    switch requests.push(descriptor) {
    case .pushed: break
    case .full:
      noteBroken("request ring full although a slot was free")
      free(index)
      return false
    case .corruptTail:
      noteBroken("worker wrote an impossible request-ring tail")
      free(index)
      return false
    }
    // Visible before the descriptor, as the claim word: publish() is a release store.
    slotBases[index].copyMemory(from: copyBases[index], byteCount: length)
    rb_store_relaxed_u64(segment.claimWord(index), requestID)
    slots[index].claimSeen = false
    if inFlight == 0 { state.pointee.progressAt = now }
    slots[index].state = .withWorker
    slots[index].requestID = requestID
    slots[index].replyOffset = UInt32(replyOffset)
    slots[index].ringIndex = requests.head &- 1
    slots[index].dispatchedAt = now
    slots[index].partsInFlight = 0
    slots[index].lastPartInWindow = false
    slots[index].freeWhenCredited = false
    slots[index].declaredLength = UInt64(RB_LENGTH_UNDECLARED)
    slots[index].bodyBytes = 0
    slots[index].body = bodyWindow.map { BodyProgress(window: $0) }
    inFlight += 1
    bump(&counters.pointee.requests_dispatched)
    bump(&counters.pointee.bytes_in, by: UInt64(length))
    bump(&counters.pointee.slots_in_use)
    return true
  }

  /// Sends a control descriptor (no slot), e.g. RB_REQ_SHUTDOWN.
  public func sendControl(flags: UInt32) {
    let descriptor = rb_request_descriptor(
      slot: UInt32.max, length: 0, request_id: 0, generation: header.pointee.generation,
      flags: flags, reply_offset: 0, reply_capacity: 0)
    _ = requests.push(descriptor)
  }

  /// Publishes queued requests; true when the worker sleeps and needs a FUTEX_WAKE on
  /// `requestWakeWord` (by syscall, or as an io_uring operation in the same submission).
  public func publish() -> Bool {
    guard requests.unpublished > 0 else { return false }
    requests.publish()
    return requests.claimWake()
  }

  /// `publish()`, then the FUTEX_WAKE by syscall when the worker sleeps: for callers outside an
  /// io_uring loop (shutdown, benchmarks, tests). The front loop queues the wake as an SQE.
  public func publishAndWake() {
    if publish() { _ = rb_futex_wake(requests.wakeWord, 1) }
  }

  public var requestWakeWord: UnsafeMutablePointer<UInt32> { requests.wakeWord }
  public var responseWakeWord: UnsafeMutablePointer<UInt32> { responses.wakeWord }

  // MARK: Replies

  /// The next finished reply, checked field by field. Anything impossible marks the channel
  /// broken: the worker is then replaced, and the broker carries on.
  public func nextReply(now: UInt64) -> ReplyPoll {
    if let brokenReason { return .broken(brokenReason) }
    // The descriptor is a private copy: each field is checked once and used as checked.
    let descriptor: rb_response_descriptor
    switch responses.pop() {
    case .empty: return .none
    case .corruptHead: return markBroken("worker wrote an impossible response-ring head")
    case .entry(let entry): descriptor = entry
    }
    state.pointee.progressAt = now
    let index = Int(descriptor.slot)
    guard index < slotCount,
      slots[index].isWithWorker
    else {
      return markBroken("reply names slot \(descriptor.slot), which is not with the worker")
    }
    guard slots[index].requestID == descriptor.request_id else {
      return markBroken("reply for slot \(index) carries request id \(descriptor.request_id)")
    }
    if descriptor.flags == RB_RESP_BODY_TAKEN { return takeBodyAcknowledgement(descriptor) }
    if descriptor.flags & UInt32(RB_RESP_CHUNK) != 0 {
      return takePart(descriptor, slot: index, now: now)
    }
    guard descriptor.flags == RB_RESP_FINAL else {
      return markBroken("reply flags 0x\(String(descriptor.flags, radix: 16)) are not supported")
    }
    guard slots[index].state == .withWorker else {
      return markBroken("whole reply for slot \(index), whose reply is streaming")
    }
    guard (200...599).contains(descriptor.status) else {
      return markBroken("reply status \(descriptor.status) is not 200..599")
    }
    let slotSize = slotSizes[index]
    let headersStart = Int(slots[index].replyOffset)
    let headersEnd = headersStart + Int(descriptor.header_length)
    let bodyStart = Int(descriptor.body_offset)
    let bodyEnd = bodyStart + Int(descriptor.body_length)
    guard headersEnd <= slotSize, bodyStart >= headersEnd, bodyEnd <= slotSize else {
      return markBroken("reply header or body range lies outside slot \(index)")
    }
    slots[index].state = .replied
    inFlight -= 1
    state.pointee.repliesCompleted &+= 1
    bump(&counters.pointee.replies_completed)
    bump(&counters.pointee.bytes_out, by: UInt64(descriptor.body_length))
    rb_store_relaxed_u64(&counters.pointee.last_progress_ns, now)
    recordLatency(now &- slots[index].dispatchedAt)
    let base = UnsafeRawPointer(slotBases[index])
    return .reply(
      ValidatedReply(
        slot: index, requestID: descriptor.request_id, status: Int(descriptor.status),
        headerBlock: UnsafeRawBufferPointer(
          start: base + headersStart, count: headersEnd - headersStart),
        body: UnsafeRawBufferPointer(start: base + bodyStart, count: bodyEnd - bodyStart)))
  }

  /// True when a reply is published and not yet taken: a cheap check before `nextReply`.
  @inlinable public func hasPendingReply() -> Bool { state.pointee.responses.hasPending() }

  /// Hands consumed response-ring entries back to the worker (once per batch).
  public func releaseResponses() { responses.release() }

  /// Returns a replied slot to the free pool once its reply has left (send complete). A slot
  /// whose streamed parts are not all credited yet is freed by the last credit instead.
  public func releaseSlot(_ index: Int) {
    precondition(slots[index].state == .replied)
    if slots[index].partsInFlight > 0 {
      slots[index].freeWhenCredited = true
      return
    }
    free(index)
  }

  /// Counts an error against this channel (a 5xx the front produced for it).
  public func countError() { bump(&counters.pointee.errors) }

  /// Sleep protocol for the front: nil when a reply is already waiting, else the word value to
  /// pass to FUTEX_WAIT on `responseWakeWord`.
  public func prepareToWaitForReplies() -> UInt32? { responses.prepareToSleep() }
  public func markAwake() { responses.markAwake() }

  /// Blocks on the response ring's futex until a reply is pending or `timeoutNanoseconds`
  /// passes (the sleep protocol done with plain syscalls, for callers outside an io_uring
  /// loop). Returns false when the wait ran out with a reply already pending: a lost wake-up.
  @discardableResult
  public func sleepUntilReplyPending(timeoutNanoseconds: Int64) -> Bool {
    guard let word = prepareToWaitForReplies() else { return true }
    let timedOut = rb_futex_wait(responses.wakeWord, word, timeoutNanoseconds) == -ETIMEDOUT
    markAwake()
    return !(timedOut && hasPendingReply())
  }

  // MARK: Worker loss

  /// Every request still with the worker; `takenByWorker` tells which ones the worker had
  /// already claimed (those must fail: they may have had effects). Their slots
  /// count as replied: release each once its request is dealt with (re-dispatch reads the
  /// front's copy, `requestBytes`, before that).
  public func orphanedRequests() -> [OrphanedRequest] {
    var orphans: [OrphanedRequest] = []
    for index in 0..<slotCount
    where slots[index].isWithWorker {
      let streaming = slots[index].state == .streaming
      orphans.append(
        OrphanedRequest(
          slot: index, requestID: slots[index].requestID,
          takenByWorker: streaming || !revokeClaim(index), replyStarted: streaming))
      slots[index].state = .replied
      inFlight -= 1
    }
    return orphans
  }

  /// The request the front put in slot `index`, from its own copy (`requestCopies`): for
  /// re-dispatch after its worker died or stalled, and for log lines. Whatever the worker did
  /// to the slot, these are the bytes the front wrote.
  public func requestBytes(slot index: Int, length: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: copyBases[index], count: min(length, slotSizes[index]))
  }

  @inlinable public var freeSlotCount: Int {
    state.pointee.freeStacks.reduce(0) { $0 + $1.count }
  }

  // MARK: Private

  func free(_ index: Int) {
    slots[index].state = .free
    freeStacks[Int(slots[index].classIndex)].push(index)
    bump(&counters.pointee.slots_in_use, by: UInt64.max)  // wraps: minus one
  }

  func markBroken(_ reason: String) -> ReplyPoll {
    noteBroken(reason)
    return .broken(reason)
  }

  func noteBroken(_ reason: String) {
    guard brokenReason == nil else { return }
    brokenReason = reason
    bump(&counters.pointee.errors)
    rb_store_release_u32(&header.pointee.state, UInt32(RB_STATE_BROKEN))
  }

  /// Counters have one writer (this thread): a relaxed load and store, no locked instruction.
  @inline(__always)
  func bump(_ counter: UnsafeMutablePointer<UInt64>, by amount: UInt64 = 1) {
    rb_store_relaxed_u64(counter, rb_load_relaxed_u64(counter) &+ amount)
  }

  func recordLatency(_ nanoseconds: UInt64) {
    let bucket = min(63 - max(nanoseconds, 1).leadingZeroBitCount, Int(RB_LATENCY_BUCKETS) - 1)
    let buckets =
      (UnsafeMutableRawPointer(counters)
      + MemoryLayout<rb_front_counters>.offset(of: \.latency_ns)!).assumingMemoryBound(
        to: UInt64.self)
    rb_store_relaxed_u64(buckets + bucket, rb_load_relaxed_u64(buckets + bucket) &+ 1)
  }
}

/// A stack of free slot indices of one size class.
@usableFromInline struct FreeStack {
  @usableFromInline var items: [Int]
  let slotSize: Int

  init(slots: some Sequence<Int>, slotSize: Int) {
    items = Array(slots)
    self.slotSize = slotSize
  }

  @inlinable var count: Int { items.count }
  mutating func pop() -> Int? { items.popLast() }
  mutating func push(_ index: Int) { items.append(index) }
}
