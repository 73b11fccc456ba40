import CURing
import Glibc

/// The typed operations the loop runs for its handler besides replies: waiting on and waking a
/// word shared with another process, watching a process exit, and cancelling one of these.
/// The handler (the worker pool) names each by a token of its own (56 bits), and each
/// completes exactly once, through `FrontHandler.completed(token:result:flags:loop:)` with
/// that token, from the loop itself. So the handler never builds an SQE and needs no io_uring
/// types: the engine keeps the mechanism, the handler the policy.
///
/// None of them allocates: each fills one SQE through a non-escaping closure.
extension FrontLoop {
  /// Waits until another process wakes `word` (IORING_OP_FUTEX_WAIT, Linux 6.7; the word is in
  /// shared memory, so not FUTEX2_PRIVATE). Completes with result 0 once the word is woken,
  /// at once with -EAGAIN when the word no longer holds `expected` (the other side moved on
  /// meanwhile), or with -ECANCELED after `cancel(operation:token:)`. A wake ends the loop's
  /// wait: the way a worker rouses a sleeping front.
  public func waitOnWord(_ word: UnsafeMutablePointer<UInt32>, expected: UInt32, token: UInt64) {
    submit(token: token) { sqe in
      FutexOperations.prepareWait(sqe, word: word, expected: expected)
    }
  }

  /// Wakes one waiter on `word` (IORING_OP_FUTEX_WAKE), e.g. a worker sleeping on its request
  /// ring. Completes at once, with the number of waiters woken (0 or 1) or a negative errno.
  public func wakeWord(_ word: UnsafeMutablePointer<UInt32>, token: UInt64) {
    submit(token: token) { sqe in
      FutexOperations.prepareWake(sqe, word: word)
    }
  }

  /// Watches the process behind `pidfd` (a one-shot POLL_ADD for POLLIN: a pidfd becomes
  /// readable when its process exits). Completes once that process has exited, with the poll
  /// mask as result, or with a negative errno (e.g. -ECANCELED). The descriptor must stay
  /// open until then; the caller still reaps the process.
  public func watchProcessExit(pidfd: Int32, token: UInt64) {
    submit(token: token) { sqe in
      io_uring_prep_poll_add(sqe, pidfd, UInt32(POLLIN))
    }
  }

  /// Cancels the operation submitted with the handler token `operation` (IORING_OP_ASYNC_CANCEL
  /// by its user_data): that one then completes with -ECANCELED, unless it completed already.
  /// The cancellation itself completes as well, with `token`: 0 when it found the operation,
  /// -ENOENT when there was nothing left to cancel, -EALREADY when it was already running.
  public func cancel(operation: UInt64, token: UInt64) {
    let target = Self.userData(forHandlerToken: operation)
    submit(token: token) { sqe in
      io_uring_prep_cancel64(sqe, target, 0)
    }
  }
}
