import Foundation
import TestSupport
import XCTest

/// The signals operators of nginx and gunicorn reach for: TTIN/TTOU one worker more/less,
/// USR1 reopening the log file the way logrotate needs it.
final class SignalTests: XCTestCase {
  private func workerTarget(_ broker: BrokerProcess) -> Int? {
    let result = try? Ringstat.run(["--json", String(broker.pid)])
    return ((try? result?.json())?["broker"] as? [String: Any])?["workerTarget"] as? Int
  }

  func testTTINAddsAWorkerAndTTOURetiresOne() throws {
    let broker = try BrokerProcess(["--workers", "1", "--worker", Products.cWorker])
    defer { _ = broker.stop() }
    XCTAssertEqual(WorkerProcesses.running(of: broker.pid).count, 1)
    kill(broker.pid, SIGTTIN)
    XCTAssertTrue(
      waitForAttachedWorkers(brokerPid: broker.pid, count: 2, timeout: 10), broker.stderr)
    XCTAssertEqual(WorkerProcesses.running(of: broker.pid).count, 2)
    XCTAssertEqual(workerTarget(broker), 2)
    XCTAssertNotNil(broker.waitForLogLine(containing: "SIGTTIN: 2 worker(s) now"), broker.stderr)
    for _ in 0..<20 { XCTAssertEqual(try get(broker.port, "/").status, 200) }
    XCTAssertEqual(try requestsDispatched(brokerPid: broker.pid).count, 2, "both serve")

    // A request in flight on the retiring worker is answered before it exits.
    let slow = try RawHTTPClient(port: broker.port)
    try slow.send(Requests.get("/sleep?ms=500"))
    usleep(100_000)
    kill(broker.pid, SIGTTOU)
    XCTAssertTrue(
      waitUntil(timeout: 10) { WorkerProcesses.running(of: broker.pid).count == 1 }, broker.stderr)
    XCTAssertEqual(try slow.readResponse().status, 200)
    XCTAssertEqual(workerTarget(broker), 1)
    XCTAssertNotNil(
      broker.waitForLogLine(containing: "retired: exited with status 0"), broker.stderr)
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    // The one left is not respawned away nor retired.
    usleep(300_000)
    XCTAssertEqual(WorkerProcesses.running(of: broker.pid).count, 1)
    XCTAssertFalse(broker.stderr.contains(" error "), broker.stderr)
  }

  /// Attached workers only (--workers 0): there is nothing to start, so TTIN is refused.
  func testTTINWithAttachedWorkersOnlyIsRefused() throws {
    let broker = try BrokerProcess(["--workers", "0"])
    defer { _ = broker.stop() }
    kill(broker.pid, SIGTTIN)
    XCTAssertNotNil(
      broker.waitForLogLine(
        containing: "SIGTTIN ignored: this broker serves attached workers only"),
      broker.stderr)
    XCTAssertEqual(workerTarget(broker), 0)
    XCTAssertTrue(WorkerProcesses.running(of: broker.pid).isEmpty)
  }

  /// logrotate without copytruncate: rename the file, send USR1, and the broker writes on at
  /// the path in a new file while the renamed one keeps what was written before.
  func testUSR1ReopensTheLogFileAfterARename() throws {
    let directory = NSTemporaryDirectory() + "rbtest-logs-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/broker.log"
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--log-file", path,
    ])
    defer { _ = broker.stop() }
    let first = try String(contentsOfFile: path, encoding: .utf8)
    XCTAssertTrue(first.contains("listening on"), first)
    XCTAssertEqual(
      broker.stderr.split(separator: "\n").count, 1, "only the start-up line stays on stderr")
    try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
    kill(broker.pid, SIGUSR1)
    XCTAssertTrue(waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: path) })
    kill(broker.pid, SIGTTIN)  // something to log after the reopen
    XCTAssertTrue(
      waitUntil(timeout: 10) {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains(
          "SIGTTIN: 2 worker(s)")
      })
    let fresh = try String(contentsOfFile: path, encoding: .utf8)
    XCTAssertTrue(fresh.contains("SIGUSR1: reopened \(path)"), fresh)
    XCTAssertFalse(fresh.contains("listening on"), fresh)
    let rotated = try String(contentsOfFile: path + ".1", encoding: .utf8)
    XCTAssertTrue(rotated.contains("listening on"), rotated)
    XCTAssertFalse(rotated.contains("SIGTTIN"), rotated)
    // Every line: RFC 3339 time, level, program[pid].
    for line in (rotated + fresh).split(separator: "\n") where line.contains("ringbroker[") {
      XCTAssertNotNil(
        line.range(
          of:
            #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) ringbroker\[\d+\]: "#,
          options: .regularExpression), String(line))
    }
  }

  func testLogFormatJSONAndLevel() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--log-format", "json",
    ])
    kill(broker.pid, SIGUSR2)
    XCTAssertNotNil(broker.waitForLogLine(containing: "SIGUSR2 ignored"))
    _ = broker.stop()
    let lines = broker.stderr.split(separator: "\n").filter { $0.hasPrefix("{") }
    XCTAssertGreaterThanOrEqual(lines.count, 3, broker.stderr)
    for line in lines {
      let object = try XCTUnwrap(
        JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
      XCTAssertEqual(object["pid"] as? Int, Int(broker.pid))
      XCTAssertNotNil(object["time"] as? String)
      XCTAssertTrue(["debug", "info", "warn", "error"].contains(object["level"] as? String ?? ""))
      XCTAssertNotNil(object["msg"] as? String)
    }
  }

  /// --log-level error keeps info lines out; the start-up line is written whatever the level.
  func testLogLevelFiltersAllButTheStartUpLine() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--log-level", "error",
    ])
    kill(broker.pid, SIGUSR2)
    usleep(300_000)
    XCTAssertEqual(broker.stop(), 0)
    XCTAssertTrue(broker.stderr.contains("listening on"), broker.stderr)
    XCTAssertFalse(broker.stderr.contains("SIGUSR2"), broker.stderr)
    XCTAssertFalse(broker.stderr.contains("stopping"), broker.stderr)
    let bad = try BrokerProcess.runToExit(["--inline", "--log-level", "loud"])
    XCTAssertEqual(bad.status, 64)
    XCTAssertTrue(bad.stderr.contains("--log-level"), bad.stderr)
  }
}
