import Foundation
import Glibc
import TestSupport
import XCTest

/// Spinning for replies and requests (SpinPolicy, ReplySpin) is for when requests flow: an idle
/// broker and its workers sleep, using less than 1% of one CPU.
final class IdleCPUTests: XCTestCase {
  /// User plus system CPU time of `pid` (all its threads), in seconds, from /proc/PID/stat.
  private func cpuSeconds(_ pid: Int32) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let afterName = text.range(of: ")", options: .backwards)
    else { return nil }
    // Fields after the name: state is field 3, utime 14, stime 15.
    let fields = text[afterName.upperBound...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
      return nil
    }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
  }

  private func assertIdleCPU(_ arguments: [String]) throws {
    let broker = try BrokerProcess(arguments)
    defer { _ = broker.stop() }
    XCTAssertTrue(waitForAttachedWorkers(brokerPid: broker.pid, count: 2), broker.stderr)
    // Some traffic first, so that every spin had its chance to start.
    for _ in 0..<200 { XCTAssertEqual(try get(broker.port, "/").status, 200) }
    let processes = [broker.pid] + WorkerProcesses.running(of: broker.pid)
    XCTAssertEqual(processes.count, 3, "the broker and its two workers")
    let before = processes.map { cpuSeconds($0) ?? .nan }
    let start = Date()
    // Idle is what is measured.
    sleep(10)
    let elapsed = Date().timeIntervalSince(start)
    let used = zip(processes, before).map { (cpuSeconds($0) ?? .nan) - $1 }.reduce(0, +)
    XCTAssertLessThan(used / elapsed, 0.01, "share of one CPU used while idle: \(used) s")
  }

  func testIdleBrokerWithTwoCWorkersUsesUnderOnePercentOfACPU() throws {
    try assertIdleCPU(["--workers", "2", "--worker", Products.cWorker])
  }

  func testIdleBrokerWithTwoLuaWorkersUsesUnderOnePercentOfACPU() throws {
    try assertIdleCPU(["--workers", "2", Products.luaExamples + "/hello.lua"])
  }
}
