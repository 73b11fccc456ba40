import Foundation
import Glibc
import TestSupport
import XCTest

/// Revocation races (ringabi.h, "Slot claims"): under load, with a stall timeout so short that
/// requests are taken back and moved all the time, and workers killed at random, every request
/// is answered exactly once: by its own reply (the worker echoes its path) or, when the worker
/// that had claimed it was killed, by a 502. Never twice, never another request's reply.
final class RevocationRaceTests: XCTestCase {
  /// Requests in all; RB_RACE_REQUESTS=2000000 for a long run by hand.
  static let requestCount =
    ProcessInfo.processInfo.environment["RB_RACE_REQUESTS"].flatMap { Int($0) } ?? 120_000
  static let connections = 8
  static let pipelineDepth = 8

  func testEveryRequestIsAnsweredExactlyOnceWhileRequestsMoveAndWorkersDie() throws {
    let broker = try BrokerProcess([
      "--workers", "3", "--worker", Products.testWorker, "--stall-timeout", "0.0002",
    ])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitForAttachedWorkers(brokerPid: broker.pid, count: 3), broker.stderr)

    let lock = NSLock()
    var answered = 0
    var failed = 0
    var wrong: [String] = []
    let perConnection = Self.requestCount / Self.connections
    let clients = (0..<Self.connections).map { connection in
      Thread {
        do {
          let client = try RawHTTPClient(port: broker.port, timeout: 30)
          var next = 0
          while next < perConnection {
            let batch = min(Self.pipelineDepth, perConnection - next)
            let paths = (next..<next + batch).map { "/r/\(connection)/\($0)" }
            try client.send(paths.map { Requests.get($0) }.joined())
            var ok = 0
            var bad = 0
            var mismatches: [String] = []
            for path in paths {
              let reply = try client.readResponse()
              switch reply.status {
              case 200 where reply.bodyText == "ok \(path)": ok += 1
              case 502: bad += 1
              default: mismatches.append("\(path): \(reply.status) \(reply.bodyText.prefix(40))")
              }
            }
            next += batch
            lock.lock()
            answered += ok
            failed += bad
            wrong += mismatches
            lock.unlock()
          }
        } catch {
          lock.lock()
          wrong.append("connection \(connection): \(error)")
          lock.unlock()
        }
      }
    }
    clients.forEach { $0.start() }

    // Kill a random worker now and then, and watch requests being taken back meanwhile.
    var kills = 0
    var revokedSeen = 0
    while !clients.allSatisfy(\.isFinished) {
      usleep(400_000)
      let channels = (try? ringstatChannels(brokerPid: broker.pid)) ?? []
      revokedSeen = max(
        revokedSeen, channels.compactMap { $0["requestsRevoked"] as? Int }.reduce(0, +))
      if kills < 6, let victim = WorkerProcesses.running(of: broker.pid).randomElement() {
        kill(victim, SIGKILL)
        kills += 1
      }
    }
    lock.lock()
    defer { lock.unlock() }
    print(
      "revocation race: \(answered) answered by their own reply, \(failed) with 502, "
        + "\(revokedSeen) taken back (most seen at once), \(kills) workers killed")
    XCTAssertEqual(wrong, [], "replies that were not their request's")
    XCTAssertEqual(answered + failed, perConnection * Self.connections, "each answered once")
    XCTAssertLessThan(failed, answered / 100, "only requests a killed worker had claimed fail")
    XCTAssertGreaterThan(kills, 0)
    XCTAssertGreaterThan(revokedSeen, 0, "requests were taken back and moved")
    // The broker serves on.
    XCTAssertEqual(try get(broker.port, "/after").bodyText, "ok /after")
  }
}
