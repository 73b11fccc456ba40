import CRingABI

/// What a worker pool (RingPool's Dispatcher) may ask of the loop that serves it: the clock,
/// typed operations on the ring (wait on a word, wake a word, watch a process, cancel), and the
/// replies it queues for clients. `FrontLoop` is the real one; the pool's rules are unit-tested
/// against a fake that records these calls and whose clock the test moves. Every call is made
/// on the loop's thread. The meaning of each is documented where FrontLoop implements it.
public protocol PoolLoop: AnyObject {
  /// CLOCK_MONOTONIC at the start of this loop turn.
  var now: UInt64 { get }
  /// This front thread's counters (rb_front_stats, in the broker-info memory).
  var stats: UnsafeMutablePointer<rb_front_stats> { get }
  /// The broker is stopping: no new work.
  var isDraining: Bool { get }

  // MARK: Replies

  func reply(
    _ ticket: ReplyTicket, status: Int, headerBlock: UnsafeRawBufferPointer,
    body: UnsafeRawBufferPointer, releaseToken: UInt64
  ) -> ReplyOutcome
  func startReply(
    _ ticket: ReplyTicket, status: Int, headerBlock: UnsafeRawBufferPointer,
    declaredLength: UInt64?, body: UnsafeRawBufferPointer, isLast: Bool, releaseToken: UInt64
  ) -> ReplyOutcome
  func continueReply(
    _ ticket: ReplyTicket, body: UnsafeRawBufferPointer, isLast: Bool, releaseToken: UInt64
  ) -> ReplyOutcome
  func abortReply(_ ticket: ReplyTicket, releaseToken: UInt64)
  @discardableResult func closeReply(_ ticket: ReplyTicket) -> Bool
  func replyError(_ ticket: ReplyTicket, status: Int, body: String, extraHeaders: String)
  func noteUpstream(_ ticket: ReplyTicket, worker: Int?, requestID: UInt64, upstreamNs: UInt64?)
  func isConnectionAlive(_ ticket: ReplyTicket) -> Bool
  func isReplyOpen(_ ticket: ReplyTicket) -> Bool
  func resumeBody(_ ticket: ReplyTicket, token: UInt64)

  // MARK: Operations (completions come back through FrontHandler.completed)

  func waitOnWord(_ word: UnsafeMutablePointer<UInt32>, expected: UInt32, token: UInt64)
  func wakeWord(_ word: UnsafeMutablePointer<UInt32>, token: UInt64)
  func watchProcessExit(pidfd: Int32, token: UInt64)
  func cancel(operation: UInt64, token: UInt64)
  /// The loop's next wait ends by `deadline` (CLOCK_MONOTONIC) at the latest.
  func wake(by deadline: UInt64)
}

extension PoolLoop {
  public func replyError(_ ticket: ReplyTicket, status: Int, body: String) {
    replyError(ticket, status: status, body: body, extraHeaders: "")
  }
}

extension FrontLoop: PoolLoop {}
