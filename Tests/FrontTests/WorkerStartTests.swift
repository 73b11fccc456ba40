import Foundation
import TestSupport
import XCTest

/// Failing fast and reporting honestly: a first worker that cannot come up stops the broker
/// with one line and exit 1; after start, a failed reload is an error in the log, in
/// `ringstat --check`, /healthz and /metrics, while the old workers keep serving.
final class WorkerStartTests: XCTestCase {
  private func assertStartFails(_ worker: String, _ expected: String, extra: [String] = []) throws {
    let started = Date()
    let result = try BrokerProcess.runToExit(
      ["--listen", "127.0.0.1:0", "--workers", "2", "--worker", worker] + extra, timeout: 30)
    XCTAssertEqual(result.status, 1, result.stderr)
    let fatal = result.stderr.split(separator: "\n").filter { $0.contains("cannot start: ") }
    XCTAssertEqual(fatal.count, 1, result.stderr)
    XCTAssertTrue(fatal.first?.contains(expected) ?? false, result.stderr)
    XCTAssertTrue(
      fatal.first?.contains(" error ") ?? false, "logged at error level: \(result.stderr)")
    XCTAssertFalse(result.stderr.contains("listening on"), "never announced: \(result.stderr)")
    XCTAssertLessThan(Date().timeIntervalSince(started), 20, result.stderr)
  }

  func testACommandThatDoesNotExistStopsTheBroker() throws {
    try assertStartFails(
      "/nonexistent/worker", "exited with status 127 (command not found) before it attached")
  }

  func testAWorkerThatExitsAtOnceStopsTheBroker() throws {
    try assertStartFails("/bin/false", "exited with status 1 before it attached")
  }

  func testAWorkerThatNeverAttachesStopsTheBroker() throws {
    try assertStartFails(
      "sleep 60", "did not attach within 1.0 s", extra: ["--attach-timeout", "1"])
  }

  func testAFailedReloadIsReportedAndTheOldWorkersKeepServing() throws {
    let marker = NSTemporaryDirectory() + "rbtest-reload-\(UUID().uuidString)"
    defer { unlink(marker) }
    let broker = try BrokerProcess([
      "--admin", "127.0.0.1:0", "--workers", "1",
      "--worker", Products.crashingAfterFirstStart(marker: marker),
    ])
    defer { _ = broker.stop() }
    let before = WorkerProcesses.running(of: broker.pid)
    kill(broker.pid, SIGHUP)
    XCTAssertNotNil(
      broker.waitForLogLine(containing: "before it was ready"), broker.stderr)
    XCTAssertTrue(
      broker.stderr.split(separator: "\n").contains {
        $0.contains(" error ") && $0.contains("before it was ready")
      }, broker.stderr)
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    XCTAssertTrue(
      before.isSubset(of: WorkerProcesses.running(of: broker.pid)), "the old worker serves on")
    let check = Ringstat.waitForFailingCheck(brokerPid: broker.pid, prefix: "reload failed: ")
    XCTAssertEqual(check?.status, 1, "\(String(describing: check))")
    XCTAssertTrue(
      check?.stdout.hasPrefix("reload failed: ") ?? false, "\(String(describing: check))")
    let health = try get(broker.adminPort!, "/healthz")
    XCTAssertEqual(health.status, 200, "a worker still serves")
    XCTAssertTrue(health.bodyText.hasPrefix("reload failed: "), health.bodyText)
    // Not retried forever: abandoned after three successors failed.
    XCTAssertNotNil(
      broker.waitForLogLine(containing: "reload abandoned: 3 successors of worker 0 failed"),
      broker.stderr)
    let attempts = broker.stderr.components(separatedBy: "before it was ready\n").count - 1
    usleep(2_500_000)
    XCTAssertEqual(
      broker.stderr.components(separatedBy: "before it was ready\n").count - 1, attempts,
      "no attempt after the reload was abandoned: \(broker.stderr)")
    let metrics = try get(broker.adminPort!, "/metrics").bodyText
    XCTAssertTrue(metrics.contains("\nringbroker_reload_failing 1\n"), metrics)
    XCTAssertFalse(metrics.contains("\nringbroker_reload_failures_total 0\n"), metrics)
  }
}
