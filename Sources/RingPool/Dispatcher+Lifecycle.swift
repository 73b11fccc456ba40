import BrokerLog
import CRingABI
import Glibc
import RingChannel
import RingControl
import RingFront

extension Dispatcher {
  /// A worker that lived shorter than this counts as crashing at start-up.
  static let fastExitWindowNs: UInt64 = 10_000_000_000
  static let maxBackoffNs: UInt64 = 10_000_000_000

  /// Creates a fresh channel and process for `worker`, and watches its pidfd in the ring.
  func launch(_ worker: WorkerHandle, loop: some PoolLoop) {
    worker.generation &+= 1
    worker.respawnAt = nil
    // No requests until the worker attached: a process that fails to start never holds any.
    worker.role = .starting
    worker.attachTimedOut = false
    do {
      let launched = try launcher.launch(
        worker: worker.id, placement: worker.placement, generation: worker.generation,
        restarts: worker.restarts)
      install(launched.segment, process: launched.process, in: worker, loop: loop)
    } catch {
      Log.error("cannot start worker \(worker.id): \(error)")
      workerFailedToStart(worker, reason: "could not be started: \(error)", loop: loop)
      if let old = worker.replaces {
        // A successor: the old worker serves on; the reload or recycling decides what next.
        worker.role = .gone
        worker.replaces = nil
        successorFailed(for: workers[old], now: loop.now)
        return
      }
      scheduleRespawn(worker, now: loop.now, fast: true)
    }
  }

  /// Serves a worker that attached through the control socket, in a spare position.
  func adopt(_ attached: ControlServer.AttachedWorker, loop: some PoolLoop) {
    let worker = spareHandle(
      id: attached.id, placement: WorkerPlacement(worker: attached.id, node: 0, cpus: [], cpu: -1))
    worker.id = attached.id
    worker.role = .active
    worker.replaces = nil
    worker.requestLimit = nil
    worker.shutdownSent = false
    worker.attachedConnection = attached.connection
    worker.generation &+= 1
    let header = attached.segment.header
    header.pointee.worker_id = UInt32(attached.id)
    header.pointee.generation = UInt32(truncatingIfNeeded: worker.generation)
    header.pointee.worker_pid = UInt32(attached.pid)
    header.pointee.created_ns = rb_monotonic_ns()
    rb_store_release_u32(&header.pointee.state, UInt32(RB_STATE_RUNNING))
    install(
      attached.segment,
      process: ChildProcess(pid: attached.pid, pidfd: rb_pidfd_open(attached.pid)), in: worker,
      loop: loop)
    Log.info("worker \(attached.id) (pid \(attached.pid)) attached through the control socket")
  }

  private func install(
    _ segment: ChannelSegment, process: ChildProcess, in worker: WorkerHandle, loop: some PoolLoop
  ) {
    worker.channel = FrontChannel(segment: segment)
    worker.process = process
    worker.slots = Array(repeating: nil, count: segment.slotCount)
    worker.streamedBodies = 0
    worker.outstandingSends = 0
    worker.futexArmed = false
    worker.futexWaitToken = nil
    worker.sleepFlagSet = false
    worker.brokenChannelHandled = false
    worker.startedAt = loop.now
    let token = operations.insert(.workerExit, worker: worker.index, generation: worker.generation)
    loop.watchProcessExit(pidfd: process.pidfd, token: token)
  }

  /// A FUTEX_WAIT armed on a channel that is going would wait forever (nobody wakes that word
  /// again) and keep its table entry: cancel it, so that it completes.
  private func cancelReplyWait(of worker: WorkerHandle, loop: some PoolLoop) {
    guard let waitToken = worker.futexWaitToken else { return }
    worker.futexWaitToken = nil
    worker.futexArmed = false
    let token = operations.insert(.cancel, worker: worker.index, generation: worker.generation)
    loop.cancel(operation: waitToken, token: token)
  }

