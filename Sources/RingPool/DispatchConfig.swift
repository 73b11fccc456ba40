/// How a dispatcher spreads requests over its workers and how long they may wait.
public struct DispatchConfig {
  /// Requests one worker may hold at once (taken or waiting in its ring). Deep enough that a
  /// worker never idles waiting for the front under load (at 4, one worker served half of what
  /// it serves at 64 with 50 wrk connections: the pipeline stalled on wake-ups); new requests
  /// always go to the worker holding the fewest, so an idle worker is never passed over, and
  /// a stalled worker's unclaimed ones move (`stallAfterNs`), so depth never costs a wait
  /// behind a slow request.
  public var maxDepthPerWorker = 64
  /// A worker that holds requests and has answered nothing for this long counts as stalled
  /// (busy with a slow handler, or a client that reads slowly): it gets no new requests, and
  /// those in its ring that it has not claimed move to a worker that is not stalled. Short
  /// enough that a request caught behind a slow one waits a few milliseconds, not the slow
  /// one's time; long against a hop (microseconds), so that a worker under load never
  /// counts as stalled between two replies.
  public var stallAfterNs: UInt64 = 5_000_000
  /// A request waits this long in the front for a worker with room, then gets 503.
  public var queueTimeoutNs: UInt64 = 5_000_000_000
  /// A request still unanswered this long after it reached its worker gets 504, and the worker
  /// is killed and replaced (nil: no limit).
  public var requestTimeoutNs: UInt64? = 60_000_000_000
  /// Replies after which a worker is replaced by a fresh one (nil: never); each worker's limit
  /// gets up to 10% random extra, so that workers started together do not recycle together.
  public var maxRequestsPerWorker: UInt64?
  /// A started worker that has not attached this long after its start is killed; while the
  /// broker starts, that stops it (a worker that never attaches would otherwise go unnoticed).
  public var attachTimeoutNs: UInt64 = 10_000_000_000
  public var maxQueuedRequests = 4096
  public var maxQueuedBytes = 64 << 20

  public init() {}

  /// This generation's recycling point.
  func recycleLimit() -> UInt64? {
    maxRequestsPerWorker.map { $0 + UInt64.random(in: 0...($0 / 10)) }
  }
}
