import CRingABI

/// The front's log2 latency histogram: bucket i counts replies that took [2^i, 2^(i+1)) ns from
/// dispatch to reply. A percentile is reported as the upper bound of the bucket it falls in, so
/// "p99 65.5µs" means 99% of replies took less than 65.5 µs (and the true value may be half).
public struct LatencyHistogram {
  public static let bucketCount = Int(RB_LATENCY_BUCKETS)
  public var buckets: [UInt64]

  public init(buckets: [UInt64]) { self.buckets = buckets }

  /// From the fixed-size C array (a tuple in Swift).
  public init<T>(_ cArray: T) {
    buckets = CArray.uint64s(cArray)
  }

  public static func + (lhs: LatencyHistogram, rhs: LatencyHistogram) -> LatencyHistogram {
    LatencyHistogram(buckets: zip(lhs.buckets, rhs.buckets).map { $0 &+ $1 })
  }

  /// Counts since `earlier` (bucket counters only grow within one channel generation).
  public func since(_ earlier: LatencyHistogram) -> LatencyHistogram {
    LatencyHistogram(buckets: zip(buckets, earlier.buckets).map { $0 >= $1 ? $0 - $1 : 0 })
  }

  public var total: UInt64 { buckets.reduce(0, &+) }

  /// Upper bound in ns of the bucket holding the `fraction` quantile; nil with no samples.
  /// The last bucket also holds everything slower, so its bound is a lower bound really.
  public func percentileUpperBoundNs(_ fraction: Double) -> UInt64? {
    let count = total
    guard count > 0 else { return nil }
    let rank = max(1, UInt64((Double(count) * fraction).rounded(.up)))
    var seen: UInt64 = 0
    for (index, value) in buckets.enumerated() {
      seen &+= value
      if seen >= rank { return UInt64(1) << UInt64(index + 1) }
    }
    return UInt64(1) << UInt64(buckets.count)
  }
}
