import CRingABI
import Glibc
import HTTP1
import RingChannel
import RingFront
import RingWorker
import XCTest

@testable import RingControl
@testable import RingPool

/// The pool's rules (RingPool's Dispatcher) against a fake loop: the loop records what the
/// pool asks of it and the test moves its clock, so that depth, queueing, deadlines, stalls and
/// timeouts are checked as numbers, in microseconds of test time. The channels are real
/// segments with a real worker library on the other side, in this process; the workers'
/// processes are `sleep` children, so a kill the pool decides on is real and observable.
final class PoolRuleTests: XCTestCase {
  private var children: [pid_t] = []

  override func tearDown() {
    for pid in children {
      kill(pid, SIGKILL)
      var status: Int32 = 0
      waitpid(pid, &status, 0)
    }
    children = []
  }

  // MARK: Rules

  /// Each request goes to the worker holding the fewest (not in turn), none beyond the
  /// depth; what no worker can take waits in the queue, and each slot that frees takes the
  /// oldest waiting request.
  func testLeastLoadedUpToDepthThenQueuedInOrder() throws {
    var config = DispatchConfig()
    config.maxDepthPerWorker = 3
    let pool = try Pool(workers: 2, config: config, test: self)
    pool.send("/r1", serial: 1)  // worker 0 (both idle: the first)
    pool.send("/r2", serial: 2)  // worker 1
    XCTAssertEqual(pool.workers[1].serve(), ["/r2"])
    pool.poll()
    pool.loop.sendEverything(to: pool.dispatcher)
    pool.send("/r3", serial: 3)
    XCTAssertEqual(pool.workers.map { $0.front.inFlight }, [1, 1], "to worker 1: it held none")
    for serial in 4...7 { pool.send("/r\(serial)", serial: serial) }
    XCTAssertEqual(pool.workers.map { $0.front.inFlight }, [3, 3], "at depth, no further")
    for serial in 8...10 { pool.send("/r\(serial)", serial: serial) }
    XCTAssertEqual(pool.dispatcher.queue.count, 3)
    XCTAssertEqual(pool.loop.answers.count, 1)
    // One slot frees at a time; each takes the oldest queued request.
    for (worker, served) in [(1, "/r3"), (0, "/r1"), (1, "/r5")] {
      XCTAssertEqual(pool.workers[worker].serve(atMost: 1), [served])
      pool.poll()
    }
    XCTAssertEqual(pool.dispatcher.queue.count, 0)
    XCTAssertEqual(pool.workers[0].serve(), ["/r4", "/r6", "/r9"])
    XCTAssertEqual(pool.workers[1].serve(), ["/r7", "/r8", "/r10"])
    pool.poll()
    XCTAssertEqual(pool.loop.answers.map(\.body).sorted(), (1...10).map { "ok /r\($0)" }.sorted())
    XCTAssertEqual(Set(pool.loop.answers.map(\.status)), [200])
  }

  /// A queued request gets 503 once `queueTimeoutNs` passed (the pool looks every 100 ms of
  /// loop time, so within 0.1 s of it), not at 1.9 s; a full queue answers 503 at once.
  func testQueueDeadlineAndBound() throws {
    var config = DispatchConfig()
    config.maxDepthPerWorker = 1
    config.maxQueuedRequests = 1
    config.queueTimeoutNs = 2_000_000_000
    let pool = try Pool(workers: 1, config: config, test: self)
    pool.send("/held", serial: 1)
    pool.send("/queued", serial: 2)
    pool.send("/refused", serial: 3)
    XCTAssertEqual(pool.loop.answers.map(\.status), [503], "the queue holds one")
    XCTAssertEqual(pool.loop.answers.first?.ticket.serial, 3)
    XCTAssertEqual(pool.loop.answers.first?.body, "all workers are busy\n")
    pool.advance(by: 1_900_000_000)
    XCTAssertEqual(pool.loop.answers.count, 1, "1.9 s: still waiting")
    pool.advance(by: 200_000_000)
    XCTAssertEqual(pool.loop.answers.map(\.status), [503, 503], "past 2 s: 503")
    XCTAssertEqual(pool.loop.answers.last?.ticket.serial, 2)
    XCTAssertEqual(pool.loop.answers.last?.body, "no worker became free in time\n")
    XCTAssertEqual(pool.dispatcher.queue.count, 0)
    XCTAssertEqual(pool.workers[0].serve(), ["/held"], "the held one was never touched")
  }

