import BrokerLog
import CRingABI
import Glibc
import HTTP1
import RingChannel
import RingControl
import RingFront

/// The front's handler in worker mode: writes each request into the slot of the node-local
/// worker with the fewest requests in flight, sends replies straight from the slots, and keeps
/// its workers alive. One dispatcher per front thread, owning that thread's workers; everything
/// here runs on that thread.
public final class Dispatcher: FrontHandler {
  var workers: [WorkerHandle]
  let launcher: WorkerLauncher
  let config: DispatchConfig
  var queue: RequestQueue
  /// Ids for requests and their descriptors, unique across the broker's front threads.
  var requestIDs: RequestIDSequence
  var started = false
  /// The index of the front thread this dispatcher serves.
  public let frontThread: Int
  /// Whether this dispatcher's first workers came up; the broker waits for it at start.
  public let startup = StartupReport()
  /// Indexes of first workers that have not attached yet.
  var startingWorkers = Set<Int>()
  /// Workers whose channel has requests pushed but not yet published.
  var unpublished: [Int] = []
  var lastTimeoutScan: UInt64 = 0
  var replySpin = ReplySpin(cpus: Int(rb_allowed_cpu_count()))
  /// Every io_uring operation and reply release outstanding; their tokens index it.
  var operations = OperationTable()
  /// The generation every worker position starts from (0, except in tests).
  let firstGeneration: UInt64
  /// The largest slot of the workers' channels (spawned or attached, every channel has the
  /// launcher's layout): a request needing this many bytes or more fits no slot ever.
  let largestSlotSize: Int
  /// The 413 body for those, made once: it names the limit.
  let tooLargeBody: String
  /// The loop this dispatcher serves, once it polled: `released(token:)` comes without it and
  /// asks it whether a streamed reply's client is still there.
  weak var servingLoop: (any PoolLoop)?
  /// Workers attached through the control socket, waiting for this thread to adopt them.
  private var attachInbox: [ControlServer.AttachedWorker] = []
  private var attachLock = pthread_mutex_t()

  /// Thread-safe: hands an attached worker to this dispatcher (adopted at its next poll).
  public func enqueueAttached(_ worker: ControlServer.AttachedWorker) {
    pthread_mutex_lock(&attachLock)
    attachInbox.append(worker)
    pthread_mutex_unlock(&attachLock)
  }

  /// Workers to add or retire (SIGTTIN / SIGTTOU), waiting for this thread (Dispatcher+Scaling).
  var scalingInbox: [ScalingRequest] = []
  var scalingLock = pthread_mutex_t()
  /// 1 while the inbox holds something.
  let scalingPending: UnsafeMutablePointer<UInt32> = {
    let flag = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    flag.initialize(to: 0)
    return flag
  }()

  /// Workers still to replace in a rolling reload, one at a time, in order.
  var reloadQueue: [Int] = []
  /// Set from the signal thread (SIGHUP), taken by the loop thread.
  let reloadRequested: UnsafeMutablePointer<UInt32> = {
    let flag = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    flag.initialize(to: 0)
    return flag
  }()

  /// `frontThread`: the index of the front thread this dispatcher serves (FrontLoop
  /// .threadIndex); it makes request ids unique across threads.
  public init(
    workers placements: [(id: Int, placement: WorkerPlacement)], launcher: WorkerLauncher,
    config: DispatchConfig, frontThread: Int
  ) {
    self.frontThread = frontThread
    requestIDs = RequestIDSequence(frontThread: frontThread)
    let firstGeneration = Self.testingFirstGeneration()
    self.firstGeneration = firstGeneration
    workers = placements.enumerated().map {
      WorkerHandle(
        index: $0.offset, id: $0.element.id, placement: $0.element.placement,
        generation: firstGeneration)
    }
    self.launcher = launcher
    self.config = config
    largestSlotSize = launcher.parameters.slotClasses.map(\.slotSize).max() ?? 0
    tooLargeBody =
      "request too large for the workers: head and body must fit in \(largestSlotSize - 16) bytes\n"
    queue = RequestQueue(maxCount: config.maxQueuedRequests, maxBytes: config.maxQueuedBytes)
    pthread_mutex_init(&attachLock, nil)
    pthread_mutex_init(&scalingLock, nil)
  }

