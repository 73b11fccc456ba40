/// One line of the per-broker table: a channel's sample turned into what an operator reads.
/// Rows for respawning workers (no channel open) carry no sample.
public struct WorkerRow {
  public var workerID: Int
  public var state: WorkerState
  public var sample: ChannelSample?
  /// Replies per second since the previous sample of the same generation; nil without one.
  public var ratePerSecond: Double?
  /// The oldest request with the worker (taken or waiting in its ring) has waited longer than
  /// the threshold for its reply (or, once its reply streams, for its next part).
  public var stuck: Bool
  /// Nanoseconds since the last completed reply (or since the worker started, if later).
  public var idleNs: UInt64?
  /// Nanoseconds the oldest request with the worker has waited; nil while it holds none.
  public var oldestWaitNs: UInt64?

  public init(sample: ChannelSample, previous: ChannelSample?, stuckAfterNs: UInt64) {
    workerID = sample.workerID
    self.sample = sample
    state = WorkerState(sample: sample, processState: ProcFS.processState(sample.workerPID))
    if let previous, sample.takenNs > previous.takenNs {
      let completed = sample.front.replies_completed &- previous.front.replies_completed
      ratePerSecond = Double(completed) / (Double(sample.takenNs - previous.takenNs) / 1e9)
    }
    let progressNs = max(sample.front.last_progress_ns, sample.createdNs)
    let idle = sample.takenNs > progressNs ? sample.takenNs - progressNs : 0
    idleNs = idle
    // Measured from the last reply instead, a worker idle for a while would look stuck right
    // after its next request. The front refreshes oldest_request_ns every 100 ms; `pending`
    // (counters it updates at once) keeps a worker that just answered from looking stuck.
    let oldest = sample.front.oldest_request_ns
    if oldest != 0 && sample.pending > 0 {
      oldestWaitNs = sample.takenNs > oldest ? sample.takenNs - oldest : 0
    }
    stuck = state.isServing && (oldestWaitNs ?? 0) > stuckAfterNs
  }

  public init(respawningWorker id: Int) {
    workerID = id
    state = .respawning
    stuck = false
  }

  /// The current generation started less than `windowNs` ago after at least `restarts`.
  public func isCrashLooping(restarts: UInt64 = 3, windowNs: UInt64 = 10_000_000_000) -> Bool {
    if state == .respawning { return true }
    guard let sample, state.isServing else { return false }
    return sample.front.restarts >= restarts && sample.takenNs &- sample.createdNs < windowNs
  }
}
