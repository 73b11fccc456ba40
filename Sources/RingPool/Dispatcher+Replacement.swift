import BrokerLog
import CRingABI
import Glibc
import RingChannel
import RingFront

/// Replacing workers without failing a request: a successor starts in a spare position, takes
/// requests once its worker has attached, and only then does the old worker stop taking new
/// ones, finish its own, and exit. Used for max-requests recycling and rolling reloads.
extension Dispatcher {
  func superviseReplacements(loop: some PoolLoop, now: UInt64) {
    // One killed for not attaching in time is not promoted, even if it attached meanwhile.
    for worker in workers where worker.role == .starting && !worker.attachTimedOut {
      // The worker library writes its pid into the channel when it attaches: ready to serve.
      guard let channel = worker.channel,
        rb_load_relaxed_u32(&channel.header.pointee.worker.pid) != 0
      else {
        continue
      }
      worker.role = .active
      workerBecameReady(worker, loop: loop)
      guard let oldIndex = worker.replaces else { continue }
      let old = workers[oldIndex]
      old.failedSuccessors = 0
      worker.replaces = nil
      old.role = .retiring
      Log.info(
        "worker \(worker.id) (pid \(old.process?.pid ?? 0)) replaced by pid \(worker.process?.pid ?? 0)"
      )
      if reloadQueue.first == oldIndex { reloadQueue.removeFirst() }
    }
    guard !loop.isDraining else { return }
    for worker in workers
    where worker.role == .retiring && !worker.shutdownSent && worker.inFlight == 0 {
      guard let channel = worker.channel else { continue }
      worker.shutdownSent = true
      channel.sendControl(flags: UInt32(RB_REQ_SHUTDOWN))
      channel.publishAndWake()
    }
    for worker in workers where worker.role == .active && now >= worker.nextReplacementAttempt {
      guard let limit = worker.requestLimit, let channel = worker.channel,
        channel.repliesCompleted >= limit, !hasSuccessor(worker)
      else { continue }
      Log.info(
        "worker \(worker.id) (pid \(worker.process?.pid ?? 0)) served \(limit) requests: recycling it"
      )
      startSuccessor(replacing: worker, loop: loop)
    }
    while let index = reloadQueue.first {
      let old = workers[index]
      guard old.role == .active else {
        reloadQueue.removeFirst()
        continue
      }
      if !hasSuccessor(old) && now >= old.nextReplacementAttempt {
        startSuccessor(replacing: old, loop: loop)
      }
      break
    }
  }

  /// Successors that fail to get ready are not retried forever: a reload is abandoned once one
  /// worker's successor failed `maxReloadAttempts` times (every worker serves on as it was,
  /// until the next SIGHUP); recycling (--max-requests) tries again after a delay doubling
  /// from 1 s to 60 s.
  static let maxReloadAttempts = 3

  func successorFailed(for old: WorkerHandle, now: UInt64) {
    old.failedSuccessors += 1
    let delay = min(
      UInt64(1_000_000_000) << UInt64(min(old.failedSuccessors - 1, 6)), 60_000_000_000)
    old.nextReplacementAttempt = now + delay
    if reloadQueue.first == old.index, old.failedSuccessors >= Self.maxReloadAttempts {
      reloadQueue.removeAll()
      Log.error(
        "reload abandoned: \(old.failedSuccessors) successors of worker \(old.id) failed; the "
          + "workers serve on as they were (fix the cause, then SIGHUP again)")
    }
  }

  private func hasSuccessor(_ worker: WorkerHandle) -> Bool {
    workers.contains { $0.role == .starting && $0.replaces == worker.index }
  }

  private func startSuccessor(replacing old: WorkerHandle, loop: some PoolLoop) {
    let spare = spareHandle(id: old.id, placement: old.placement)
    spare.role = .starting
    spare.replaces = old.index
    spare.shutdownSent = false
    spare.restarts = old.restarts
    spare.consecutiveFastExits = 0
    spare.requestLimit = config.recycleLimit()
    launch(spare, loop: loop)
  }
}
