import RingStatus
import ToolSupport

/// The plain-text views: the broker list, and one broker's worker table with a totals row.
enum TableView {
  static func brokerList(_ reports: [BrokerReport]) -> String {
    guard !reports.isEmpty else { return "no ringbroker running for this user\n" }
    var table = TextTable(header: ["PID", "NAME", "LISTEN", "WORKERS", "UPTIME"])
    table.leftAligned = [1, 2]
    for report in reports {
      table.rows.append([
        "\(report.info.pid)", report.info.name, report.info.listen, workersCell(report),
        Format.duration(report.uptimeNs),
      ])
    }
    return table.render()
  }

  static func broker(_ report: BrokerReport) -> String {
    let info = report.info
    var text =
      "broker \(info.name) (pid \(info.pid)) on \(info.listen), workers \(workersCell(report)), up \(Format.duration(report.uptimeNs))\n"
    var table = TextTable(header: [
      "W", "PID", "NODE", "CPU", "STATE", "REQ-Q", "RESP-Q", "SLOTS", "SERVED", "ERR", "IN", "OUT",
      "REQ/S", "P50", "P99", "RESTARTS", "UPTIME",
    ])
    table.leftAligned = [0, 4]
    for row in report.rows { table.rows.append(cells(row)) }
    let totals = report.totals
    table.rows.append([
      "total", "", "", "", "", "\(totals.requestDepth)/\(totals.requestCapacity)",
      "\(totals.responseDepth)",
      "\(totals.slotsInUse)/\(totals.slotsTotal)", "\(totals.served)", "\(totals.errors)",
      Format.bytes(totals.bytesIn), Format.bytes(totals.bytesOut),
      Format.rate(totals.ratePerSecond),
      Format.latency(totals.latency.percentileUpperBoundNs(0.5)),
      Format.latency(totals.latency.percentileUpperBoundNs(0.99)), "\(totals.restarts)",
      Format.duration(report.uptimeNs),
    ])
    text += table.render()
    return text
  }

  /// The state cell says "stuck" over running/sleeping/stopped: that is what needs attention.
  private static func cells(_ row: WorkerRow) -> [String] {
    guard let s = row.sample else {
      return ["\(row.workerID)", "-", "-", "-", row.state.rawValue]
        + Array(repeating: "-", count: 12)
    }
    let latency = s.latency
    return [
      "\(row.workerID)", "\(s.workerPID)", s.numaNode < 0 ? "-" : "\(s.numaNode)",
      s.cpu < 0 ? "-" : "\(s.cpu)",
      row.stuck ? "stuck" : row.state.rawValue, "\(s.requestDepth)/\(s.requestCapacity)",
      "\(s.responseDepth)",
      "\(s.front.slots_in_use)/\(s.slotCount)", "\(s.front.replies_completed)", "\(s.front.errors)",
      Format.bytes(s.front.bytes_in), Format.bytes(s.front.bytes_out),
      Format.rate(row.ratePerSecond),
      Format.latency(latency.percentileUpperBoundNs(0.5)),
      Format.latency(latency.percentileUpperBoundNs(0.99)),
      "\(s.front.restarts)", Format.duration(s.takenNs &- s.createdNs),
    ]
  }

  /// "2/2": workers with a live channel over the --workers target (just the count without one).
  private static func workersCell(_ report: BrokerReport) -> String {
    report.info.workerTarget > 0
      ? "\(report.liveWorkers)/\(report.info.workerTarget)" : "\(report.liveWorkers)"
  }
}
