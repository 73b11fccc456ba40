import Foundation
import TestSupport
import XCTest

/// The broker with real worker processes behind real channels, spoken to over loopback.
final class WorkerModeTests: XCTestCase {

  func testCWorkerAnswersHelloAndEcho() throws {
    let broker = try BrokerProcess(["--workers", "2", "--worker", Products.cWorker])
    defer { _ = broker.stop() }
    let hello = try get(broker.port, "/")
    XCTAssertEqual(hello.status, 200)
    XCTAssertEqual(hello.bodyText, "hello world\n")
    XCTAssertEqual(hello.header("Content-Type"), "text/plain")

    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.post("/echo?x=1", body: "payload é", headers: ["X-Test: yes"]))
    let echo = try client.readResponse()
    XCTAssertEqual(echo.status, 200)
    XCTAssertTrue(echo.bodyText.hasPrefix("POST /echo?x=1\n"), echo.bodyText)
    XCTAssertTrue(echo.bodyText.contains("X-Test: yes\n"), echo.bodyText)
    XCTAssertTrue(echo.bodyText.hasSuffix("\n\npayload é"), echo.bodyText)
    XCTAssertEqual(Int(echo.header("Content-Length") ?? ""), echo.body.count)
  }

  func testSwiftWorkerAnswersHelloEchoAndHead() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.path("swift-hello-worker"),
    ])
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/").bodyText, "hello world\n")
    let client = try RawHTTPClient(port: broker.port)
    try client.send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        + Requests.chunked(["abc", "defg"]))
    let echo = try client.readResponse()
    XCTAssertTrue(echo.bodyText.hasSuffix("\n\nabcdefg"), echo.bodyText)
    try client.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
    let head = try client.readResponse(forHEAD: true)
    XCTAssertEqual(head.status, 200)
    XCTAssertEqual(head.header("Content-Length"), "12")
    XCTAssertTrue(head.body.isEmpty)
  }

  func testManyConcurrentClientsThroughWorkers() throws {
    let broker = try BrokerProcess(["--workers", "2", "--worker", Products.cWorker])
    defer { _ = broker.stop() }
    let clients = 64
    let requestsEach = 25
    let failures = Counter()
    let threads = (0..<clients).map { index in
      Thread {
        do {
          let client = try RawHTTPClient(port: broker.port)
          for request in 0..<requestsEach {
            try client.send(Requests.post("/echo", body: "client \(index) request \(request)"))
            let response = try client.readResponse()
            guard response.status == 200,
              response.bodyText.hasSuffix("client \(index) request \(request)")
            else {
              throw TestError("bad reply \(response)")
            }
          }
        } catch {
          failures.increment()
        }
      }
    }
    threads.forEach { $0.start() }
    XCTAssertTrue(waitUntil(timeout: 120) { threads.allSatisfy { $0.isFinished } })
    XCTAssertEqual(failures.value, 0)
  }

  func testKilledWorkerIsRespawnedAndServiceGoesOn() throws {
    let broker = try BrokerProcess(["--workers", "2", "--worker", Products.testWorker])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitUntil { WorkerProcesses.running(of: broker.pid).count == 2 })
    let before = WorkerProcesses.running(of: broker.pid)
    let victim = try XCTUnwrap(before.first, "no worker process")
    kill(victim, SIGKILL)
    XCTAssertTrue(
      waitUntil {
        let now = WorkerProcesses.running(of: broker.pid)
        return now.count == 2 && !now.contains(victim)
      })
    for _ in 0..<20 { XCTAssertEqual(try get(broker.port, "/").status, 200) }
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("was killed by signal 9") }, broker.stderr)
  }

  func testRequestTakenByAWorkerThatDiesGets502AndOthersSucceed() throws {
    let broker = try BrokerProcess(["--workers", "1", "--worker", Products.testWorker])
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/exit").status, 502)
    // The successor serves.
    XCTAssertTrue(waitUntil { (try? get(broker.port, "/")).map { $0.status == 200 } ?? false })
  }

  /// With the default --stall-timeout the three would wait in the front, not in the ring of
  /// the busy worker (see SlowHandlerIsolationTests): a long one keeps them in its ring here.
  func testRequestsAWorkerNeverTookSurviveItsDeath() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.testWorker, "--stall-timeout", "60",
    ])
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/warm").status, 200)
    let victim = try XCTUnwrap(WorkerProcesses.running(of: broker.pid).first, "no worker process")
    // The worker takes the slow request; the next three wait in its ring, untaken.
    let slow = try RawHTTPClient(port: broker.port)
    try slow.send(Requests.get("/sleep/5000"))
    XCTAssertTrue(
      waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: 2), "the worker never took /sleep")
    let waiting = try (0..<3).map { index -> RawHTTPClient in
      let client = try RawHTTPClient(port: broker.port)
      try client.send(Requests.get("/waiting/\(index)"))
      return client
    }
    XCTAssertTrue(
      waitForRequestsDispatched(brokerPid: broker.pid, atLeast: 5),
      "the three requests never reached the worker's ring")
    XCTAssertEqual(requestsTaken(byWorkersOf: broker.pid), 2, "the three were taken after all")
    kill(victim, SIGKILL)
    XCTAssertEqual(
      try slow.readResponse().status, 502, "taken: it may have had effects, so it fails")
    for (index, client) in waiting.enumerated() {
      XCTAssertEqual(
        try client.readResponse().bodyText, "ok /waiting/\(index)",
        "never taken: served by the successor")
    }
  }

  func testSlowRequestDoesNotHoldBackOthers() throws {
    let broker = try BrokerProcess(["--workers", "2", "--worker", Products.testWorker])
    defer { _ = broker.stop() }
    let slow = try RawHTTPClient(port: broker.port)
    try slow.send(Requests.get("/sleep/4000"))
    XCTAssertTrue(
      waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: 1), "no worker took /sleep")
    let start = Date()
    for _ in 0..<20 { XCTAssertEqual(try get(broker.port, "/fast").bodyText, "ok /fast") }
    XCTAssertLessThan(
      Date().timeIntervalSince(start), 3.5, "fast requests waited behind the slow one")
    XCTAssertEqual(try slow.readResponse().bodyText, "ok /sleep/4000")
  }

  func testFullWorkersQueueThenAnswer503WithRetryAfter() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.testWorker, "--queue-timeout", "0.5",
      "--worker-depth", "4",
    ])
    defer { _ = broker.stop() }
    // Four slow requests fill the worker's depth; the fifth waits in the front, then gets 503.
    let slow = try (0..<4).map { _ in try RawHTTPClient(port: broker.port) }
    for client in slow { try client.send(Requests.get("/sleep/3000")) }
    XCTAssertTrue(
      waitForRequestsDispatched(brokerPid: broker.pid, atLeast: 4),
      "the four slow requests never reached the worker")
    let waiting = try get(broker.port, "/queued")
    XCTAssertEqual(waiting.status, 503)
    XCTAssertEqual(waiting.header("Retry-After"), "1")
    for client in slow { XCTAssertEqual(try client.readResponse().status, 200) }
  }

  /// The README: a second stop signal during the drain "closes everything at once".
  func testSecondSigtermDuringTheDrainClosesEverythingAtOnce() throws {
    let broker = try BrokerProcess(["--workers", "1", "--worker", Products.testWorker])
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get("/sleep/20000"))
    XCTAssertTrue(
      waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: 1), "the worker never took /sleep")
    kill(broker.pid, SIGTERM)
    XCTAssertNotNil(broker.waitForLogLine(containing: "SIGTERM: stopping"), broker.stderr)
    // Draining: the request in flight (20 s) holds the client open, and the broker with it.
    client.setReceiveTimeout(1)
    XCTAssertNil(client.waitForClose(), "the first SIGTERM did not wait for the request")
    XCTAssertNil(broker.waitForExit(timeout: 0), "the first SIGTERM did not wait for the request")
    // The second closes every connection at once (the worker, still in its handler, is then
    // stopped and waited for within the broker's own bounds).
    let second = Date()
    kill(broker.pid, SIGTERM)
    client.setReceiveTimeout(5)
    XCTAssertEqual(client.waitForClose(), [], "the second SIGTERM did not close the client")
    XCTAssertLessThan(Date().timeIntervalSince(second), 3, "not at once")
    XCTAssertNotNil(broker.waitForExit(timeout: 30), "the broker did not exit")
  }

  func testSigtermDrainsRequestsInFlightThenStopsWorkers() throws {
    let broker = try BrokerProcess(["--workers", "2", "--worker", Products.testWorker])
    XCTAssertTrue(waitUntil { WorkerProcesses.running(of: broker.pid).count == 2 })
    let workers = WorkerProcesses.running(of: broker.pid)
    let clients = try (0..<3).map { _ in try RawHTTPClient(port: broker.port) }
    for client in clients { try client.send(Requests.get("/sleep/1500")) }
    XCTAssertTrue(
      waitForRequestsDispatched(brokerPid: broker.pid, atLeast: 3),
      "the three requests never reached the workers")
    kill(broker.pid, SIGTERM)
    for client in clients {
      let response = try client.readResponse()
      XCTAssertEqual(response.status, 200)
      XCTAssertEqual(response.bodyText, "ok /sleep/1500")
    }
    XCTAssertEqual(broker.waitForExit(timeout: 30), 0)
    XCTAssertTrue(
      waitUntil { workers.allSatisfy { kill($0, 0) != 0 } }, "workers exited with the broker")
  }

  func testLuaAppsServeThroughTheBroker() throws {
    let hello = try BrokerProcess(["--workers", "2", Products.luaExamples + "/hello.lua"])
    defer { _ = hello.stop() }
    XCTAssertEqual(try get(hello.port, "/").bodyText, "hello world\n")
    let api = try BrokerProcess(["--workers", "1", Products.luaExamples + "/api.lua"])
    defer { _ = api.stop() }
    XCTAssertEqual(try get(api.port, "/no/such/route").status, 404)
  }

  func testBrokenLuaAppStopsTheBrokerAtStartUpWithFileAndLine() throws {
    let app = NSTemporaryDirectory() + "broken-\(getpid()).lua"
    try "local x = \nreturn function(req) return 200 end end\n".write(
      toFile: app, atomically: true, encoding: .utf8)
    defer { unlink(app) }
    let result = try BrokerProcess.runToExit(["--workers", "2", app])
    XCTAssertNotEqual(result.status, 0)
    XCTAssertTrue(result.stderr.contains("broken-\(getpid()).lua:2:"), result.stderr)
    XCTAssertTrue(result.stderr.contains("failed to load"), result.stderr)
  }

  func testRequestPastTheTimeoutGets504AndTheWorkerIsReplaced() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.testWorker, "--timeout", "1",
    ])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitUntil { WorkerProcesses.running(of: broker.pid).count == 1 })
    let stuck = WorkerProcesses.running(of: broker.pid)
    let start = Date()
    let response = try get(broker.port, "/sleep/30000")
    XCTAssertEqual(response.status, 504)
    XCTAssertLessThan(Date().timeIntervalSince(start), 15)
    XCTAssertTrue(
      waitUntil { broker.stderr.contains("request GET /sleep/30000 ran") }, broker.stderr)
    XCTAssertTrue(
      waitUntil {
        let now = WorkerProcesses.running(of: broker.pid)
        return now.count == 1 && now != stuck
      })
    XCTAssertEqual(try get(broker.port, "/after").bodyText, "ok /after")
  }

  /// `clients` keep-alive connections sending `requests` each; returns how many failed (any
  /// status but 200, or a connection error). `during` runs once the load is under way.
  private func failuresUnderLoad(
    port: UInt16, clients: Int = 16, requests: Int = 400, during: () -> Void = {}
  ) -> Int {
    let failures = Counter()
    let answered = Counter()
    let threads = (0..<clients).map { _ in
      Thread {
        var client: RawHTTPClient?
        for _ in 0..<requests {
          do {
            let connection = try client ?? RawHTTPClient(port: port)
            client = connection
            try connection.send(Requests.get("/"))
            let response = try connection.readResponse()
            answered.increment()
            if response.status != 200 { failures.increment() }
            if response.closesConnection { client = nil }
          } catch {
            failures.increment()
            client = nil
          }
        }
      }
    }
    threads.forEach { $0.start() }
    // Under way: every client has had a few answers.
    XCTAssertTrue(
      waitUntil(timeout: 60) { answered.value >= 4 * clients }, "the load never started")
    during()
    XCTAssertTrue(waitUntil(timeout: 180) { threads.allSatisfy { $0.isFinished } })
    return failures.value
  }

  func testMaxRequestsRecyclesWorkersUnderLoadWithoutFailures() throws {
    let broker = try BrokerProcess([
      "--workers", "2", "--worker", Products.cWorker, "--max-requests", "500",
    ])
    defer { _ = broker.stop() }
    XCTAssertEqual(failuresUnderLoad(port: broker.port), 0)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("recycling it") }, broker.stderr)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("retired: exited with status 0") },
      broker.stderr)
    XCTAssertTrue(waitUntil { WorkerProcesses.running(of: broker.pid).count == 2 })
  }

  func testSighupReloadsEveryWorkerUnderLoadWithoutFailures() throws {
    let broker = try BrokerProcess(["--workers", "2", "--worker", Products.cWorker])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitUntil { WorkerProcesses.running(of: broker.pid).count == 2 })
    let before = WorkerProcesses.running(of: broker.pid)
    let failed = failuresUnderLoad(port: broker.port, requests: 600) { kill(broker.pid, SIGHUP) }
    XCTAssertEqual(failed, 0)
    XCTAssertTrue(
      waitUntil {
        let now = WorkerProcesses.running(of: broker.pid)
        return now.count == 2 && now.isDisjoint(with: before)
      })
    XCTAssertEqual(
      broker.stderr.components(separatedBy: "replaced by pid").count - 1, 2, broker.stderr)
  }

  func testWorkersExitWhenTheBrokerIsKilled() throws {
    let broker = try BrokerProcess(["--workers", "2", "--worker", Products.cWorker])
    XCTAssertTrue(waitUntil { WorkerProcesses.running(of: broker.pid).count == 2 })
    let workers = WorkerProcesses.running(of: broker.pid)
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    let killedAt = Date()
    kill(broker.pid, SIGKILL)
    XCTAssertTrue(
      waitUntil(timeout: 10) {
        workers.allSatisfy { kill($0, 0) != 0 || WorkerProcesses.isZombie($0) }
      }, "workers outlived the broker")
    // The README: workers notice (pidfd) within half a second; the margin is for a busy machine.
    let noticed = Date().timeIntervalSince(killedAt)
    XCTAssertLessThan(noticed, 1.5, "workers took \(noticed) s to exit after the broker")
  }

  func testKillingAWorkerUnderLoadFailsOnlyWhatItHeld() throws {
    let broker = try BrokerProcess(["--workers", "2", "--worker", Products.cWorker])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitUntil { WorkerProcesses.running(of: broker.pid).count == 2 })
    let victim = try XCTUnwrap(WorkerProcesses.running(of: broker.pid).first, "no worker process")
    let clients = 16
    let failed = failuresUnderLoad(port: broker.port, clients: clients, requests: 600) {
      kill(victim, SIGKILL)
    }
    // Only requests the worker had taken fail: at most one per client connection in flight.
    XCTAssertLessThanOrEqual(failed, clients)
    // The load may end before the broker has seen the exit (it is quick): wait for the log line.
    XCTAssertTrue(waitUntil { broker.stderr.contains("was killed by signal 9") }, broker.stderr)
    XCTAssertTrue(waitUntil { WorkerProcesses.running(of: broker.pid).count == 2 })
  }

  private func startAttachedWorker(endpoint: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Products.cWorker)
    process.environment = ["RINGWORKER_ENDPOINT": endpoint]
    process.standardError = Pipe()
    try process.run()
    return process
  }

  func testWorkerStartedByHandAttachesTakesTrafficAndLeavesCleanly() throws {
    let socket = NSTemporaryDirectory() + "ringbroker-attach-\(getpid()).sock"
    let broker = try BrokerProcess(["--workers", "0", "--control", socket])
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/").status, 503, "no worker yet")
    let worker = try startAttachedWorker(endpoint: socket)
    XCTAssertTrue(waitUntil { (try? get(broker.port, "/"))?.bodyText == "hello world\n" })
    // The log line is read from the broker's stderr by another thread: wait for it.
    XCTAssertTrue(
      waitUntil { broker.stderr.contains("(pid \(worker.processIdentifier)) attached") },
      broker.stderr)
    worker.terminate()
    try worker.waitForExit(timeout: 30, "attached hello-worker")
    XCTAssertTrue(
      waitUntil { broker.stderr.contains("(pid \(worker.processIdentifier)) left") }, broker.stderr)
    XCTAssertEqual(try get(broker.port, "/").status, 503, "the attached worker is gone")
  }

  func testOverloadIsAnsweredWith503AndMemoryStaysBounded() throws {
    // One worker that needs 20 ms per request (50 req/s) against 64 clients sending as fast as
    // they can: far more than ten times what it can serve.
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.testWorker, "--queue-timeout", "0.5",
      "--worker-depth", "8",
    ])
    defer { _ = broker.stop() }
    let served = Counter()
    let refused = Counter()
    let broken = Counter()
    let deadline = Date().addingTimeInterval(6)
    let threads = (0..<64).map { _ in
      Thread {
        while Date() < deadline {
          do {
            let client = try RawHTTPClient(port: broker.port)
            try client.send(Requests.get("/sleep/20"))
            switch try client.readResponse().status {
            case 200: served.increment()
            case 503: refused.increment()
            default: broken.increment()
            }
          } catch {
            broken.increment()
          }
        }
      }
    }
    threads.forEach { $0.start() }
    XCTAssertTrue(waitUntil(timeout: 60) { threads.allSatisfy { $0.isFinished } })
    XCTAssertEqual(broken.value, 0, "every request got 200 or 503")
    XCTAssertGreaterThan(refused.value, served.value, "overloaded: most were refused")
    XCTAssertGreaterThan(served.value, 50)
    let peak = peakResidentMemoryKiB(broker.pid)
    print(
      "overload: \(served.value) served, \(refused.value) refused with 503, broker peak RSS \(peak) KiB"
    )
    XCTAssertLessThan(peak, 256 * 1024, "peak RSS \(peak) KiB")
    XCTAssertEqual(try get(broker.port, "/after").status, 200)
  }

  /// CPU seconds (user + system) a process has used so far.
  private func cpuSeconds(_ pid: Int32) -> Double {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
      return 0
    }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
  }

  func testCrashLoopBacksOffWithoutSpinningAndAnswers503() throws {
    let marker = NSTemporaryDirectory() + "rbtest-crash-\(UUID().uuidString)"
    defer { unlink(marker) }
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.crashingAfterFirstStart(marker: marker),
      "--queue-timeout", "0.3",
    ])
    defer { _ = broker.stop() }
    // Up once (a first worker that cannot start stops the broker instead); every start after
    // the first exits with status 1.
    for pid in WorkerProcesses.running(of: broker.pid) { kill(pid, SIGKILL) }
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("exited with status 1") }, broker.stderr)
    let before = cpuSeconds(broker.pid)
    let response = try get(broker.port, "/")
    XCTAssertEqual(response.status, 503)
    XCTAssertEqual(response.header("Retry-After"), "1")
    // The period of the measurement itself: the CPU a crash loop burns in 3 s.
    usleep(3_000_000)
    let used = cpuSeconds(broker.pid) - before
    XCTAssertLessThan(used, 1.0, "the broker spun \(used) s of CPU in a crash loop")
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("keeps exiting; next start in") },
      broker.stderr)
    let starts = broker.stderr.components(separatedBy: "exited with status 1").count - 1
    XCTAssertLessThan(starts, 20, "backoff: \(starts) starts in ~3 s")
  }

  func testNoAppIsAOneLineError() throws {
    let result = try BrokerProcess.runToExit([])
    XCTAssertNotEqual(result.status, 0)
    XCTAssertTrue(result.stderr.contains("no app"), result.stderr)
  }
}
