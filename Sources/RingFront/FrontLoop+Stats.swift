import CRingABI

extension FrontLoop {
  /// Every reply head the loop queues passes here once, the front's own answers included:
  /// replies by status class, the 502/503/504 counts and, for a request its handler had, the
  /// reply latency (head complete until its reply head was queued).
  @inline(__always)
  func countReply(_ connection: Connection, status: Int) {
    let classIndex = min(max(status / 100, 1), Int(RB_STATUS_CLASSES)) - 1
    withUnsafeMutableBytes(of: &stats.pointee.replies) {
      $0.baseAddress!.assumingMemoryBound(to: UInt64.self)[classIndex] &+= 1
    }
    switch status {
    case 502: stats.pointee.replies_502 &+= 1
    case 503: stats.pointee.replies_503 &+= 1
    case 504: stats.pointee.replies_504 &+= 1
    default: break
    }
    if connection.handedAt != 0 {
      rb_histogram_observe(&stats.pointee.reply_latency, rb_monotonic_ns() &- connection.handedAt)
      connection.handedAt = 0
    }
  }

  /// Sets whether the connection's request is with the handler, keeping the in-flight gauge.
  @inline(__always)
  func setHandling(_ connection: Connection, _ handling: Bool) {
    guard connection.handling != handling else { return }
    connection.handling = handling
    if handling {
      stats.pointee.requests_in_flight &+= 1
    } else {
      stats.pointee.requests_in_flight &-= 1
    }
  }

  /// Open connections, kept in the shared counters (a gauge ringstat and /metrics read).
  var liveConnections: Int {
    get { Int(stats.pointee.connections_open) }
    set { stats.pointee.connections_open = UInt64(newValue) }
  }
}