  /// With no worker at all, a request gets 503 at once rather than a queue place.
  func testNoWorkerAnswers503AtOnce() throws {
    let pool = try Pool(workers: 0, config: DispatchConfig(), test: self)
    pool.send("/x", serial: 1)
    XCTAssertEqual(pool.loop.answers.map(\.status), [503])
    XCTAssertEqual(pool.loop.answers.first?.body, "no worker is running\n")
    XCTAssertEqual(pool.dispatcher.queue.count, 0)
  }

  /// A worker that holds requests and shows no progress for `stallAfterNs` gets no new ones,
  /// and those it has not claimed move to the other worker; the one it claimed stays its own.
  func testStalledWorkersUnclaimedRequestsMove() throws {
    var config = DispatchConfig()
    config.stallAfterNs = 5_000_000
    let pool = try Pool(workers: 2, config: config, test: self)
    pool.send("/slow", serial: 1)  // to worker 0 (both idle: the first)
    pool.send("/other", serial: 2)  // to worker 1 (fewest)
    let slow = try XCTUnwrap(pool.workers[0].claim(), "worker 0 begins /slow and hangs there")
    pool.send("/behind", serial: 3)  // to worker 0 (one each: the first), behind /slow
    XCTAssertEqual(pool.workers.map { $0.front.inFlight }, [2, 1])
    XCTAssertEqual(pool.workers[1].serve(), ["/other"])
    pool.poll()
    pool.loop.sendEverything(to: pool.dispatcher)
    pool.advance(by: 4_000_000)
    XCTAssertFalse(pool.workers[0].handle.isStalled, "4 ms without progress: not yet")
    XCTAssertEqual(pool.workers[0].front.inFlight, 2)
    pool.advance(by: 2_000_000)
    XCTAssertTrue(pool.workers[0].handle.isStalled, "6 ms: stalled")
    XCTAssertEqual(pool.workers[0].front.inFlight, 1, "/behind was taken back, /slow stays")
    XCTAssertEqual(pool.workers[0].header.pointee.front.requests_revoked, 1)
    XCTAssertEqual(pool.workers[1].serve(), ["/behind"], "and runs on worker 1")
    pool.send("/new", serial: 4)
    XCTAssertEqual(pool.workers[1].serve(), ["/new"], "a stalled worker gets nothing new")
    XCTAssertNil(pool.workers[0].claim(), "worker 0 never sees /behind: its claim lost")
    slow.answer()
    pool.workers[0].worker.flush()
    pool.poll()
    XCTAssertEqual(
      pool.loop.answers.map(\.body).sorted(), ["ok /behind", "ok /new", "ok /other", "ok /slow"])
    XCTAssertFalse(pool.workers[0].handle.isStalled, "a reply is progress")
  }

  /// A request its worker began and never answered gets 504 within 0.1 s after
  /// `requestTimeoutNs` (not at 2.95 s of 3), and the worker's process is killed (a real one).
  func testRequestTimeoutAnswers504AndKillsTheWorker() throws {
    var config = DispatchConfig()
    config.requestTimeoutNs = 3_000_000_000
    config.stallAfterNs = 10_000_000_000
    let pool = try Pool(workers: 1, config: config, test: self)
    pool.send("/stuck", serial: 1)
    XCTAssertNotNil(pool.workers[0].claim())
    pool.advance(by: 2_950_000_000)
    XCTAssertEqual(pool.loop.answers.count, 0)
    XCTAssertTrue(pool.workers[0].processIsAlive)
    pool.advance(by: 100_000_000)
    XCTAssertEqual(pool.loop.answers.map(\.status), [504])
    XCTAssertEqual(pool.loop.answers.first?.body, "the worker did not answer in time\n")
    var status: Int32 = 0
    var reaped: pid_t = 0
    for _ in 0..<200 where reaped == 0 {  // at most 2 s: a kill that never came fails here
      reaped = waitpid(pool.workers[0].pid, &status, WNOHANG)
      if reaped == 0 { usleep(10_000) }
    }
    XCTAssertEqual(reaped, pool.workers[0].pid, "the worker's process was killed")
    XCTAssertEqual(status & 0x7f, SIGKILL)
    children.removeAll { $0 == pool.workers[0].pid }
  }

