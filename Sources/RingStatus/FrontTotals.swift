import CRingABI

/// The front threads' counters (rb_front_stats) summed over threads: what the front did for
/// clients, as opposed to the per-worker channel counters.
public struct FrontTotals {
  public var connectionsAccepted: UInt64 = 0
  public var connectionsRejected: UInt64 = 0
  public var connectionsOpen: UInt64 = 0
  public var requests: UInt64 = 0
  public var requestsInFlight: UInt64 = 0
  public var requestsQueued: UInt64 = 0
  /// Index 0 is 1xx … index 4 is 5xx.
  public var repliesByClass = [UInt64](repeating: 0, count: Int(RB_STATUS_CLASSES))
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

  /// A log2 histogram with its count and sum (rb_histogram).
  public struct Histogram {
    public var count: UInt64 = 0
    public var sumNs: UInt64 = 0
    public var buckets = LatencyHistogram(
      buckets: Array(repeating: 0, count: LatencyHistogram.bucketCount))

    mutating func add(_ h: rb_histogram) {
      count &+= h.count
      sumNs &+= h.sum_ns
      buckets = buckets + LatencyHistogram(h.buckets)
    }
  }

  public init(_ threads: [rb_front_stats]) {
    for s in threads {
      connectionsAccepted &+= s.connections_accepted
      connectionsRejected &+= s.connections_rejected
      connectionsOpen &+= s.connections_open
      requests &+= s.requests
      requestsInFlight &+= s.requests_in_flight
      requestsQueued &+= s.requests_queued
      let classes = CArray.uint64s(s.replies)
      for index in repliesByClass.indices { repliesByClass[index] &+= classes[index] }
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
