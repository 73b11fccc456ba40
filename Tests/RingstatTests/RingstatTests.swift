import Foundation
import TestSupport
import XCTest

/// ringstat against real brokers (ringbroker + the `ringchannel-child http` test worker).
final class RingstatTests: XCTestCase {
  private static var nextName = 0

  /// A broker name unique to this test run, so parallel runs never see each other's brokers.
  private func uniqueName() -> String {
    Self.nextName += 1
    return "stat-test-\(getpid())-\(Self.nextName)"
  }

  func testListShowsBrokerByName() throws {
    let broker = try BrokerProcess(name: uniqueName())
    let list = try Ringstat.run([])
    XCTAssertEqual(list.status, 0, list.stderr)
    let line = try XCTUnwrap(
      list.stdout.split(separator: "\n").first { $0.contains(broker.name) }, list.stdout)
    // The PID column is right-aligned to the longest pid of the brokers listed.
    XCTAssertTrue(line.drop(while: { $0 == " " }).hasPrefix("\(broker.pid) "), String(line))
    XCTAssertTrue(line.contains("127.0.0.1:\(broker.port)"), String(line))
    XCTAssertTrue(line.contains("2/2"), String(line))

    let json = try Ringstat.run(["--json"]).json()
    let brokers = try XCTUnwrap(json["brokers"] as? [[String: Any]])
    let entry = try XCTUnwrap(brokers.first { $0["name"] as? String == broker.name })
    XCTAssertEqual(entry["pid"] as? Int, Int(broker.pid))
    XCTAssertEqual(entry["listen"] as? String, "127.0.0.1:\(broker.port)")
    XCTAssertEqual(entry["workerTarget"] as? Int, 2)

    // By name, the same broker as by pid.
    let byName = try Ringstat.run([broker.name])
    XCTAssertEqual(byName.status, 0, byName.stderr)
    XCTAssertTrue(
      byName.stdout.hasPrefix("broker \(broker.name) (pid \(broker.pid))"), byName.stdout)
  }

  func testUnknownTargetsFailWithOneLine() throws {
    var missing: Int32 = 4_000_000
    while kill(missing, 0) == 0 || errno != ESRCH { missing -= 1 }
    for target in [String(missing), "no-such-broker-\(getpid())", String(getpid())] {
      let result = try Ringstat.run([target])
      XCTAssertEqual(result.status, 1, target)
      XCTAssertEqual(result.stdout, "", target)
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
      XCTAssertTrue(result.stderr.hasPrefix("ringstat: "), result.stderr)
    }
  }

