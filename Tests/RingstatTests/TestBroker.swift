import Foundation
import TestSupport

extension BrokerProcess {
  /// A real `ringbroker` named `name` with `workers` test workers (`ringchannel-child http`:
  /// answers "ok <path>", `/sleep/MS` sleeps first), ready once ringstat sees a channel for
  /// each: the broker says "listening" before its loop has started every worker.
  convenience init(name: String, workers: Int = 2) throws {
    try self.init([
      "--name", name, "--workers", String(workers), "--worker", Products.testWorker,
    ])
    let complete = waitUntil {
      let broker = (try? Ringstat.run(["--json", String(self.pid)]).json())?["broker"]
      return (broker as? [String: Any])?["workers"] as? Int == workers
    }
    guard complete else {
      throw TestError("broker \(name) did not open \(workers) worker channels")
    }
  }
}