  /// The loop is told to wake in time to see a worker stall (before the next tick).
  func testLoopIsWokenWhenAWorkerWouldCountAsStalled() throws {
    var config = DispatchConfig()
    config.stallAfterNs = 5_000_000
    let pool = try Pool(workers: 2, config: config, test: self)
    let sentAt = pool.loop.now
    pool.send("/x", serial: 1)
    pool.loop.wakeDeadline = nil
    _ = pool.dispatcher.prepareWait(loop: pool.loop)
    XCTAssertEqual(pool.loop.wakeDeadline, sentAt + 5_000_001)
  }

  // MARK: Harness

  /// A dispatcher with `workers` attached workers (real segments, in-process worker library,
  /// `sleep` processes standing for them) on a fake loop.
  final class Pool {
    let loop = FakeLoop()
    let dispatcher: Dispatcher
    var workers: [TestWorker] = []
    private var requests: [UnsafeMutableRawBufferPointer] = []

    init(workers count: Int, config: DispatchConfig, test: PoolRuleTests) throws {
      let launcher = WorkerLauncher(
        command: .custom("false"), parameters: .standard, spin: .never,
        bindMemory: false)
      dispatcher = Dispatcher(workers: [], launcher: launcher, config: config, frontThread: 0)
      dispatcher.pollWorkers(loop: loop, now: loop.now)
      for id in 0..<count {
        let pid = try spawnSleep()
        test.children.append(pid)
        let segment = try ChannelSegment.create(name: "pool-test", parameters: .standard)
        segment.header.pointee.broker_pid = UInt32(getpid())
        dispatcher.enqueueAttached(
          ControlServer.AttachedWorker(id: id, segment: segment, pid: pid, connection: -1))
        poll()
        let handle = try XCTUnwrap(dispatcher.workers.last)
        workers.append(
          TestWorker(
            handle: handle, front: try XCTUnwrap(handle.channel), pid: pid,
            worker: try Worker(fd: dup(segment.fd), spin: .never)))
      }
    }

    deinit {
      for request in requests { request.deallocate() }
      // The fake loop never reports the exits that would close the workers' pidfds.
      for worker in dispatcher.workers { if let process = worker.process { close(process.pidfd) } }
    }

    /// A GET for `path` from its own client, as the front hands it over.
    func send(_ path: String, serial: Int) {
      let text = "GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n"
      let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: text.utf8.count, alignment: 8)
      requests.append(bytes)
      _ = bytes.initializeMemory(as: UInt8.self, from: text.utf8)
      var head = RequestHead()
      guard
        case .complete = parseRequestHead(
          UnsafeRawBufferPointer(bytes), into: &head, limits: HTTPLimits())
      else { return XCTFail("test request does not parse") }
      let origin = RequestOrigin(
        remote: rb_endpoint(ipv4: (127, 0, 0, 1), port: 40000),
        local: rb_endpoint(ipv4: (127, 0, 0, 1), port: 8080), receivedUnixNanoseconds: 1)
      dispatcher.handleRequest(
        IncomingRequest(
          head: UnsafeRawBufferPointer(bytes), parsed: head,
          body: UnsafeRawBufferPointer(start: nil, count: 0), origin: origin),
        ticket: ReplyTicket(connection: UInt32(serial), generation: 0, serial: UInt32(serial)),
        loop: loop)
      dispatcher.publishAll(loop: loop)
    }

    /// One loop turn at the fake clock.
    func poll() { dispatcher.pollWorkers(loop: loop, now: loop.now) }

    /// Moves the clock in steps of 100 ms at most (the pool's periodic scans run per tick),
    /// with a loop turn after each.
    func advance(by nanoseconds: UInt64) {
      var left = nanoseconds
      while left > 0 {
        let step = min(left, 100_000_000)
        loop.now += step
        left -= step
        poll()
      }
    }
  }

  /// One worker position: the pool's handle and channel, and the worker library's side.
  struct TestWorker {
    let handle: WorkerHandle
    let front: FrontChannel
    let pid: pid_t
    let worker: Worker

    var header: UnsafeMutablePointer<rb_channel_header> { front.segment.header }
    var processIsAlive: Bool { kill(pid, 0) == 0 }

    /// Takes (claims) and answers the requests waiting for this worker, `atMost` of them:
    /// their paths.
    func serve(atMost limit: Int = .max) -> [String] {
      var paths: [String] = []
      while paths.count < limit, let request = claim() {
        paths.append(request.path)
        request.answer()
      }
      worker.flush()
      return paths
    }

    /// Takes the next request without answering it.
    func claim() -> TakenRequest? {
      guard case .request(let request) = worker.next(timeoutMilliseconds: 0) else { return nil }
      return TakenRequest(request: request)
    }
  }

  struct TakenRequest {
    let request: Request
    var path: String { String(decoding: request.path, as: UTF8.self) }

    func answer() {
      var body = "ok \(path)"
      try? body.withUTF8 {
        try request.reply.send(status: 200, contentType: nil, body: UnsafeRawBufferPointer($0))
      }
    }
  }
}

