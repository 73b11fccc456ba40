/// `--check`: one line for a monitoring script, and whether things are fine. Problems, in the
/// order reported: a stuck ring (its oldest request has waited longer than the threshold), a
/// broken channel (the worker wrote something invalid and the broker has not replaced it yet:
/// it should, within moments, so a broken channel that stays is a fault), then a
/// crash-looping worker (restarted >= 3 times and the current one younger than 10 s, or no
/// channel at all while the broker respawns it, once the broker is past its first 2 s).
public enum HealthCheck {
  public static let startupGraceNs: UInt64 = 2_000_000_000

  public struct Verdict {
    public var healthy: Bool
    public var line: String
  }

  public static func evaluate(_ reports: [BrokerReport], stuckAfterNs: UInt64) -> Verdict {
    guard !reports.isEmpty else {
      return Verdict(healthy: false, line: "no ringbroker running for this user")
    }
    for report in reports {
      if let problem = stuckRing(report, stuckAfterNs: stuckAfterNs) ?? brokenChannel(report)
        ?? crashLoop(report) ?? failedReload(report)
      {
        return Verdict(healthy: false, line: problem)
      }
    }
    let names = reports.map { "\($0.info.name) (pid \($0.info.pid)): \($0.liveWorkers) workers" }
    return Verdict(
      healthy: true,
      line: "ok: " + names.joined(separator: "; ")
        + ", no stuck ring, no broken channel, no crash loop, no failed reload")
  }

  /// For load balancers (/healthz): serving while the broker is not stopping and at least one
  /// worker serves. Crash loops and failed reloads do not take a broker out of rotation while
  /// some worker still answers; the line says what is wrong either way.
  public static func serving(_ report: BrokerReport, stuckAfterNs: UInt64) -> Verdict {
    let broker = "broker \(report.info.name) (pid \(report.info.pid))"
    if report.info.draining {
      return Verdict(healthy: false, line: "draining: \(broker) is stopping")
    }
    let serving = report.rows.filter { $0.state.isServing }.count
    guard serving > 0 else {
      return Verdict(healthy: false, line: "no worker serves: \(broker) has none running")
    }
    let verdict = evaluate([report], stuckAfterNs: stuckAfterNs)
    return Verdict(
      healthy: true,
      line: verdict.healthy ? "ok: \(broker): \(serving) workers serving" : verdict.line)
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

  private static func failedReload(_ report: BrokerReport) -> String? {
    guard report.front.reloadFailing else { return nil }
    return
      "reload failed: a new worker of broker \(report.info.name) (pid \(report.info.pid)) exited "
      + "before it was ready; the old workers keep serving (see the broker's log)"
  }

  private static func crashLoop(_ report: BrokerReport) -> String? {
    // Right after start the broker opens its channels from its loop, after announcing itself:
    // a missing channel then is start-up, not a crash loop.
    let startingUp = report.uptimeNs < startupGraceNs
    let broker = "broker \(report.info.name) (pid \(report.info.pid))"
    guard
      let row = report.rows.first(where: {
        $0.isCrashLooping() && !($0.sample == nil && startingUp)
      })
    else {
      let looping = report.front.workersCrashLooping
      return looping == 0
        ? nil : "crash loop: \(looping) worker(s) of \(broker) keep exiting young (respawn backoff)"
    }
    guard let s = row.sample else {
      return "crash loop: worker \(row.workerID) of \(broker) has no channel (respawning)"
    }
    return
      "crash loop: worker \(row.workerID) of \(broker) restarted \(s.front.restarts) times, "
      + "current pid \(s.workerPID) up \(Format.duration(s.takenNs &- s.createdNs))"
  }
}
