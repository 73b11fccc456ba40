import CRingABI
import CURing
import Glibc
import HTTP1
import RingChannel

/// One front thread's event loop: accepts, reads and parses requests, hands them to its handler
/// and sends the replies, all through one io_uring. Everything here runs on the loop's thread
/// except `requestStop`.
///
/// The loop blocks only inside io_uring, for at most one tick, so timers and the handler's
/// `poll` run even when no I/O happens.
public final class FrontLoop {
  public let threadIndex: Int
  /// This loop's counters, in the broker info memfd when FrontServer was given a place for
  /// them (ringstat and /metrics read them there), else in memory of its own. Written by this
  /// thread only, the handler included.
  public let stats: UnsafeMutablePointer<rb_front_stats>
  private let ownsStats: Bool
  /// CLOCK_MONOTONIC ns, refreshed every iteration.
  public internal(set) var now: UInt64 = 0
  /// CLOCK_REALTIME ns, refreshed with `now`: when a request head is complete (its origin).
  public internal(set) var wallClock: UInt64 = 0
  /// A stop was requested: no new connections, replies close their connection.
  public internal(set) var isDraining = false

  let config: FrontConfig
  let ring: IOURing
  var handler: FrontHandler!

  // Listening.
  var listenFd: Int32
  var acceptArmed = false
  var acceptRetryAt: UInt64 = 0
  /// When a reclaim scan at the connection limit last found no idle connection to close.
  var lastFruitlessReclaim: UInt64 = 0
  /// The listener's own address when it is bound to one (not 0.0.0.0 or ::): then it is every
  /// connection's local end, and accepting needs no getsockname.
  let listenerEndpoint: rb_endpoint?
  /// Listening on a unix socket (the admin endpoint's `unix:PATH`).
  let isUnixListener: Bool

  // Properties marked @exclusivity(unchecked) are touched on every request; only this loop's
  // thread ever accesses them, so the runtime's dynamic exclusivity checks (~5% of the
  // front's CPU in a perf profile) buy nothing.

  // Connections: slots are reused, `deadlines` mirrors each slot's next timer so the timer scan
  // walks one contiguous array.
  @exclusivity(unchecked) var connections: [Connection] = []
  @exclusivity(unchecked) var freeSlots: [UInt32] = []
  let deadlines: UnsafeMutablePointer<UInt64>
  var lastTimerScan: UInt64 = 0
  let receiveLimit: Int

  // Sending.
  @exclusivity(unchecked) var sendOperations = SendOperationTable()
  @exclusivity(unchecked) var headChunks = HeadChunkPool()
  @exclusivity(unchecked) var headWriter = ReplyHeadWriter()
  var zeroCopyEnabled: Bool
  var unixSeconds = 0
  /// This thread's access log buffer and line format; nil without an access log.
  let accessLog: (writer: AccessLogWriter, formatter: AccessLogFormatter)?

  // Work that must not run inside a handler call: connections to pump and flush, and release
  // tokens for replies that arrived for connections already gone.
  @exclusivity(unchecked) var ready: [UInt32] = []
  @exclusivity(unchecked) var readyInProgress: [UInt32] = []
  @exclusivity(unchecked) var pendingReleases: [UInt64] = []
  @exclusivity(unchecked) var releasesInProgress: [UInt64] = []

  // Stopping. `stopRequest` is written by other threads: 0 run, 1 drain, 2 stop now. They
  // then write a byte into the wake pipe, whose read end always has a read queued in the ring.
  let stopRequest: UnsafeMutablePointer<UInt32>
  let wakePipe: (read: Int32, write: Int32)
  let wakeBuffer: UnsafeMutablePointer<UInt64>
  var drainDeadline: UInt64 = 0
  var skipNextWait = false
  /// CLOCK_MONOTONIC by which the next wait must end (0: a tick is fine); see `wake(by:)`.
  var wakeDeadline: UInt64 = 0

