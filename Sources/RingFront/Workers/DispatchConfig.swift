/// How a dispatcher spreads requests over its workers and how long they may wait.
public struct DispatchConfig {
  /// Requests one worker may hold at once (taken or waiting in its ring). Small, so that a slow
  /// request holds back little; above 1, so that the worker never idles waiting for the front.
  public var maxDepthPerWorker = 4
  /// A request waits this long in the front for a worker with room, then gets 503.
  public var queueTimeoutNs: UInt64 = 5_000_000_000
  public var maxQueuedRequests = 4096
  public var maxQueuedBytes = 64 << 20

  public init() {}
}