  func testCountersAddUpUnderLoad() throws {
    let broker = try BrokerProcess(name: uniqueName())
    let client = LoadClient()
    let rounds = 1000
    client.start(port: broker.port, threads: 4, connections: 8, rounds: rounds)
    // Mid-load: everything the client got back was completed by the front, and the front
    // cannot have completed more than the client sent.
    var midSamples = 0
    XCTAssertTrue(
      waitUntil(timeout: 120) { client.received >= 4 * 8 * rounds / 4 || !client.errors.isEmpty },
      "a quarter of the load was not answered within 120 s")
    for _ in 0..<3 {
      let receivedBefore = client.received
      let result = try Ringstat.run(["--json", String(broker.pid)])
      let sentAfter = client.sent
      XCTAssertEqual(result.status, 0, result.stderr)
      let totals = try XCTUnwrap(try result.json()["totals"] as? [String: Any])
      let served = try XCTUnwrap(totals["requestsServed"] as? Int)
      XCTAssertGreaterThanOrEqual(served, receivedBefore)
      XCTAssertLessThanOrEqual(served, sentAfter)
      midSamples += 1
    }
    try client.wait()
    XCTAssertEqual(client.errors, [])
    let total = 4 * 8 * rounds
    XCTAssertEqual(client.received, total)

    let json = try Ringstat.run(["--json", String(broker.pid)]).json()
    let channels = try XCTUnwrap(json["channels"] as? [[String: Any]])
    let totals = try XCTUnwrap(json["totals"] as? [String: Any])
    XCTAssertEqual(channels.count, 2)
    XCTAssertEqual(totals["requestsServed"] as? Int, total)
    // A request taken back from a stalled worker counts as dispatched twice.
    let revoked = try XCTUnwrap(totals["requestsRevoked"] as? Int)
    XCTAssertEqual(totals["requestsDispatched"] as? Int, total + revoked)
    XCTAssertEqual(channels.compactMap { $0["requestsServed"] as? Int }.reduce(0, +), total)
    XCTAssertEqual(totals["errors"] as? Int, 0)
    XCTAssertEqual(totals["requestDepth"] as? Int, 0)
    XCTAssertEqual(totals["slotsInUse"] as? Int, 0)
    XCTAssertGreaterThan(totals["bytesOut"] as? Int ?? 0, 0)
    XCTAssertNotNil(totals["latencyP99Ns"] as? Int)
    for channel in channels {
      XCTAssertGreaterThan(
        channel["requestsServed"] as? Int ?? 0, 0, "both workers served: \(channel)")
      XCTAssertEqual(channel["pending"] as? Int, 0)
      XCTAssertEqual(
        (channel["latencyBuckets"] as? [Int])?.reduce(0, +), channel["requestsServed"] as? Int)
      XCTAssertEqual(channel["restarts"] as? Int, 0)
      // The README: each worker's channel has 26 slots.
      XCTAssertEqual(channel["slotsTotal"] as? Int, 26, "\(channel)")
    }
  }

  /// `--check` reports a crash loop (README: restarted 3 times or more, the current worker
  /// younger than 10 s, or a worker respawning), after the broker's first 2 s.
  func testCrashLoopFailsCheck() throws {
    let name = uniqueName()
    let marker = NSTemporaryDirectory() + "rbtest-crash-\(UUID().uuidString)"
    defer { unlink(marker) }
    let broker = try BrokerProcess([
      "--name", name, "--workers", "1", "--worker",
      Products.crashingAfterFirstStart(marker: marker),
    ])
    // Up once; killed, it exits at every start after the first.
    for pid in WorkerProcesses.running(of: broker.pid) { kill(pid, SIGKILL) }
    let found = Ringstat.waitForFailingCheck(brokerPid: broker.pid, prefix: "crash loop: ")
    let check = try XCTUnwrap(found)
    XCTAssertEqual(check.status, 1, check.stdout + check.stderr)
    XCTAssertEqual(check.stdout.split(separator: "\n").count, 1, check.stdout)
    // From the channels ("worker 0 of broker … restarted N times") or, before the channels show
    // it, from the broker's own count of workers in respawn backoff ("1 worker(s) of broker …").
    XCTAssertTrue(
      check.stdout.hasPrefix("crash loop: worker 0 of broker \(name) (pid \(broker.pid))")
        || check.stdout.hasPrefix("crash loop: 1 worker(s) of broker \(name) (pid \(broker.pid))"),
      check.stdout)
  }

