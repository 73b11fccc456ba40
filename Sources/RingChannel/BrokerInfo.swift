import CRingABI
import Glibc

/// The broker's identity card: a small memfd named "ringbroker-info" holding `rb_broker_info`,
/// kept open for the broker's life so that ringstat finds brokers through /proc/PID/fd, with
/// no file left anywhere after any exit.
public final class BrokerInfo {
  public static let memfdName = "ringbroker-info"
  public let fd: Int32
  public let info: UnsafeMutablePointer<rb_broker_info>

  public init(name: String, listen: String, workerTarget: Int, controlSocket: String = "")
    throws(ChannelError)
  {
    let size = MemoryLayout<rb_broker_info>.size
    let fd = rb_memfd_create_sealed(Self.memfdName, UInt64(size))
    guard fd >= 0 else { throw .system("memfd_create", errno: -fd) }
    guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
      mapped != MAP_FAILED
    else {
      close(fd)
      throw .system("mmap", errno: errno)
    }
    self.fd = fd
    info = mapped.assumingMemoryBound(to: rb_broker_info.self)
    info.pointee.magic = RB_INFO_MAGIC
    info.pointee.abi_version = RB_ABI_VERSION
    info.pointee.broker_pid = UInt32(getpid())
    Self.copy(name, into: &info.pointee.name)
    Self.copy(listen, into: &info.pointee.listen)
    Self.copy(controlSocket, into: &info.pointee.control_socket)
    info.pointee.worker_target = UInt32(workerTarget)
    var wall = timespec()
    clock_gettime(CLOCK_REALTIME, &wall)
    info.pointee.started_unix_ns = UInt64(wall.tv_sec) * 1_000_000_000 + UInt64(wall.tv_nsec)
    info.pointee.started_ns = rb_monotonic_ns()
    info.pointee.updated_ns = info.pointee.started_ns
  }

  deinit {
    munmap(info, MemoryLayout<rb_broker_info>.size)
    close(fd)
  }

  /// Copies `text` as a NUL-terminated string into a fixed C array, truncating.
  private static func copy<T>(_ text: String, into field: inout T) {
    withUnsafeMutableBytes(of: &field) { raw in
      raw.initializeMemory(as: UInt8.self, repeating: 0)
      let bytes = Array(text.utf8.prefix(raw.count - 1))
      raw.copyBytes(from: bytes)
    }
  }

  /// Reads a NUL-terminated fixed C array as a String.
  public static func string<T>(_ field: T) -> String {
    withUnsafeBytes(of: field) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
  }
}
