import CRingABI
import CURing
import Glibc

extension FrontLoop {
  /// Acts on a stop request: the first one starts draining, "immediately" (or the drain
  /// deadline) closes everything.
  func observeStopRequest() {
    let request = rb_load_acquire_u32(stopRequest)
    guard request != 0 else { return }
    if !isDraining {
      isDraining = true
      drainDeadline = now + config.drainTimeoutNs
      closeListener()
      // Idle keep-alive connections go now; the rest close after their current reply.
      for connection in connections where connection.isIdle { abort(connection) }
    }
    if request >= 2 { drainDeadline = now }
  }

  /// Drained when no connection is left and the handler owes nothing, or the deadline passed.
  func drainIsComplete() -> Bool {
    if now >= drainDeadline { return true }
    return liveConnections == 0 && !handler.hasWork
  }

  /// Aborts what is left and waits (briefly) for the kernel to hand every operation back, so
  /// each reply's memory is released exactly once and only after the kernel is done with it.
  func closeEverything() {
    for connection in connections { abort(connection) }
    let sqe = ring.nextSQE()
    io_uring_prep_cancel64(sqe, UserData.encode(.wakeup, 0), 0)
    sqe.pointee.user_data = UserData.encode(.ignored, 0)
    let giveUpAt = rb_monotonic_ns() + Self.closeGracePeriod
    while liveConnections > 0 && rb_monotonic_ns() < giveUpAt {
      ring.submitAndWait(timeoutNs: config.tickNs)
      refreshClock()
      _ = ring.drainCompletions { userData, result, flags in
        // Only the loop's own operations matter now; the handler still hears about its own.
        if UserData.kind(userData) == .wakeup { return }
        self.complete(userData: userData, result: result, flags: flags)
      }
      runDeferredWork()
    }
    runDeferredWork()
  }

  static let closeGracePeriod: UInt64 = 2_000_000_000
}