/// Records what the pool asks of its loop; the test owns the clock. Replies are copied out of
/// shared memory at once; their release tokens wait until `sendEverything`.
final class FakeLoop: PoolLoop {
  struct Answer {
    var ticket: ReplyTicket
    var status: Int
    var body: String
  }

  var now: UInt64 = 1_000_000_000
  let stats: UnsafeMutablePointer<rb_front_stats> = {
    let stats = UnsafeMutablePointer<rb_front_stats>.allocate(capacity: 1)
    stats.initialize(to: rb_front_stats())
    return stats
  }()
  var isDraining = false
  /// Replies and the broker's own answers, in the order the pool queued them.
  var answers: [Answer] = []
  var releaseTokens: [UInt64] = []
  var wakeDeadline: UInt64?

  deinit { stats.deallocate() }

  /// The kernel took every reply queued so far: their slots go back.
  func sendEverything(to dispatcher: Dispatcher) {
    let tokens = releaseTokens
    releaseTokens = []
    for token in tokens { dispatcher.released(token: token) }
  }

  func reply(
    _ ticket: ReplyTicket, status: Int, headerBlock: UnsafeRawBufferPointer,
    body: UnsafeRawBufferPointer, releaseToken: UInt64
  ) -> ReplyOutcome {
    answers.append(
      Answer(ticket: ticket, status: status, body: String(decoding: body, as: UTF8.self)))
    releaseTokens.append(releaseToken)
    return .queued
  }

  func startReply(
    _ ticket: ReplyTicket, status: Int, headerBlock: UnsafeRawBufferPointer,
    declaredLength: UInt64?, body: UnsafeRawBufferPointer, isLast: Bool, releaseToken: UInt64
  ) -> ReplyOutcome {
    reply(ticket, status: status, headerBlock: headerBlock, body: body, releaseToken: releaseToken)
  }

  func continueReply(
    _ ticket: ReplyTicket, body: UnsafeRawBufferPointer, isLast: Bool, releaseToken: UInt64
  ) -> ReplyOutcome {
    releaseTokens.append(releaseToken)
    return .queued
  }

  func abortReply(_ ticket: ReplyTicket, releaseToken: UInt64) {
    releaseTokens.append(releaseToken)
  }
  func closeReply(_ ticket: ReplyTicket) -> Bool { true }

  func replyError(_ ticket: ReplyTicket, status: Int, body: String, extraHeaders: String) {
    answers.append(Answer(ticket: ticket, status: status, body: body))
  }

  func noteUpstream(_ ticket: ReplyTicket, worker: Int?, requestID: UInt64, upstreamNs: UInt64?) {}
  func isConnectionAlive(_ ticket: ReplyTicket) -> Bool { true }
  func isReplyOpen(_ ticket: ReplyTicket) -> Bool { true }
  func resumeBody(_ ticket: ReplyTicket, token: UInt64) {}
  func waitOnWord(_ word: UnsafeMutablePointer<UInt32>, expected: UInt32, token: UInt64) {}
  func wakeWord(_ word: UnsafeMutablePointer<UInt32>, token: UInt64) {}
  func watchProcessExit(pidfd: Int32, token: UInt64) {}
  func cancel(operation: UInt64, token: UInt64) {}

  func wake(by deadline: UInt64) {
    if wakeDeadline == nil || deadline < wakeDeadline! { wakeDeadline = deadline }
  }
}

/// A process that does nothing for ten minutes: stands for a worker's process.
private func spawnSleep() throws -> pid_t {
  var pid: pid_t = 0
  let arguments = ["/bin/sleep", "600"]
  var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
  defer { for pointer in argv { free(pointer) } }
  let result = posix_spawn(&pid, "/bin/sleep", nil, nil, &argv, environ)
  guard result == 0 else { throw SpawnFailed(errno: result) }
  return pid
}

private struct SpawnFailed: Error { var errno: Int32 }
