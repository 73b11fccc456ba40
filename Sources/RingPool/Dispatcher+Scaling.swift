import BrokerLog
import CRingABI
import Glibc
import RingChannel
import RingFront

/// One worker more or less while the broker runs (SIGTTIN / SIGTTOU, as in gunicorn): asked
/// for from the signal thread, carried out by the dispatcher's own thread at its next poll.
enum ScalingRequest {
  case add(id: Int, placement: WorkerPlacement)
  case retire(id: Int)
}

extension Dispatcher {
  /// Thread-safe: starts a new worker with this id.
  public func requestWorker(id: Int, placement: WorkerPlacement) {
    enqueue(.add(id: id, placement: placement))
  }

  /// Thread-safe: the worker with this id stops taking requests, finishes those it has, and
  /// exits without a successor.
  public func requestRetirement(id: Int) { enqueue(.retire(id: id)) }

  private func enqueue(_ request: ScalingRequest) {
    pthread_mutex_lock(&scalingLock)
    scalingInbox.append(request)
    rb_store_release_u32(scalingPending, 1)
    pthread_mutex_unlock(&scalingLock)
  }

  func applyScaling(loop: some PoolLoop) {
    // One load per poll while nothing is asked for: no lock on the loop's path.
    guard rb_load_acquire_u32(scalingPending) != 0 else { return }
    pthread_mutex_lock(&scalingLock)
    rb_store_relaxed_u32(scalingPending, 0)
    let requests = scalingInbox
    scalingInbox.removeAll()
    pthread_mutex_unlock(&scalingLock)
    for request in requests {
      switch request {
      case .add(let id, let placement):
        guard !loop.isDraining else { continue }
        let worker = spareHandle(id: id, placement: placement)
        worker.role = .starting
        worker.replaces = nil
        worker.shutdownSent = false
        worker.restarts = 0
        worker.consecutiveFastExits = 0
        worker.requestLimit = config.recycleLimit()
        Log.info("starting worker \(id): one worker more")
        launch(worker, loop: loop)
      case .retire(let id):
        // The worker itself, not a successor being started for it (reload, recycling).
        guard
          let worker = workers.first(where: {
            $0.id == id && $0.replaces == nil && ($0.role == .active || $0.role == .starting)
              && $0.attachedConnection == nil
          })
        else { continue }
        // A successor being started for it (reload, recycling) goes too.
        for successor in workers
        where successor.role == .starting && successor.replaces == worker.index {
          successor.replaces = nil
          successor.role = .retiring
        }
        startingWorkers.remove(worker.index)
        guard worker.process != nil else {
          // Waiting out a respawn backoff: nothing runs, so nothing is started again.
          worker.respawnAt = nil
          worker.role = .gone
          Log.info("worker \(id) (waiting to be respawned) removed: one worker less")
          continue
        }
        worker.role = .retiring
        Log.info("retiring worker \(id) (pid \(worker.process?.pid ?? 0)): one worker less")
      }
    }
  }
}