  deinit {
    // Requests still queued may hold blocks of their own.
    queue.visit { _, _ in .remove }
  }

  private func adoptAttachedWorkers(loop: some PoolLoop) {
    pthread_mutex_lock(&attachLock)
    let arrived = attachInbox
    attachInbox.removeAll()
    pthread_mutex_unlock(&attachLock)
    for attached in arrived { adopt(attached, loop: loop) }
  }

  /// Number of workers this dispatcher serves (for choosing where an attached one goes).
  public var activeWorkerCount: Int { workers.filter { $0.role == .active }.count }

  /// Thread-safe: starts a rolling reload (every worker replaced by a fresh one, each only after
  /// its successor is ready).
  public func requestReload() { rb_store_relaxed_u32(reloadRequested, 1) }

  public var hasWork: Bool {
    !queue.isEmpty
      || workers.contains { $0.inFlight > 0 || $0.outstandingSends > 0 || !$0.retired.isEmpty }
  }

  // MARK: Requests

  public func handle(_ request: IncomingRequest, ticket: ReplyTicket, loop: FrontLoop) {
    handleRequest(request, ticket: ticket, loop: loop)
  }

  /// `handle`, for any loop (the pool's unit tests run it on a fake one).
  func handleRequest(_ request: IncomingRequest, ticket: ReplyTicket, loop: some PoolLoop) {
    if request.streamsBody { return handleStreamed(request, ticket: ticket, loop: loop) }
    let needed = RequestSlotWriter.requiredBytes(
      headerCount: request.parsed.headers.count, rawHeadLength: request.head.count,
      bodyLength: request.body.count)
    // No slot will ever hold it (--max-body allows more than the largest slot): waiting would
    // only end in a 503 at the queue's deadline, holding up every request queued behind it.
    guard RequestSlotWriter.fits(requestBytes: needed, slotSize: largestSlotSize) else {
      loop.replyError(ticket, status: 413, body: tooLargeBody)
      return
    }
    // Queued requests are older: they go first, and once they are gone this one goes straight
    // to a slot instead of through the queue (a copy and an allocation).
    if !queue.isEmpty { drainQueue(loop: loop) }
    if queue.isEmpty,
      dispatch(
        head: request.head, parts: RequestSlotWriter.Parts(request.parsed),
        headers: request.parsed.headerRanges,
        body: request.body, origin: request.origin, needed: needed, ticket: ticket, now: loop.now)
    {
      observeQueueWait(0, loop: loop)
      return
    }
    queueOrRefuse(ticket, loop: loop) {
      queue.append(request, ticket: ticket, deadline: loop.now + config.queueTimeoutNs)
    }
  }

  /// A request no worker could take now: 503 at once when no worker runs or is coming back,
  /// else `enqueue` it, and 503 when the queue is full.
  func queueOrRefuse(_ ticket: ReplyTicket, loop: some PoolLoop, enqueue: () -> Bool) {
    guard workers.contains(where: { $0.isServing || $0.respawnAt != nil || $0.process != nil })
    else {
      loop.replyError(
        ticket, status: 503, body: "no worker is running\n", extraHeaders: "Retry-After: 1\r\n")
      return
    }
    if !enqueue() {
      loop.replyError(
        ticket, status: 503, body: "all workers are busy\n", extraHeaders: "Retry-After: 1\r\n")
    }
  }

  /// Writes the request into a slot of the least busy worker that has one free for it; false
  /// when none has. `parts` and `headers` are where its pieces lie in `head`.
  func dispatch(
    head: UnsafeRawBufferPointer, parts: RequestSlotWriter.Parts,
    headers: some Collection<(name: Range<Int>, value: Range<Int>)>,
    body: UnsafeRawBufferPointer, origin: RequestOrigin, needed: Int, ticket: ReplyTicket,
    now: UInt64
  ) -> Bool {
    placeInFreeSlot(requestBytes: needed) { worker, channel, slot, memory in
      fillSlot(
        slot, memory: memory, of: worker, channel: channel, head: head, parts: parts,
        headers: headers, body: body, origin: origin, ticket: ticket, now: now)
    }
  }

