/// Request ids unique among all requests of one broker process (rb_request_head.request_id),
/// without any shared state: each front thread's dispatcher counts its own requests, and the
/// thread's index (at most 255: --threads is 1...256) sits in the top 8 bits. A shared atomic
/// counter would make every front thread write the same cache line for every request; this
/// way the id costs one increment of a thread-private word. 56 bits of count last 2^56
/// requests per thread: 228 years at ten million a second.
struct RequestIDSequence {
  static let threadShift: UInt64 = 56
  static let countMask: UInt64 = (1 << threadShift) - 1

  private let prefix: UInt64
  private var count: UInt64 = 1  // never 0: 0 means "no id" to readers

  init(frontThread: Int) {
    precondition(
      (0..<256).contains(frontThread), "front thread index \(frontThread) is not 0...255")
    prefix = UInt64(frontThread) << Self.threadShift
  }

  /// The id the next `take` returns.
  var peek: UInt64 { prefix | (count & Self.countMask) }

  mutating func take() -> UInt64 {
    defer { count &+= 1 }
    return peek
  }
}
