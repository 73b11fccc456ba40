import Foundation

/// `--json`: the same data as the tables, with raw numbers (ns, bytes, counts). Keys are
/// documented in README.md; absent values (no sample yet, a respawning worker) are omitted.
public enum JSONView {
  public struct BrokerSummary: Encodable {
    var pid: Int32
    var name: String
    var listen: String
    var controlSocket: String
    var workers: Int
    var workerTarget: Int
    var state: String
    var startedUnixNs: UInt64
    var uptimeNs: UInt64

    init(_ report: BrokerReport) {
      pid = report.info.pid
      name = report.info.name
      listen = report.info.listen
      controlSocket = report.info.controlSocket
      workers = report.liveWorkers
      workerTarget = report.info.workerTarget
      state = report.info.draining ? "draining" : "running"
      startedUnixNs = report.info.startedUnixNs
      uptimeNs = report.uptimeNs
    }
  }

  public struct WorkerCounters: Encodable {
    var pid: UInt32
    var requestsTaken: UInt64
    var repliesPublished: UInt64
    var wakeups: UInt64
    var lateWakeups: UInt32
  }

  public struct Channel: Encodable {
    var workerId: Int
    var state: WorkerState
    var stuck: Bool
    var pid: Int32?
    var numaNode: Int?
    var cpu: Int?
    var generation: UInt32?
    var requestDepth: Int?
    var requestCapacity: Int?
    var responseDepth: Int?
    var responseCapacity: Int?
    var slotsInUse: UInt64?
    var slotsTotal: Int?
    var requestsDispatched: UInt64?
    var requestsRevoked: UInt64?
    var requestsServed: UInt64?
    var pending: UInt64?
    var errors: UInt64?
    var bytesIn: UInt64?
    var bytesOut: UInt64?
    var ratePerSecond: Double?
    var latencyP50Ns: UInt64?
    var latencyP99Ns: UInt64?
    var latencyBuckets: [UInt64]?
    var restarts: UInt64?
    var uptimeNs: UInt64?
    var idleNs: UInt64?
    var oldestWaitNs: UInt64?
    var worker: WorkerCounters?

    init(_ row: WorkerRow) {
      workerId = row.workerID
      state = row.state
      stuck = row.stuck
      idleNs = row.idleNs
      oldestWaitNs = row.oldestWaitNs
      ratePerSecond = row.ratePerSecond
      guard let s = row.sample else { return }
      pid = s.workerPID
      numaNode = s.numaNode
      cpu = s.cpu
      generation = s.generation
      requestDepth = s.requestDepth
      requestCapacity = s.requestCapacity
      responseDepth = s.responseDepth
      responseCapacity = s.responseCapacity
      slotsInUse = s.front.slots_in_use
      slotsTotal = s.slotCount
      requestsDispatched = s.front.requests_dispatched
      requestsRevoked = s.front.requests_revoked
      requestsServed = s.front.replies_completed
      pending = s.pending
      errors = s.front.errors
      bytesIn = s.front.bytes_in
      bytesOut = s.front.bytes_out
      latencyP50Ns = s.latency.percentileUpperBoundNs(0.5)
      latencyP99Ns = s.latency.percentileUpperBoundNs(0.99)
      latencyBuckets = s.latency.buckets
      restarts = s.front.restarts
      uptimeNs = s.takenNs &- s.createdNs
      worker = WorkerCounters(
        pid: s.worker.pid, requestsTaken: s.worker.requests_taken,
        repliesPublished: s.worker.replies_published,
        wakeups: s.worker.wakeups, lateWakeups: s.worker.late_wakeups)
    }
  }

  public struct TotalsJSON: Encodable {
    var requestDepth: Int
    var requestCapacity: Int
    var responseDepth: Int
    var slotsInUse: UInt64
    var slotsTotal: Int
    var requestsDispatched: UInt64
    var requestsRevoked: UInt64
    var requestsServed: UInt64
    var errors: UInt64
    var bytesIn: UInt64
    var bytesOut: UInt64
    var ratePerSecond: Double?
    var latencyP50Ns: UInt64?
    var latencyP99Ns: UInt64?
    var restarts: UInt64

    init(_ t: Totals) {
      requestDepth = t.requestDepth
      requestCapacity = t.requestCapacity
      responseDepth = t.responseDepth
      slotsInUse = t.slotsInUse
      slotsTotal = t.slotsTotal
      requestsDispatched = t.dispatched
      requestsRevoked = t.revoked
      requestsServed = t.served
      errors = t.errors
      bytesIn = t.bytesIn
      bytesOut = t.bytesOut
      ratePerSecond = t.ratePerSecond
      latencyP50Ns = t.latency.percentileUpperBoundNs(0.5)
      latencyP99Ns = t.latency.percentileUpperBoundNs(0.99)
      restarts = t.restarts
    }
  }

  struct BrokerDetail: Encodable {
    var broker: BrokerSummary
    var front: FrontTotals
    var channels: [Channel]
    var totals: TotalsJSON
  }

  public struct BrokerList: Encodable {
    var brokers: [BrokerSummary]
  }

  public static func brokerList(_ reports: [BrokerReport]) -> String {
    encode(BrokerList(brokers: reports.map(BrokerSummary.init)))
  }

  public static func broker(_ report: BrokerReport) -> String {
    encode(
      BrokerDetail(
        broker: BrokerSummary(report), front: report.front,
        channels: report.rows.map(Channel.init),
        totals: TotalsJSON(report.totals)))
  }

  private static func encode(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // Every value is finite by construction (rates need a positive interval); encoding cannot fail.
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