  /// Offers a free slot for `requestBytes` on each candidate worker in turn (nextCandidate's
  /// order) to `fill`, until one fill succeeds; false when none did. A fill that fails has
  /// given its slot back (e.g. the push found the channel broken): the next worker is tried.
  func placeInFreeSlot(
    requestBytes: Int,
    _ fill: (WorkerHandle, FrontChannel, Int, UnsafeMutableRawBufferPointer) -> Bool
  ) -> Bool {
    var tried: CandidateKey?
    while let worker = nextCandidate(after: tried) {
      tried = CandidateKey(worker)
      guard let channel = worker.channel,
        let (slot, memory) = channel.acquireSlot(requestBytes: requestBytes)
      else { continue }
      if fill(worker, channel, slot, memory) { return true }
    }
    return false
  }

  /// Where a worker stands in the order candidates are tried in: fewest requests in flight
  /// first, then position.
  struct CandidateKey: Comparable {
    /// 1 while the worker holds a request whose body streams: a worker reading a body serves
    /// at its client's pace, so others go first.
    var readsBody: Int
    var inFlight: Int
    var index: Int

    init(_ worker: WorkerHandle) {
      readsBody = worker.streamedBodies > 0 ? 1 : 0
      inFlight = worker.inFlight
      index = worker.index
    }

    static func < (a: CandidateKey, b: CandidateKey) -> Bool {
      (a.readsBody, a.inFlight, a.index) < (b.readsBody, b.inFlight, b.index)
    }
  }

  /// The serving worker under depth that comes next after `previous` in candidate order (the
  /// first when nil). Callers try candidates until one has a free slot: a worker whose slots
  /// all hold replies still being sent has few requests in flight but no room, and must not
  /// make a request wait while another worker could take it. No allocation; usually the first
  /// candidate takes the request.
  func nextCandidate(after previous: CandidateKey?) -> WorkerHandle? {
    var best: (worker: WorkerHandle, key: CandidateKey)?
    for worker in workers
    where worker.isServing && !worker.isStalled && worker.inFlight < config.maxDepthPerWorker {
      let key = CandidateKey(worker)
      if let previous, key <= previous { continue }
      if best == nil || key < best!.key { best = (worker, key) }
    }
    return best?.worker
  }

  /// Writes the request into `slot`, just acquired from `worker`, and queues it there.
  /// With `streamsBody`, `body` is empty and the slot gets a body window (BodyWindow).
  func fillSlot(
    _ slot: Int, memory: UnsafeMutableRawBufferPointer, of worker: WorkerHandle,
    channel: FrontChannel, head: UnsafeRawBufferPointer, parts: RequestSlotWriter.Parts,
    headers: some Collection<(name: Range<Int>, value: Range<Int>)>,
    body: UnsafeRawBufferPointer, origin: RequestOrigin, ticket: ReplyTicket, now: UInt64,
    streamsBody: Bool = false
  ) -> Bool {
    var parts = parts
    if streamsBody { parts.flags |= UInt32(RB_REQ_BODY_STREAM) }
    let flags = parts.flags
    guard
      let written = RequestSlotWriter.write(
        into: memory, rawHead: head, parts: parts, headers: headers, body: body,
        requestID: requestIDs.peek, origin: origin)
    else {
      channel.abandonSlot(slot)
      return false
    }
    var replyOffset = written.replyOffset
    var window: BodyWindow?
    if streamsBody {
      guard
        let offset = BodyWindow.replyOffset(
          slotSize: memory.count, requestLength: written.length,
          replyRoom: FrontChannel.minimumReplyRoom)
      else {
        channel.abandonSlot(slot)
        return false
      }
      replyOffset = offset
      window = BodyWindow(requestLength: written.length, replyOffset: offset)
    }
    // The head carries the id the descriptor gets: taken only once the request is written.
    let id = requestIDs.take()
    guard
      channel.dispatch(
        slot: slot, length: written.length, requestID: id, replyOffset: replyOffset,
        flags: flags, now: now, bodyWindow: window)
    else { return false }
    worker.slots[slot] = WorkerHandle.SlotTicket(
      ticket: ticket, length: written.length, replyOffset: replyOffset, dispatchedAt: now,
      streamsBody: streamsBody, requestID: id, placedAt: now)
    if !unpublished.contains(worker.index) { unpublished.append(worker.index) }
    return true
  }

