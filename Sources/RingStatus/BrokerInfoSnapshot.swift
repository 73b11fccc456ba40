import CRingABI
import Glibc
import RingChannel

/// A copy of a broker's "ringbroker-info" memfd, read through a PROT_READ mapping: who the
/// broker is, and each front thread's counters (rb_front_stats).
public struct BrokerInfoSnapshot {
  public var pid: Int32
  public var name: String
  public var listen: String
  public var controlSocket: String
  public var channelCount: Int
  public var workerTarget: Int
  public var startedUnixNs: UInt64
  public var startedNs: UInt64
  /// A stop began: the broker finishes what it has and takes nothing new.
  public var draining: Bool
  /// One per front thread, as copied at the read.
  public var frontStats: [rb_front_stats]

  /// Maps /proc/PID/fd/FD read-only and checks that it is an info block this code understands.
  public static func read(pid: Int32, fd: Int32) throws -> BrokerInfoSnapshot {
    let descriptor = ProcFS.openDescriptor(pid: pid, fd: fd)
    guard descriptor >= 0 else {
      throw RingstatError("cannot open /proc/\(pid)/fd/\(fd): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0, Int(status.st_size) >= MemoryLayout<UInt64>.size
    else {
      throw RingstatError("broker \(pid): ringbroker-info memfd is too small")
    }
    let size = Int(status.st_size)
    guard let mapped = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED
    else { throw RingstatError("broker \(pid): mmap of ringbroker-info failed") }
    defer { munmap(mapped, size) }
    guard mapped.load(as: UInt64.self) == RB_INFO_MAGIC,
      size >= MemoryLayout<rb_broker_info>.size
    else {
      throw RingstatError(
        "broker \(pid): its ringbroker-info is of another version than this ringstat reads "
          + "(use the ringstat built with that broker)")
    }
    let info = mapped.load(as: rb_broker_info.self)
    let threads = Int(info.front_threads)
    let statsOffset = Int(info.front_stats_offset)
    let statsSize = MemoryLayout<rb_front_stats>.stride
    guard statsOffset % Int(RB_LINE) == 0, statsOffset >= MemoryLayout<rb_broker_info>.size,
      threads <= (size - min(statsOffset, size)) / statsSize
    else { throw RingstatError("broker \(pid): ringbroker-info has an invalid front stats area") }
    let frontStats = (0..<threads).map {
      (mapped + statsOffset + $0 * statsSize).load(as: rb_front_stats.self)
    }
    return BrokerInfoSnapshot(
      pid: pid, name: BrokerInfo.string(info.name), listen: BrokerInfo.string(info.listen),
      controlSocket: BrokerInfo.string(info.control_socket), channelCount: Int(info.channel_count),
      workerTarget: Int(info.worker_target), startedUnixNs: info.started_unix_ns,
      startedNs: info.started_ns, draining: info.state == UInt32(RB_BROKER_DRAINING),
      frontStats: frontStats)
  }
}
