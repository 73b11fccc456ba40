/// `--check`: one line for a monitoring script, and whether things are fine. Problems, in the
/// order reported: a stuck ring (its oldest request has waited longer than the threshold), a
/// broken channel (the worker wrote something invalid and the broker has not replaced it yet:
/// it should, within moments, so a broken channel that stays is a fault), then a
/// crash-looping worker (restarted >= 3 times and the current one younger than 10 s, or no
/// channel at all while the broker respawns it, once the broker is past its first 2 s).
enum HealthCheck {
  static let startupGraceNs: UInt64 = 2_000_000_000

  struct Verdict {
    var healthy: Bool
    var line: String
  }

  static func evaluate(_ reports: [BrokerReport], stuckAfterNs: UInt64) -> Verdict {
    guard !reports.isEmpty else {
      return Verdict(healthy: false, line: "no ringbroker running for this user")
    }
    for report in reports {
      if let problem = stuckRing(report, stuckAfterNs: stuckAfterNs) ?? brokenChannel(report)
        ?? crashLoop(report)
      {
        return Verdict(healthy: false, line: problem)
      }
    }
    let names = reports.map { "\($0.info.name) (pid \($0.info.pid)): \($0.liveWorkers) workers" }
    return Verdict(
      healthy: true,
      line: "ok: " + names.joined(separator: "; ")
        + ", no stuck ring, no broken channel, no crash loop")
  }

  private static func brokenChannel(_ report: BrokerReport) -> String? {
    guard let row = report.rows.first(where: { $0.state == .broken }), let s = row.sample else {
      return nil
    }
    return
      "broken: ring ringbroker-w\(row.workerID) of broker \(report.info.name) (pid \(report.info.pid)), "
      + "worker pid \(s.workerPID): the worker wrote something invalid and is not replaced yet"
  }

  private static func stuckRing(_ report: BrokerReport, stuckAfterNs: UInt64) -> String? {
    guard let row = report.rows.first(where: \.stuck), let s = row.sample else { return nil }
    return
      "stuck: ring ringbroker-w\(row.workerID) of broker \(report.info.name) (pid \(report.info.pid)), "
      + "worker pid \(s.workerPID) \(row.state.rawValue): \(s.pending) request(s) pending, "
      + "oldest waiting \(Format.duration(row.oldestWaitNs ?? 0)) (threshold \(Format.duration(stuckAfterNs)))"
  }

  private static func crashLoop(_ report: BrokerReport) -> String? {
    // Right after start the broker opens its channels from its loop, after announcing itself:
    // a missing channel then is start-up, not a crash loop.
    let startingUp = report.uptimeNs < startupGraceNs
    guard
      let row = report.rows.first(where: {
        $0.isCrashLooping() && !($0.sample == nil && startingUp)
      })
    else { return nil }
    let broker = "broker \(report.info.name) (pid \(report.info.pid))"
    guard let s = row.sample else {
      return "crash loop: worker \(row.workerID) of \(broker) has no channel (respawning)"
    }
    return
      "crash loop: worker \(row.workerID) of \(broker) restarted \(s.front.restarts) times, "
      + "current pid \(s.workerPID) up \(Format.duration(s.takenNs &- s.createdNs))"
  }
}
