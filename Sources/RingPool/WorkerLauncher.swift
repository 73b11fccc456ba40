import CRingABI
import Glibc
import RingChannel

/// Creates a worker's channel and starts its process on it, pinned to its node's CPUs.
public struct WorkerLauncher {
  public var command: WorkerCommand
  public var parameters: ChannelParameters
  /// RINGWORKER_SPIN_NS for the workers: how long they spin before sleeping.
  public var spin: SpinPolicy
  /// Bind channel memory to the worker's node (only when the machine has NUMA).
  public var bindMemory: Bool

  /// The descriptor number the worker finds its channel memfd at (RINGWORKER_FD).
  static let channelDescriptor: Int32 = 3

  public init(
    command: WorkerCommand, parameters: ChannelParameters, spin: SpinPolicy, bindMemory: Bool
  ) {
    self.command = command
    self.parameters = parameters
    self.spin = spin
    self.bindMemory = bindMemory
  }

  public struct Launched {
    public var segment: ChannelSegment
    public var process: ChildProcess
  }

  public func launch(
    worker id: Int, placement: WorkerPlacement, generation: UInt64, restarts: UInt64
  )
    throws(ChannelError) -> Launched
  {
    let segment = try ChannelSegment.create(
      name: "ringbroker-w\(id)", parameters: parameters, node: bindMemory ? placement.node : nil)
    let header = segment.header
    header.pointee.worker_id = UInt32(id)
    header.pointee.numa_node = Int32(placement.node)
    header.pointee.cpu = Int32(placement.cpu)
    // The header's 32-bit field is for display: the front never compares it.
    header.pointee.generation = UInt32(truncatingIfNeeded: generation)
    header.pointee.front.restarts = restarts
    var environment = ["RINGWORKER_FD": String(Self.channelDescriptor)]
    if let budget = spin.budgetNanoseconds { environment["RINGWORKER_SPIN_NS"] = String(budget) }
    let process = try ChildProcess.spawn(
      executable: "/bin/sh", arguments: ["-c", command.commandLine], environment: environment,
      inherit: [(segment.fd, Self.channelDescriptor)])
    var cpus = placement.cpus.map { Int32($0) }
    _ = rb_pin_process(process.pid, &cpus, Int32(cpus.count))
    header.pointee.worker_pid = UInt32(process.pid)
    header.pointee.created_ns = rb_monotonic_ns()
    rb_store_release_u32(&header.pointee.state, UInt32(RB_STATE_RUNNING))
    return Launched(segment: segment, process: process)
  }
}