  /// A worker stopped (SIGSTOP) inside a handler holds a request it claimed: its ring is stuck
  /// once that request has waited longer than --stuck-after, and fine again once it answers.
  /// (Requests it had not claimed move to the other worker: they never make it stuck.)
  func testStuckRingFailsCheckUntilWorkerContinues() throws {
    let broker = try BrokerProcess(name: uniqueName())
    func takenCounts() throws -> [Int: (pid: Int, taken: Int)] {
      let json = try Ringstat.run(["--json", String(broker.pid)]).json()
      let rows = try XCTUnwrap(json["channels"] as? [[String: Any]])
      var counts: [Int: (pid: Int, taken: Int)] = [:]
      for row in rows {
        guard let id = row["workerId"] as? Int, let pid = row["pid"] as? Int,
          let worker = row["worker"] as? [String: Any], let taken = worker["requestsTaken"] as? Int
        else { continue }
        counts[id] = (pid, taken)
      }
      return counts
    }
    let before = try takenCounts()
    XCTAssertEqual(before.count, 2, "\(before)")
    let slow = try RawHTTPClient(port: broker.port)
    try slow.send(Requests.get("/sleep/4000"))
    var taker: (id: Int, pid: Int)?
    let deadline = Date().addingTimeInterval(10)
    while taker == nil && Date() < deadline {
      taker = try takenCounts().first { $0.value.taken > (before[$0.key]?.taken ?? 0) }.map {
        ($0.key, $0.value.pid)
      }
      if taker == nil { usleep(20_000) }
    }
    let (stoppedID, stoppedPID) = try XCTUnwrap(taker, "no worker took the request")
    XCTAssertEqual(kill(Int32(stoppedPID), SIGSTOP), 0)
    var continued = false
    defer { if !continued { kill(Int32(stoppedPID), SIGCONT) } }
    // Others are served meanwhile, by the other worker.
    for _ in 0..<4 {
      let connection = try RawHTTPClient(port: broker.port)
      try connection.send(Requests.get("/sleep/1"))
      XCTAssertEqual(try connection.readResponse().status, 200)
    }

    // Stuck once the claimed request has waited for the threshold (1 s): the check says so
    // within a few.
    var check = try Ringstat.run(["--check", "--stuck-after", "1", String(broker.pid)])
    XCTAssertTrue(
      waitUntil(timeout: 10) {
        check = (try? Ringstat.run(["--check", "--stuck-after", "1", String(broker.pid)])) ?? check
        return check.status == 1
      }, check.stdout)
    XCTAssertEqual(check.stdout.split(separator: "\n").count, 1, check.stdout)
    XCTAssertTrue(check.stdout.hasPrefix("stuck: ring ringbroker-w\(stoppedID) "), check.stdout)
    let table = try Ringstat.run(["--stuck-after", "1", String(broker.pid)])
    let row = table.stdout.split(separator: "\n").first { $0.hasPrefix("\(stoppedID) ") }
    XCTAssertTrue(row?.contains(" stuck ") ?? false, table.stdout)
    let json = try Ringstat.run(["--json", "--stuck-after", "1", String(broker.pid)]).json()
    let stuckRow = (json["channels"] as? [[String: Any]])?.first {
      $0["workerId"] as? Int == stoppedID
    }
    XCTAssertEqual(stuckRow?["stuck"] as? Bool, true)
    XCTAssertEqual(stuckRow?["state"] as? String, "stopped")

    XCTAssertEqual(kill(Int32(stoppedPID), SIGCONT), 0)
    continued = true
    XCTAssertEqual(try slow.readResponse().status, 200)
    let after = try Ringstat.run(["--check", "--stuck-after", "1", String(broker.pid)])
    XCTAssertEqual(after.status, 0, after.stdout)
    XCTAssertTrue(after.stdout.hasPrefix("ok: "), after.stdout)
  }

  /// Stuck means the oldest request has waited too long, not that the last reply is old: a
  /// worker idle for longer than --stuck-after that just got a request is fine.
  func testIdleWorkerWithAFreshRequestIsNotStuck() throws {
    let broker = try BrokerProcess(name: uniqueName())
    // Idle for longer than the threshold (the wait is what this test is about).
    usleep(1_500_000)
    let connection = try RawHTTPClient(port: broker.port)
    try connection.send(Requests.get("/sleep/900"))
    usleep(400_000)
    let check = try Ringstat.run(["--check", "--stuck-after", "1", String(broker.pid)])
    XCTAssertEqual(check.status, 0, check.stdout)
    XCTAssertTrue(check.stdout.hasPrefix("ok: "), check.stdout)
    XCTAssertEqual(try connection.readResponse().status, 200)
  }