  /// The worker's process ended: reap it, fail the requests it had taken (502), hand the ones
  /// it never took to other workers, keep its channel until replies sent from it have left,
  /// and start a successor, with backoff when it keeps dying young.
  func workerExited(_ worker: WorkerHandle, loop: some PoolLoop) {
    guard let process = worker.process, let channel = worker.channel else { return }
    var status: Int32 = 0
    _ = waitpid(process.pid, &status, WNOHANG)
    close(process.pidfd)
    worker.process = nil
    worker.channel = nil
    cancelReplyWait(of: worker, loop: loop)
    rb_store_release_u32(&channel.header.pointee.state, UInt32(RB_STATE_DEAD))
    var failed = 0
    var moved = 0
    for orphan in channel.orphanedRequests() {
      guard let entry = worker.slots[orphan.slot] else {
        channel.releaseSlot(orphan.slot)
        continue
      }
      worker.slots[orphan.slot] = nil
      if orphan.replyStarted {
        // Its head went out: the client can only see the body is incomplete.
        failed += 1
        loop.closeReply(entry.ticket)
        Log.warning(
          "request \(Self.requestLine(in: channel, slot: orphan.slot, length: entry.length)) on "
            + "worker \(worker.id) (pid \(process.pid)): the worker exited mid-reply; closed the "
            + "client's connection")
        channel.releaseSlot(orphan.slot)
        continue
      }
      let movable = !orphan.takenByWorker && !entry.streamsBody
      if movable && redispatch(entry, from: channel, slot: orphan.slot, now: loop.now) {
        moved += 1
      } else {
        failed += 1
        noteUpstream(of: entry, answeredBy: nil, loop: loop)
        loop.replyError(
          entry.ticket, status: 502, body: "the worker handling this request exited\n")
      }
      channel.releaseSlot(orphan.slot)
    }
    if worker.outstandingSends > 0 {
      worker.retired.append(
        WorkerHandle.RetiredChannel(
          channel: channel, generation: worker.generation, outstandingSends: worker.outstandingSends
        ))
    }
    worker.outstandingSends = 0
    let lived = loop.now &- worker.startedAt
    if let connection = worker.attachedConnection {
      close(connection)
      worker.attachedConnection = nil
      worker.role = .gone
      Log.info(
        "attached worker \(worker.id) (pid \(process.pid)) left; \(failed) request(s) failed, \(moved) moved"
      )
      return
    }
    switch worker.role {
    case .retiring, .gone:
      worker.role = .gone
      Log.info("worker \(worker.id) (pid \(process.pid)) retired: \(Self.describe(status))")
      return
    case .starting where worker.replaces != nil:
      // A successor that never got ready: the worker it was to replace keeps serving.
      worker.role = .gone
      // One killed for not attaching in time was reported when it was killed.
      if !worker.attachTimedOut {
        workerFailedToStart(
          worker, reason: "(pid \(process.pid)) \(Self.describe(status)) before it was ready",
          loop: loop)
      }
      Log.error(
        "successor for worker \(worker.id) (pid \(process.pid)) \(Self.describe(status)) before it was ready"
      )
      successorFailed(for: workers[worker.replaces!], now: loop.now)
      worker.replaces = nil
      return
    case .starting:
      if !worker.attachTimedOut {
        workerFailedToStart(
          worker, reason: "(pid \(process.pid)) \(Self.describe(status)) before it attached",
          loop: loop)
      }
    case .active:
      break
    }
    Log.warning(
      "worker \(worker.id) (pid \(process.pid)) \(Self.describe(status)) after \(lived / 1_000_000) ms; "
        + "\(failed) request(s) failed, \(moved) moved to other workers")
    if loop.isDraining { return }
    worker.restarts += 1
    scheduleRespawn(worker, now: loop.now, fast: lived < Self.fastExitWindowNs)
  }

  func scheduleRespawn(_ worker: WorkerHandle, now: UInt64, fast: Bool) {
    worker.consecutiveFastExits = fast ? worker.consecutiveFastExits + 1 : 0
    let delay = Self.respawnDelayNs(consecutiveFastExits: worker.consecutiveFastExits)
    if delay > 0 {
      Log.error("worker \(worker.id) keeps exiting; next start in \(delay / 1_000_000) ms")
    }
    worker.respawnAt = now + delay
  }

  func superviseWorkers(loop: some PoolLoop, now: UInt64) {
    guard !loop.isDraining else { return }
    for worker in workers {
      if let due = worker.respawnAt, due <= now { launch(worker, loop: loop) }
    }
  }

  /// After the loop stopped: asks each worker to finish and exit, waits up to `timeoutNs`,
  /// then kills what is left.
  public func stopWorkers(timeoutNs: UInt64) {
    for worker in workers {
      guard let channel = worker.channel else { continue }
      rb_store_release_u32(&channel.header.pointee.state, UInt32(RB_STATE_DRAINING))
      channel.sendControl(flags: UInt32(RB_REQ_SHUTDOWN))
      channel.publishAndWake()
    }
    let deadline = rb_monotonic_ns() + timeoutNs
    for worker in workers {
      guard let process = worker.process else { continue }
      var status: Int32 = 0
      while waitpid(process.pid, &status, WNOHANG) == 0 {
        if rb_monotonic_ns() >= deadline {
          process.signal(SIGKILL)
          _ = waitpid(process.pid, &status, 0)
          break
        }
        usleep(5_000)
      }
      close(process.pidfd)
      worker.process = nil
    }
  }

  static func describe(_ status: Int32) -> String {
    let signal = status & 0x7F
    if signal == 0 {
      let code = (status >> 8) & 0xFF
      // The shell's codes for a command it could not run (workers start through /bin/sh).
      let hint = code == 127 ? " (command not found)" : code == 126 ? " (not executable)" : ""
      return "exited with status \(code)\(hint)"
    }
    return "was killed by signal \(signal)"
  }
}

extension Dispatcher {
  /// A position free for a new worker: a spare one, or a new one at the end.
  func spareHandle(id: Int, placement: WorkerPlacement) -> WorkerHandle {
    let isSpare: (WorkerHandle) -> Bool = {
      $0.role == .gone && $0.process == nil && $0.retired.isEmpty && $0.outstandingSends == 0
    }
    if let spare = workers.first(where: isSpare) {
      spare.id = id
      spare.placement = placement
      return spare
    }
    let handle = WorkerHandle(
      index: workers.count, id: id, placement: placement, generation: firstGeneration)
    workers.append(handle)
    return handle
  }
}
