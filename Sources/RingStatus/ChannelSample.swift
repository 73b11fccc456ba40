import CRingABI
import Glibc
import RingChannel

/// The numbers of one worker channel at one instant, copied out of a read-only mapping.
public struct ChannelSample {
  public var workerID: Int
  public var workerPID: Int32
  public var numaNode: Int
  public var cpu: Int
  public var generation: UInt32
  public var state: UInt32
  public var createdNs: UInt64
  public var requestHead: UInt64
  public var requestTail: UInt64
  public var requestCapacity: Int
  public var workerSleeping: Bool
  public var responseHead: UInt64
  public var responseTail: UInt64
  public var responseCapacity: Int
  public var slotCount: Int
  public var front: rb_front_counters
  public var worker: rb_worker_counters
  /// CLOCK_MONOTONIC when the sample was taken.
  public var takenNs: UInt64

  /// Identifies one worker generation across samples (a respawn makes a new memfd).
  public var key: ChannelKey { ChannelKey(workerID: workerID, generation: generation) }

  /// Maps /proc/PID/fd/FD with PROT_READ (ChannelSegment checks magic, ABI version and layout)
  /// and copies what ringstat shows. The mapping goes away before this returns.
  public static func read(brokerPID: Int32, fd: Int32) throws -> ChannelSample {
    let descriptor = ProcFS.openDescriptor(pid: brokerPID, fd: fd)
    guard descriptor >= 0 else {
      throw RingstatError(
        "cannot open /proc/\(brokerPID)/fd/\(fd): \(String(cString: strerror(errno)))")
    }
    let segment: ChannelSegment
    do {
      segment = try ChannelSegment.attach(fd: descriptor, writable: false, attacher: "ringstat")
    } catch {
      close(descriptor)
      throw RingstatError("broker \(brokerPID) fd \(fd): \(error)")
    }
    return sample(segment)
  }

  public static func sample(_ segment: ChannelSegment) -> ChannelSample {
    let header = segment.header
    let requests = segment.requestRing.control
    let responses = segment.responseRing.control
    // Each counter has one writer and is 8-byte aligned: plain loads never tear; values of
    // different counters may be a few requests apart, which a status view can live with.
    let snapshot = header.pointee
    return ChannelSample(
      workerID: Int(snapshot.worker_id), workerPID: Int32(bitPattern: snapshot.worker_pid),
      numaNode: Int(snapshot.numa_node), cpu: Int(snapshot.cpu), generation: snapshot.generation,
      state: rb_load_acquire_u32(&header.pointee.state), createdNs: snapshot.created_ns,
      requestHead: rb_load_acquire_u64(&requests.pointee.head),
      requestTail: rb_load_acquire_u64(&requests.pointee.tail),
      requestCapacity: segment.requestRing.capacity,
      workerSleeping: rb_load_acquire_u32(&requests.pointee.consumer_sleeping) != 0,
      responseHead: rb_load_acquire_u64(&responses.pointee.head),
      responseTail: rb_load_acquire_u64(&responses.pointee.tail),
      responseCapacity: segment.responseRing.capacity, slotCount: segment.slotCount,
      front: snapshot.front, worker: snapshot.worker, takenNs: Clock.monotonicNs())
  }

  /// Ring depth as the consumer sees it; a worker that wrote garbage into its tail could make
  /// tail > head, which reads as 0 rather than a huge number.
  public var requestDepth: Int { Self.depth(head: requestHead, tail: requestTail) }
  public var responseDepth: Int { Self.depth(head: responseHead, tail: responseTail) }

  /// Dispatched and not yet completed (in the ring, with the worker, or in its reply ring);
  /// requests taken back unclaimed and run elsewhere are not pending here.
  public var pending: UInt64 {
    let done = front.replies_completed &+ front.requests_revoked
    return front.requests_dispatched >= done ? front.requests_dispatched - done : 0
  }

  public var latency: LatencyHistogram { LatencyHistogram(front.latency_ns) }

  private static func depth(head: UInt64, tail: UInt64) -> Int {
    head >= tail ? Int(clamping: head - tail) : 0
  }
}

public struct ChannelKey: Hashable {
  public var workerID: Int
  public var generation: UInt32
}
