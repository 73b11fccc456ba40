import CRingABI
import Glibc
import RingChannel

/// A copy of a broker's "ringbroker-info" memfd, read through a PROT_READ mapping.
struct BrokerInfoSnapshot {
  var pid: Int32
  var name: String
  var listen: String
  var controlSocket: String
  var channelCount: Int
  var workerTarget: Int
  var startedUnixNs: UInt64
  var startedNs: UInt64

  /// Maps /proc/PID/fd/FD read-only and checks that it is an info block this code understands.
  static func read(pid: Int32, fd: Int32) throws -> BrokerInfoSnapshot {
    let descriptor = ProcFS.openDescriptor(pid: pid, fd: fd)
    guard descriptor >= 0 else {
      throw RingstatError("cannot open /proc/\(pid)/fd/\(fd): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    let size = MemoryLayout<rb_broker_info>.size
    var status = stat()
    guard fstat(descriptor, &status) == 0, Int(status.st_size) >= size else {
      throw RingstatError("broker \(pid): ringbroker-info memfd is too small")
    }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED
    else { throw RingstatError("broker \(pid): mmap of ringbroker-info failed") }
    defer { munmap(mapped, size) }
    let info = mapped.load(as: rb_broker_info.self)
    guard info.magic == RB_INFO_MAGIC, info.abi_version == RB_ABI_VERSION else {
      throw RingstatError(
        "broker \(pid): ringbroker-info has ABI version \(info.abi_version), ringstat speaks \(RB_ABI_VERSION)"
      )
    }
    return BrokerInfoSnapshot(
      pid: pid, name: BrokerInfo.string(info.name), listen: BrokerInfo.string(info.listen),
      controlSocket: BrokerInfo.string(info.control_socket), channelCount: Int(info.channel_count),
      workerTarget: Int(info.worker_target), startedUnixNs: info.started_unix_ns,
      startedNs: info.started_ns)
  }
}
