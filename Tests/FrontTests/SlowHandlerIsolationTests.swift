import Foundation
import Glibc
import TestSupport
import XCTest

/// A slow request costs only itself (DispatchConfig.stallAfterNs, ringabi.h "Slot claims"):
/// while one worker is busy with it, or stopped, requests that another worker could serve
/// never wait behind it, and none is lost.
final class SlowHandlerIsolationTests: XCTestCase {
  /// How long a slow request takes; a fast one that waited behind it would take about as long.
  static let slowMilliseconds = 2000
  /// What a fast request may take on a loaded 2-core VM without having waited behind a slow one.
  static let fastLimit = 0.7

  static let luaApp = """
    local ffi = require("ffi")
    ffi.cdef("int poll(void *fds, unsigned long nfds, int timeout);")
    return function(req)
      if req.path == "/sleep" then
        ffi.C.poll(nil, 0, tonumber(req.query.ms) or 1000)
        return 200, {}, "slept\\n"
      end
      return 200, {}, "hello world\\n"
    end
    """

  private func luaAppPath() throws -> String {
    let path = NSTemporaryDirectory() + "slow-\(getpid())-\(UUID().uuidString).lua"
    try Self.luaApp.write(toFile: path, atomically: true, encoding: .utf8)
    addTeardownBlock { unlink(path) }
    return path
  }

  /// Starts `count` slow requests, each on its own connection, and waits until each holds a
  /// slot; the returned threads end when their replies came (checked there).
  private func startSlowRequests(_ count: Int, broker: BrokerProcess) throws -> [Thread] {
    let before = try slotsInUse(brokerPid: broker.pid).values.reduce(0, +)
    var threads: [Thread] = []
    for _ in 0..<count {
      let client = try RawHTTPClient(port: broker.port, timeout: 30)
      try client.send(Requests.get("/sleep?ms=\(Self.slowMilliseconds)"))
      let thread = Thread {
        let reply = try? client.readResponse()
        XCTAssertEqual(reply?.status, 200, "the slow request was answered")
      }
      thread.start()
      threads.append(thread)
    }
    XCTAssertTrue(
      waitUntil(timeout: 10) {
        ((try? slotsInUse(brokerPid: broker.pid).values.reduce(0, +)) ?? 0) >= before + count
      }, "the slow requests reached their workers")
    return threads
  }

  /// `connections` clients send `perConnection` fast requests each, one after another; every
  /// one must come back 200 within `fastLimit`. Returns the latencies, sorted.
  @discardableResult
  private func assertFastRequestsAreServed(
    port: UInt16, connections: Int = 4, perConnection: Int = 50,
    file: StaticString = #filePath, line: UInt = #line
  ) -> [Double] {
    let lock = NSLock()
    var latencies: [Double] = []
    var failures: [String] = []
    let threads = (0..<connections).map { _ in
      Thread {
        do {
          let client = try RawHTTPClient(port: port, timeout: 30)
          for _ in 0..<perConnection {
            let start = Date()
            try client.send(Requests.get("/"))
            let reply = try client.readResponse()
            let took = Date().timeIntervalSince(start)
            lock.lock()
            latencies.append(took)
            if reply.status != 200 { failures.append("status \(reply.status)") }
            lock.unlock()
          }
        } catch {
          lock.lock()
          failures.append("\(error)")
          lock.unlock()
        }
      }
    }
    threads.forEach { $0.start() }
    XCTAssertTrue(
      waitUntil(timeout: 60) { threads.allSatisfy(\.isFinished) }, "fast clients finished",
      file: file, line: line)
    lock.lock()
    defer { lock.unlock() }
    XCTAssertEqual(failures, [], file: file, line: line)
    XCTAssertEqual(
      latencies.count, connections * perConnection, "none lost", file: file, line: line)
    let sorted = latencies.sorted()
    XCTAssertLessThan(
      sorted.last ?? .infinity, Self.fastLimit,
      "slowest fast request; p50 \(sorted[sorted.count / 2]) s", file: file, line: line)
    return sorted
  }

  private func waitForSlowReplies(_ threads: [Thread]) {
    XCTAssertTrue(
      waitUntil(timeout: Double(Self.slowMilliseconds) / 1000 + 20) {
        threads.allSatisfy(\.isFinished)
      }, "slow replies came")
  }

  /// `slow` slow requests on a broker with `arguments` and `workers` workers: everything else
  /// is served meanwhile, and the slow ones are answered too.
  private func assertSlowRequestsHoldUpNoOther(
    _ arguments: [String], workers: Int, slow: Int, file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    let broker = try BrokerProcess(["--workers", String(workers)] + arguments)
    defer { _ = broker.stop() }
    XCTAssertTrue(
      waitForAttachedWorkers(brokerPid: broker.pid, count: workers), broker.stderr, file: file,
      line: line)
    let slowRequests = try startSlowRequests(slow, broker: broker)
    assertFastRequestsAreServed(port: broker.port, file: file, line: line)
    waitForSlowReplies(slowRequests)
  }

  func testCWorkerSlowRequestHoldsUpNoOther() throws {
    try assertSlowRequestsHoldUpNoOther(["--worker", Products.cWorker], workers: 2, slow: 1)
  }

  func testLuaWorkerSlowRequestHoldsUpNoOther() throws {
    try assertSlowRequestsHoldUpNoOther([try luaAppPath()], workers: 2, slow: 1)
  }

  /// Two slow requests at once on three workers: the third worker serves everything else.
  func testSeveralSlowRequestsAtOnce() throws {
    try assertSlowRequestsHoldUpNoOther(["--worker", Products.cWorker], workers: 3, slow: 2)
  }

  /// A stopped worker (SIGSTOP) claims nothing: what reaches its ring moves to the other one.
  func testStoppedWorkerHoldsUpNoRequest() throws {
    let broker = try BrokerProcess(["--workers", "2", "--worker", Products.cWorker])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitForAttachedWorkers(brokerPid: broker.pid, count: 2), broker.stderr)
    let workers = WorkerProcesses.running(of: broker.pid)
    XCTAssertEqual(workers.count, 2)
    guard let stopped = workers.min() else { return XCTFail("no worker") }
    XCTAssertEqual(kill(stopped, SIGSTOP), 0)
    var continued = false
    defer { if !continued { kill(stopped, SIGCONT) } }
    assertFastRequestsAreServed(port: broker.port)
    XCTAssertEqual(kill(stopped, SIGCONT), 0)
    continued = true
    // Both serve again; none of the moved requests was run twice or lost on the way.
    assertFastRequestsAreServed(port: broker.port, connections: 2, perConnection: 20)
    let revoked = try ringstatChannels(brokerPid: broker.pid).compactMap {
      $0["requestsRevoked"] as? Int
    }.reduce(0, +)
    XCTAssertGreaterThan(revoked, 0, "requests moved off the stopped worker")
  }
}
