import Foundation
import TestSupport
import XCTest

/// Worker generations past 65,535: the exit of every worker is still seen (respawn, reap),
/// whatever its generation. The broker starts its generations just below the old 16-bit
/// boundary (RINGBROKER_TESTING_FIRST_GENERATION, read once by each dispatcher).
final class GenerationWrapTests: XCTestCase {

  /// A broker whose first worker generation is 65,534.
  private func startBroker(_ arguments: [String]) throws -> BrokerProcess {
    setenv("RINGBROKER_TESTING_FIRST_GENERATION", "65533", 1)
    defer { unsetenv("RINGBROKER_TESTING_FIRST_GENERATION") }
    return try BrokerProcess(arguments)
  }

  func testKilledWorkersAreRespawnedAcrossGeneration65536() throws {
    let broker = try startBroker([
      "--workers", "1", "--worker", Products.testWorker, "--timeout", "3",
    ])
    defer { _ = broker.stop() }
    var previous: Int32 = 0
    // Generations 65534 through 65538.
    for round in 0..<5 {
      var pid: Int32 = 0
      XCTAssertTrue(
        waitUntil(timeout: 15) {
          let running = WorkerProcesses.running(of: broker.pid)
          guard running.count == 1, let only = running.first, only != previous else { return false }
          pid = only
          return true
        }, "round \(round): no new worker after pid \(previous) was killed\n\(broker.stderr)")
      guard pid != 0 else { return }
      let answer = try get(broker.port, "/pid")
      XCTAssertEqual(answer.status, 200, "round \(round)")
      XCTAssertEqual(answer.bodyText, "\(pid)", "round \(round)")
      kill(pid, SIGKILL)
      previous = pid
    }
    XCTAssertTrue(
      waitUntil(timeout: 15) {
        let children = WorkerProcesses.children(of: broker.pid)
        return children.count == 1 && !children.contains(previous)
      }, "the last killed worker was not reaped and replaced")
    XCTAssertEqual(
      broker.stderr.components(separatedBy: "was killed by signal 9").count - 1, 5, broker.stderr)
  }

  func testRecyclingAcrossGeneration65536LeavesNoZombie() throws {
    let broker = try startBroker([
      "--workers", "1", "--worker", Products.testWorker, "--max-requests", "1",
    ])
    defer { _ = broker.stop() }
    // Each reply recycles the worker; two positions take turns, so eight rounds take each
    // position past generation 65,536.
    for round in 1...8 {
      XCTAssertEqual(try get(broker.port, "/round/\(round)").bodyText, "ok /round/\(round)")
      XCTAssertTrue(
        waitUntil(timeout: 15) {
          broker.stderr.components(separatedBy: "retired: exited with status 0").count - 1 >= round
        }, "round \(round): the replaced worker's exit was not seen\n\(broker.stderr)")
    }
    XCTAssertTrue(
      waitUntil(timeout: 15) {
        let children = WorkerProcesses.children(of: broker.pid)
        return children.count == 1 && !children.contains(where: WorkerProcesses.isZombie)
      }, "children: \(WorkerProcesses.children(of: broker.pid))")
    XCTAssertEqual(try get(broker.port, "/after").status, 200)
  }
}
