/// Everything `ringstat PID|NAME` shows about one broker at one instant.
public struct BrokerReport {
  public var info: BrokerInfoSnapshot
  public var rows: [WorkerRow]
  public var takenNs: UInt64

  /// Samples every channel of `broker`. `previous` (an earlier report) provides the rates.
  public static func take(
    _ broker: DiscoveredBroker, previous: [ChannelKey: ChannelSample], stuckAfterNs: UInt64
  ) -> BrokerReport {
    // A channel can close between listing and opening it (worker replaced): skip it.
    let samples = broker.channelDescriptors.compactMap {
      try? ChannelSample.read(brokerPID: broker.pid, fd: $0)
    }
    var rows = samples.map {
      WorkerRow(sample: $0, previous: previous[$0.key], stuckAfterNs: stuckAfterNs)
    }
    // A worker the broker should have but holds no channel for is between two lives.
    let present = Set(rows.map(\.workerID))
    for id in 0..<broker.info.workerTarget where !present.contains(id) {
      rows.append(WorkerRow(respawningWorker: id))
    }
    rows.sort {
      ($0.workerID, $0.sample?.generation ?? 0) < ($1.workerID, $1.sample?.generation ?? 0)
    }
    return BrokerReport(info: broker.info, rows: rows, takenNs: Clock.monotonicNs())
  }

  /// Samples keyed for the next report's rates.
  public var samplesByKey: [ChannelKey: ChannelSample] {
    var result: [ChannelKey: ChannelSample] = [:]
    for row in rows { if let sample = row.sample { result[sample.key] = sample } }
    return result
  }

  public var uptimeNs: UInt64 { takenNs &- info.startedNs }

  /// Workers with a channel in a serving state (what "workers" means in the broker list).
  public var liveWorkers: Int { rows.filter { $0.state.isServing || $0.state == .draining }.count }

  public var totals: Totals { Totals(rows) }

  /// The front threads' counters, summed.
  public var front: FrontTotals { FrontTotals(info.frontStats) }
}

/// Sums over every row; latency percentiles come from the merged histograms.
public struct Totals {
  public var requestDepth = 0
  public var requestCapacity = 0
  public var responseDepth = 0
  public var slotsInUse: UInt64 = 0
  public var slotsTotal = 0
  public var dispatched: UInt64 = 0
  public var revoked: UInt64 = 0
  public var served: UInt64 = 0
  public var errors: UInt64 = 0
  public var bytesIn: UInt64 = 0
  public var bytesOut: UInt64 = 0
  public var ratePerSecond: Double?
  public var restarts: UInt64 = 0
  public var latency = LatencyHistogram(
    buckets: Array(repeating: 0, count: LatencyHistogram.bucketCount))

  public init(_ rows: [WorkerRow]) {
    for row in rows {
      guard let sample = row.sample else { continue }
      requestDepth += sample.requestDepth
      requestCapacity += sample.requestCapacity
      responseDepth += sample.responseDepth
      slotsInUse &+= sample.front.slots_in_use
      slotsTotal += sample.slotCount
      dispatched &+= sample.front.requests_dispatched
      revoked &+= sample.front.requests_revoked
      served &+= sample.front.replies_completed
      errors &+= sample.front.errors
      bytesIn &+= sample.front.bytes_in
      bytesOut &+= sample.front.bytes_out
      latency = latency + sample.latency
      if let rate = row.ratePerSecond { ratePerSecond = (ratePerSecond ?? 0) + rate }
    }
    // restarts counts per worker id; a retired channel and its successor may both be open.
    var restartsByWorker: [Int: UInt64] = [:]
    for row in rows {
      if let s = row.sample {
        restartsByWorker[row.workerID] = max(restartsByWorker[row.workerID] ?? 0, s.front.restarts)
      }
    }
    restarts = restartsByWorker.values.reduce(0, &+)
  }
}