  /// Moves queued requests to workers that have room, in order. A request that cannot be
  /// placed keeps its place but does not hold up smaller ones behind it: a large upload
  /// waiting for one of the few large slots must not make every small request wait for its
  /// deadline. Whether a request fits is monotonic in its size (a larger one can use only a
  /// subset of the slot classes a smaller one can), so once a size found no slot, larger ones
  /// are not tried again in this pass; once no worker has room at all, the pass ends (the
  /// queue may hold thousands under overload, and this runs on every loop turn). Expiry is
  /// `expireQueuedRequests`'s, every 100 ms; entries visited here are checked too.
  func drainQueue(loop: some PoolLoop) {
    guard someWorkerHasRoom() else { return }
    var smallestUnplaceable = Int.max
    queue.visit { entry, stored in
      if entry.deadline <= loop.now || !loop.isConnectionAlive(entry.ticket) {
        expire(entry, loop: loop)
        return .remove
      }
      let bytes = stored.bytes
      let placed: Bool
      let needed: Int
      switch entry.kind {
      case .parsed:
        let head = UnsafeRawBufferPointer(rebasing: bytes[0..<entry.headLength])
        needed = RequestSlotWriter.requiredBytes(
          headerCount: entry.headerCount, rawHeadLength: head.count,
          bodyLength: bytes.count - head.count)
        guard needed < smallestUnplaceable else { return .keep }
        placed = dispatch(
          head: head, parts: entry.parts!, headers: stored.headers,
          body: UnsafeRawBufferPointer(rebasing: bytes[head.count...]), origin: entry.origin!,
          needed: needed, ticket: entry.ticket, now: loop.now)
      case .streamedHead:
        needed = BodyWindow.requiredBytes(
          requestLength: RequestSlotWriter.requiredBytes(
            headerCount: entry.headerCount, rawHeadLength: bytes.count, bodyLength: 0))
        guard needed < smallestUnplaceable else { return .keep }
        placed = dispatchStreamed(
          head: bytes, parts: entry.parts!, headers: stored.headers, origin: entry.origin!,
          ticket: entry.ticket, loop: loop)
      case .slotImage:
        needed = entry.replyOffset
        guard needed < smallestUnplaceable else { return .keep }
        placed = dispatchSlotImage(
          bytes, replyOffset: entry.replyOffset, ticket: entry.ticket, now: loop.now)
      }
      if placed {
        if entry.kind != .slotImage { observeQueueWait(loop.now &- queuedAt(entry), loop: loop) }
        return .remove
      }
      smallestUnplaceable = needed
      return someWorkerHasRoom() ? .keep : .keepAndStop
    }
  }

  /// Answers queued requests whose deadline passed with 503 and drops those whose client left:
  /// the whole queue, every 100 ms (`drainQueue` stops early).
  func expireQueuedRequests(loop: some PoolLoop) {
    queue.visit { entry, _ in
      guard entry.deadline <= loop.now || !loop.isConnectionAlive(entry.ticket) else {
        return .keep
      }
      expire(entry, loop: loop)
      return .remove
    }
  }

  private func expire(_ entry: RequestQueue.Entry, loop: some PoolLoop) {
    guard entry.deadline <= loop.now else { return }  // its client left: nobody to answer
    // A request moved off a worker was observed when first handed over.
    if entry.kind != .slotImage { observeQueueWait(loop.now &- queuedAt(entry), loop: loop) }
    loop.replyError(
      entry.ticket, status: 503, body: "no worker became free in time\n",
      extraHeaders: "Retry-After: 1\r\n")
  }

  /// Some worker could take a request now: serving, not stalled, under depth, a slot free.
  func someWorkerHasRoom() -> Bool {
    workers.contains { worker in
      worker.isServing && !worker.isStalled && worker.inFlight < config.maxDepthPerWorker
        && (worker.channel?.freeSlotCount ?? 0) > 0
    }
  }

  /// Makes pushed requests visible and wakes sleeping workers, in the loop's next submission.
  func publishAll(loop: some PoolLoop) {
    for index in unpublished {
      let worker = workers[index]
      guard let channel = worker.channel, channel.publish() else { continue }
      let token = operations.insert(.futexWake, worker: index, generation: worker.generation)
      loop.wakeWord(channel.requestWakeWord, token: token)
    }
    unpublished.removeAll(keepingCapacity: true)
  }

  // MARK: Loop callbacks

