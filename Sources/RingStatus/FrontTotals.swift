import CRingABI

/// The front threads' counters (rb_front_stats) summed over threads: what the front did for
/// clients, as opposed to the per-worker channel counters. Encoded as is under "front" in
/// `ringstat --json` and /status.
public struct FrontTotals: Encodable {
  public var connectionsAccepted: UInt64 = 0
  public var connectionsRejected: UInt64 = 0
  public var connectionsOpen: UInt64 = 0
  public var requests: UInt64 = 0
  public var requestsInFlight: UInt64 = 0
  public var requestsQueued: UInt64 = 0
  /// By status class: "1xx" … "5xx".
  public var replies: [String: UInt64] = [:]
  public var replies502: UInt64 = 0
  public var replies503: UInt64 = 0
  public var replies504: UInt64 = 0
  public var bytesReceived: UInt64 = 0
  public var bytesSent: UInt64 = 0
  public var framingErrors: UInt64 = 0
  public var headerTimeouts: UInt64 = 0
  public var idleTimeouts: UInt64 = 0
  public var sendTimeouts: UInt64 = 0
  public var workersCrashLooping: UInt64 = 0
  public var reloadFailures: UInt64 = 0
  public var reloadFailing = false
  public var queueWait = Histogram()
  public var replyLatency = Histogram()

  /// A log2 histogram with its count and sum (rb_histogram); encoded with its p50 and p99
  /// (upper bucket bounds).
  public struct Histogram: Encodable {
    public var count: UInt64 = 0
    public var sumNs: UInt64 = 0
    public var buckets = LatencyHistogram(
      buckets: Array(repeating: 0, count: LatencyHistogram.bucketCount))

    enum CodingKeys: String, CodingKey {
      case count, sumNs, p50Ns, p99Ns, buckets
    }

    public func encode(to encoder: Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(count, forKey: .count)
      try container.encode(sumNs, forKey: .sumNs)
      try container.encodeIfPresent(buckets.percentileUpperBoundNs(0.5), forKey: .p50Ns)
      try container.encodeIfPresent(buckets.percentileUpperBoundNs(0.99), forKey: .p99Ns)
      try container.encode(buckets.buckets, forKey: .buckets)
    }

    mutating func add(_ h: rb_histogram) {
      count &+= h.count
      sumNs &+= h.sum_ns
      buckets = buckets + LatencyHistogram(h.buckets)
    }
  }

  public init(_ threads: [rb_front_stats]) {
    for index in 0..<Int(RB_STATUS_CLASSES) { replies["\(index + 1)xx"] = 0 }
    for s in threads {
      connectionsAccepted &+= s.connections_accepted
      connectionsRejected &+= s.connections_rejected
      connectionsOpen &+= s.connections_open
      requests &+= s.requests
      requestsInFlight &+= s.requests_in_flight
      requestsQueued &+= s.requests_queued
      for (index, count) in CArray.uint64s(s.replies).enumerated() {
        replies["\(index + 1)xx", default: 0] &+= count
      }
      replies502 &+= s.replies_502
      replies503 &+= s.replies_503
      replies504 &+= s.replies_504
      bytesReceived &+= s.bytes_received
      bytesSent &+= s.bytes_sent
      framingErrors &+= s.framing_errors
      headerTimeouts &+= s.header_timeouts
      idleTimeouts &+= s.idle_timeouts
      sendTimeouts &+= s.send_timeouts
      workersCrashLooping &+= s.workers_crash_looping
      reloadFailures &+= s.reload_failures
      reloadFailing = reloadFailing || s.reload_failing != 0
      queueWait.add(s.queue_wait)
      replyLatency.add(s.reply_latency)
    }
  }
}