  /// Creates the ring; must run on the thread that will call `run` (SINGLE_ISSUER).
  init(
    threadIndex: Int, config: FrontConfig, listenFd: Int32,
    stats: UnsafeMutablePointer<rb_front_stats>? = nil
  ) throws(FrontError) {
    self.threadIndex = threadIndex
    ownsStats = stats == nil
    self.stats = stats ?? .allocate(capacity: 1)
    if ownsStats { self.stats.initialize(to: rb_front_stats()) }
    self.config = config
    self.listenFd = listenFd
    self.ring = try IOURing(entries: config.ringEntries)
    // Clients of a loopback listener are all local: zero-copy would only cost (PeerLocality).
    self.zeroCopyEnabled =
      config.zeroCopyThreshold > 0
      && (config.zeroCopyForLocalClients || !PeerLocality.isLoopbackListener(listenFd))
    self.isUnixListener = ListenSocket.family(listenFd) == AF_UNIX
    self.listenerEndpoint = rb_endpoint(socket: listenFd, peer: false).flatMap {
      $0.isUnspecified ? nil : $0
    }
    // Saturating: --max-body 0 (unlimited) is Int.max.
    self.accessLog = config.accessLog.map {
      (AccessLogWriter(sink: $0.sink), AccessLogFormatter(format: $0.format))
    }
    self.receiveLimit =
      config.limits.maxHeadLength + min(config.limits.maxBodyLength, Int.max / 4) + 16 * 1024
    // Reclaiming idle connections at the limit can hold a few slots more (reclaimIdleConnection).
    let slotLimit = max(config.maxConnections, 1) + Self.maxConnectionsClosing
    deadlines = .allocate(capacity: slotLimit)
    deadlines.initialize(repeating: 0, count: slotLimit)
    stopRequest = .allocate(capacity: 1)
    stopRequest.initialize(to: 0)
    wakeBuffer = .allocate(capacity: 1)
    wakeBuffer.initialize(to: 0)
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw FrontError.system("pipe", errno: errno) }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    // Only the write end is non-blocking: a stop request must never block its caller, while a
    // read on a non-blocking fd would complete at once with EAGAIN instead of waiting in the ring.
    _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
    wakePipe = (fds[0], fds[1])
  }

  deinit {
    close(wakePipe.read)
    close(wakePipe.write)
    if listenFd >= 0 { close(listenFd) }
    deadlines.deallocate()
    stopRequest.deallocate()
    wakeBuffer.deallocate()
    if ownsStats { stats.deallocate() }
  }

  // MARK: - Running

  /// Serves until a stop request has drained; returns when every connection is closed.
  func run(handler: FrontHandler) {
    self.handler = handler
    refreshClock()
    armAccept()
    armWakeup()
    while true {
      refreshClock()
      if isDraining || rb_load_acquire_u32(stopRequest) != 0 {
        observeStopRequest()
        if drainIsComplete() { break }
      }
      handler.poll(loop: self, now: now)
      runDeferredWork()
      if now &- lastTimerScan >= Self.timerScanInterval { scanTimers() }
      // Reap without blocking first. Only when that brings nothing does the handler arm its
      // wake-ups (e.g. raise "front sleeping" flags that make workers issue futex wakes) and
      // the loop block: under load the flags stay down and workers make no syscalls.
      ring.submitWithoutWaiting()
      refreshClock()
      var completed = ring.drainCompletions { userData, result, flags in
        self.complete(userData: userData, result: result, flags: flags)
      }
      if completed == 0 && !skipNextWait && handler.prepareToWait(loop: self) && !skipNextWait {
        ring.submitAndWait(timeoutNs: waitTimeout())
        refreshClock()
        completed = ring.drainCompletions { userData, result, flags in
          self.complete(userData: userData, result: result, flags: flags)
        }
      }
      skipNextWait = false
      wakeDeadline = 0
      runDeferredWork()
    }
    closeEverything()
    flushAccessLog()
    self.handler = nil
  }

  /// Thread-safe: asks the loop to drain (or, with `immediately`, to close everything now).
  public func requestStop(immediately: Bool = false) {
    let wanted: UInt32 = immediately ? 2 : 1
    if rb_load_acquire_u32(stopRequest) < wanted { rb_store_release_u32(stopRequest, wanted) }
    var byte: UInt8 = 1
    _ = write(wakePipe.write, &byte, 1)
  }

  /// Makes the next wait return at once: for a handler that expects work any moment (e.g. while
  /// spinning on a worker's response ring) and must not sleep a tick.
  public func keepPolling() { skipNextWait = true }

  /// Makes the next wait end by `deadline` (CLOCK_MONOTONIC) at the latest: for a handler
  /// whose next decision falls due sooner than a tick (e.g. a worker about to count as
  /// stalled). Asked again before each wait.
  public func wake(by deadline: UInt64) {
    if wakeDeadline == 0 || deadline < wakeDeadline { wakeDeadline = deadline }
  }

  private func waitTimeout() -> UInt64 {
    guard wakeDeadline != 0 else { return config.tickNs }
    return min(config.tickNs, max(wakeDeadline, now + 1) - now)
  }

  @inline(__always)
  func refreshClock() {
    now = rb_monotonic_ns()
    // One clock read serves both the request times and the Date header (which time() fed).
    wallClock = rb_realtime_ns()
    unixSeconds = Int(wallClock / 1_000_000_000)
  }

  /// Routes one completion by the kind in its user_data.
  @inline(__always)
  func complete(userData: UInt64, result: Int32, flags: UInt32) {
    let payload = UserData.payload(userData)
    switch UserData.kind(userData) {
    case .handler: handler.completed(token: payload, result: result, flags: flags, loop: self)
    case .receive: receiveCompleted(connections[Int(payload)], result: result)
    case .send: sendCompleted(UInt32(truncatingIfNeeded: payload), result: result, flags: flags)
    case .accept: acceptCompleted(result: result, flags: flags)
    case .wakeup: wakeupCompleted(result: result)
    case .ignored, nil: break
    }
  }

  /// Pumps and flushes connections that changed during handler calls, then hands out release
  /// tokens that could not be released from inside `reply`.
  func runDeferredWork() {
    while !ready.isEmpty {
      swap(&ready, &readyInProgress)
      for index in readyInProgress {
        let connection = connections[Int(index)]
        connection.inReadyList = false
        if connection.closeRequested {
          connection.closeRequested = false
          abort(connection)
        }
        pump(connection)
        flush(connection)
        finishClosingIfPossible(connection)
        rearmTimer(connection)
      }
      readyInProgress.removeAll(keepingCapacity: true)
    }
    while !pendingReleases.isEmpty {
      swap(&pendingReleases, &releasesInProgress)
      for token in releasesInProgress { handler.released(token: token) }
      releasesInProgress.removeAll(keepingCapacity: true)
    }
  }

  @inline(__always)
  func markReady(_ connection: Connection) {
    guard !connection.inReadyList else { return }
    connection.inReadyList = true
    ready.append(connection.index)
  }

  // MARK: - Wake-up from other threads (a pipe: Glibc's module has no eventfd)

  func armWakeup() {
    let sqe = ring.nextSQE()
    io_uring_prep_read(sqe, wakePipe.read, wakeBuffer, 8, 0)
    sqe.pointee.user_data = UserData.encode(.wakeup, 0)
  }

  func wakeupCompleted(result: Int32) {
    observeStopRequest()
    if result != -ECANCELED { armWakeup() }
  }
}
