import BrokerLog
import CRingABI
import Glibc
import RingFront

/// Reporting honestly: whether the first workers came up (StartupReport, which stops the broker
/// when they did not), workers that never attach, and the gauges /metrics, /healthz and
/// ringstat read for crash loops and failed reloads.
extension Dispatcher {
  /// Called when a worker attached (its channel shows its pid).
  func workerBecameReady(_ worker: WorkerHandle, loop: some PoolLoop) {
    if worker.replaces != nil { loop.stats.pointee.reload_failing = 0 }
    startingWorkers.remove(worker.index)
    if startingWorkers.isEmpty { startup.settle(.ready) }
  }

  /// A worker that had not attached yet exited: while the broker starts, that stops it.
  func workerFailedToStart(_ worker: WorkerHandle, reason: String, loop: some PoolLoop) {
    if worker.replaces != nil {
      loop.stats.pointee.reload_failures &+= 1
      loop.stats.pointee.reload_failing = 1
    }
    if startingWorkers.contains(worker.index) {
      startup.settle(.failed("worker \(worker.id) \(reason)"))
    }
  }

  /// How long a request waited in the front before a worker got it (0: at once) or it got 503.
  /// Requests moved between workers count once, when first handed over.
  @inline(__always)
  func observeQueueWait(_ ns: UInt64, loop: some PoolLoop) {
    rb_histogram_observe(&loop.stats.pointee.queue_wait, ns)
  }

  /// When a queue entry was queued (its deadline is that plus the queue timeout).
  func queuedAt(_ entry: RequestQueue.Entry) -> UInt64 { entry.deadline &- config.queueTimeoutNs }

  /// Every 100 ms: a worker still not attached after `attachTimeoutNs` is killed (its exit then
  /// counts as a failed start), and the crash-loop gauge is refreshed.
  func superviseHealth(loop: some PoolLoop, now: UInt64) {
    var crashLooping: UInt64 = 0
    for worker in workers {
      if worker.role == .starting, let process = worker.process, !worker.attachTimedOut,
        now &- worker.startedAt > config.attachTimeoutNs
      {
        worker.attachTimedOut = true
        let reason =
          "(pid \(process.pid)) did not attach within \(Double(config.attachTimeoutNs) / 1e9) s"
        Log.error("worker \(worker.id) \(reason); killing it")
        workerFailedToStart(worker, reason: reason, loop: loop)
        process.signal(SIGKILL)
      }
      let young = worker.process != nil && now &- worker.startedAt < Self.fastExitWindowNs
      if worker.consecutiveFastExits >= 2 && (worker.respawnAt != nil || young) {
        crashLooping += 1
      }
    }
    loop.stats.pointee.workers_crash_looping = crashLooping
  }
}