  public func poll(loop: FrontLoop, now: UInt64) { pollWorkers(loop: loop, now: now) }

  /// `poll`, for any loop.
  func pollWorkers(loop: some PoolLoop, now: UInt64) {
    if !started {
      started = true
      servingLoop = loop
      startingWorkers = Set(workers.map(\.index))
      if startingWorkers.isEmpty { startup.settle(.ready) }
      for worker in workers {
        worker.requestLimit = config.recycleLimit()
        launch(worker, loop: loop)
      }
    }
    adoptAttachedWorkers(loop: loop)
    applyScaling(loop: loop)
    collectReplies(loop: loop)
    moveRequestsOffStalledWorkers(loop: loop)
    if !queue.isEmpty { drainQueue(loop: loop) }
    replaceWorkersWithBrokenChannels()
    if rb_load_relaxed_u32(reloadRequested) != 0 {
      rb_store_relaxed_u32(reloadRequested, 0)
      // Workers attached through the control socket were started by someone else: the broker
      // has no command to start their successors with (with --workers 0 it would run `false`
      // and retry forever). They stay; whoever started them restarts them.
      reloadQueue = workers.filter { $0.role == .active && $0.attachedConnection == nil }.map(
        \.index)
      for index in reloadQueue {
        workers[index].failedSuccessors = 0
        workers[index].nextReplacementAttempt = 0
      }
      Log.info("reload: replacing \(reloadQueue.count) worker(s), one at a time")
    }
    superviseWorkers(loop: loop, now: now)
    superviseReplacements(loop: loop, now: now)
    if now &- lastTimeoutScan >= 100_000_000 {
      lastTimeoutScan = now
      expireRequests(loop: loop, now: now)
      superviseHealth(loop: loop, now: now)
      publishOldestRequests()
      if !queue.isEmpty { expireQueuedRequests(loop: loop) }
    }
    publishAll(loop: loop)
    loop.stats.pointee.requests_queued = UInt64(queue.count)
  }

  public func prepareToWait(loop: FrontLoop) -> Bool { prepareWait(loop: loop) }

  /// `prepareToWait`, for any loop.
  func prepareWait(loop: some PoolLoop) -> Bool {
    if spinForReplies() { return false }
    wakeWhenWorkersMayStall(loop: loop)
    return armReplyWaits(loop: loop)
  }

  /// With requests out at workers that are not stalled, spins briefly for a reply instead of
  /// sleeping at once (ReplySpin); true when one came.
  private func spinForReplies() -> Bool {
    guard workers.contains(where: { !$0.isStalled && $0.inFlight > 0 }) else { return false }
    return replySpin.spin {
      workers.contains { worker in
        worker.inFlight > 0 && (worker.channel?.hasPendingReply() ?? false)
      }
    }
  }

  public func released(token: UInt64) {
    guard let operation = operations.remove(token, arrivingAs: .release) else { return }
    if operation.kind == .partRelease {
      partReleased(
        of: workers[operation.worker], generation: operation.generation, slot: operation.slot)
      return
    }
    releaseSlot(
      of: workers[operation.worker], generation: operation.generation, slot: operation.slot)
  }

  public func completed(token: UInt64, result: Int32, flags: UInt32, loop: FrontLoop) {
    complete(token: token, loop: loop)
  }

  /// `completed`, for any loop (no pool operation looks at the result).
  func complete(token: UInt64, loop: some PoolLoop) {
    guard let operation = operations.remove(token, arrivingAs: .completion) else { return }
    let worker = workers[operation.worker]
    switch operation.kind {
    case .futexWait:
      if worker.futexWaitToken == token {
        worker.futexArmed = false
        worker.futexWaitToken = nil
      }
    case .workerExit:
      if operation.generation == worker.generation { workerExited(worker, loop: loop) }
    case .futexWake, .cancel, .replyRelease, .partRelease:
      break
    }
  }

  /// RINGBROKER_TESTING_FIRST_GENERATION=N, for tests only: worker generations start after N
  /// instead of 0, so that a test can take a position across a boundary such as 65,536
  /// without that many launches. Read once per dispatcher.
  static func testingFirstGeneration() -> UInt64 {
    getenv("RINGBROKER_TESTING_FIRST_GENERATION").flatMap { UInt64(String(cString: $0)) } ?? 0
  }
}
