import CRingABI
import Glibc

/// The broker's identity card: a small memfd named "ringbroker-info" holding `rb_broker_info`,
/// kept open for the broker's life so that ringstat finds brokers through /proc/PID/fd, with
/// no file left anywhere after any exit.
public final class BrokerInfo {
  public static let memfdName = "ringbroker-info"
  public let fd: Int32
  public let info: UnsafeMutablePointer<rb_broker_info>
  private let size: Int

  /// `frontThreads` rb_front_stats follow the info, zeroed: each front thread counts in its own.
  public init(
    name: String, listen: String, workerTarget: Int, controlSocket: String = "",
    frontThreads: Int = 0
  ) throws(ChannelError) {
    let statsOffset = Self.frontStatsOffset
    let size = statsOffset + frontThreads * MemoryLayout<rb_front_stats>.stride
    self.size = size
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
    info.pointee.state = UInt32(RB_BROKER_RUNNING)
    info.pointee.front_threads = UInt32(frontThreads)
    info.pointee.front_stats_offset = UInt64(statsOffset)
  }

  deinit {
    munmap(info, size)
    close(fd)
  }

  /// Where the rb_front_stats start: the first line boundary after the info.
  public static var frontStatsOffset: Int {
    let line = Int(RB_LINE)
    return (MemoryLayout<rb_broker_info>.size + line - 1) / line * line
  }

  /// Front thread `index`'s counters (zeroed memory in the memfd, written by that thread only).
  public func frontStats(thread index: Int) -> UnsafeMutablePointer<rb_front_stats> {
    precondition(index < Int(info.pointee.front_threads))
    return (UnsafeMutableRawPointer(info) + Int(info.pointee.front_stats_offset))
      .assumingMemoryBound(to: rb_front_stats.self) + index
  }

  /// The address actually listened on, once the front bound it.
  public func setListen(_ listen: String) {
    Self.copy(listen, into: &info.pointee.listen)
    info.pointee.updated_ns = rb_monotonic_ns()
  }

  /// Workers the broker keeps (changed by SIGTTIN / SIGTTOU).
  public func setWorkerTarget(_ count: Int) {
    rb_store_relaxed_u32(&info.pointee.worker_target, UInt32(count))
    info.pointee.updated_ns = rb_monotonic_ns()
  }

  /// A stop began: ringstat and /healthz report the broker as draining.
  public func markDraining() {
    rb_store_release_u32(&info.pointee.state, UInt32(RB_BROKER_DRAINING))
    info.pointee.updated_ns = rb_monotonic_ns()
  }

  public var isDraining: Bool {
    rb_load_acquire_u32(&info.pointee.state) == UInt32(RB_BROKER_DRAINING)
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