  func testWatchRefreshesUnderTmux() throws {
    let broker = try BrokerProcess(name: uniqueName())
    let client = LoadClient()
    client.start(port: broker.port, threads: 2, connections: 4, rounds: 2000)
    defer { XCTAssertNoThrow(try client.wait()) }
    // A private tmux server (its own socket name), so no one else's sessions are touched.
    let tmux = Tmux(server: "ringstat-test-\(getpid())")
    let command = "\(Products.path("ringstat")) \(broker.pid) --watch 0.3"
    try tmux.run(["new-session", "-d", "-x", "160", "-y", "20", command])
    defer { tmux.stop() }
    // The first screen is drawn once both worker rows are on it; the view refreshed once the
    // screen changed (the load keeps the counters moving).
    var first = ""
    XCTAssertTrue(
      waitUntil(timeout: 20) {
        first = (try? tmux.run(["capture-pane", "-p"])) ?? ""
        return first.contains("\ntotal ") && first.contains("\n1 ")
      }, "ringstat --watch drew no complete screen: \(first)")
    var second = first
    XCTAssertTrue(
      waitUntil(timeout: 20) {
        second = (try? tmux.run(["capture-pane", "-p"])) ?? first
        return second != first && second.contains("\ntotal ") && second.contains("\n1 ")
      }, "the view did not refresh")
    for screen in [first, second] {
      let lines = screen.split(separator: "\n")
      XCTAssertTrue(
        lines.first?.hasPrefix("broker \(broker.name) (pid \(broker.pid))") ?? false, screen)
      XCTAssertTrue(
        lines.contains { $0.hasPrefix("W ") && $0.contains("STATE") && $0.contains("P99") }, screen)
      for id in 0..<2 {
        let row = try XCTUnwrap(lines.first { $0.hasPrefix("\(id) ") }, screen)
        let cells = row.split(separator: " ")
        XCTAssertEqual(cells.count, 17, String(row))
        XCTAssertTrue(["running", "sleeping"].contains(String(cells[4])), String(row))
        // depth/capacity; the capacity is a power of two with room for every slot's messages.
        let capacity = Int(cells[5].split(separator: "/").last ?? "") ?? 0
        XCTAssertTrue(capacity > 0 && capacity & (capacity - 1) == 0, String(row))
      }
      XCTAssertTrue(lines.contains { $0.hasPrefix("total ") }, screen)
      // Redrawn in place: the header appears once, not once per refresh.
      XCTAssertEqual(lines.filter { $0.hasPrefix("broker ") }.count, 1, screen)
    }
    XCTAssertNotEqual(first, second, "the view did not refresh")
  }

  func testWatchAppendsBlocksWhenPiped() throws {
    let broker = try BrokerProcess(name: uniqueName())
    let result = try Ringstat.run([String(broker.pid), "--watch", "0.2", "--count", "3"])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertFalse(result.stdout.contains("\u{1B}"), "no terminal escapes when piped")
    XCTAssertEqual(result.stdout.split(separator: "\n").filter { $0.hasPrefix("broker ") }.count, 3)
    XCTAssertEqual(result.stdout.split(separator: "\n").filter { $0.hasPrefix("total ") }.count, 3)
  }

  func testOtherUsersBrokerIsRefused() throws {
    guard getuid() == 0 else { throw XCTSkip("needs root to run ringstat as another user") }
    let broker = try BrokerProcess(name: uniqueName())
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
      throw XCTSkip("setpriv is not installed")
    }
    // ringstat as nobody, against a broker owned by root.
    let result = try Spawn.run(
      "/usr/bin/setpriv",
      [
        "--reuid=65534", "--regid=65534", "--clear-groups", Products.path("ringstat"),
        String(broker.pid),
      ])
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stdout, "")
    XCTAssertEqual(
      result.stderr,
      "ringstat: process \(broker.pid) belongs to uid 0; ringstat only inspects your own brokers (uid 65534) unless run as root\n"
    )
  }

}
