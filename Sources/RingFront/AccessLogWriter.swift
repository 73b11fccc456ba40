import BrokerLog
import Glibc

/// Where and how the front writes its access log (FrontConfig.accessLog).
public struct AccessLogConfig {
  public var sink: AccessLogSink
  public var format: AccessLogFormat

  public init(sink: AccessLogSink, format: AccessLogFormat) {
    self.sink = sink
    self.format = format
  }
}

/// The access log's descriptor, shared by every front thread: each hands it whole lines, many
/// at a time, and a lock keeps two threads' writes from interleaving whatever the descriptor is
/// (a file opened O_APPEND, or a pipe for `-`, where a write above PIPE_BUF is not atomic).
/// The descriptor number never changes: ReopenableFile swaps the file under it (SIGUSR1).
public final class AccessLogSink {
  public let fd: Int32
  private let lock = Lock()
  private var failing = false

  public init(fd: Int32) { self.fd = fd }

  /// Writes all of `bytes` (one write(2) unless the kernel takes less). A write that fails
  /// loses its lines; the broker log says so once, and again when writing works again.
  func write(_ bytes: UnsafeRawBufferPointer) {
    lock.locked {
      let written = Log.writeAll(fd: fd, bytes.assumingMemoryBound(to: UInt8.self))
      let code = errno
      if !written && !failing {
        Log.error("access log: cannot write: \(String(cString: strerror(code))); lines are lost")
      } else if written && failing {
        Log.info("access log: writing again")
      }
      failing = !written
    }
  }
}

/// One front thread's access log buffer: lines are formatted into it and go to the sink in
/// one write when the next line might not fit, on the loop's timer scan (every 100 ms, so a
/// line shows soon even without further traffic) and when the loop stops. The buffer only
/// ever holds whole lines, so every write is whole lines.
final class AccessLogWriter {
  static let capacity = 64 * 1024

  let sink: AccessLogSink
  private let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
  @exclusivity(unchecked) private var count = 0

  init(sink: AccessLogSink) { self.sink = sink }

  deinit { buffer.deallocate() }

  /// Room for a line of up to `length` bytes (at most `capacity`), flushing first if needed.
  @inline(__always)
  func reserve(_ length: Int) -> UnsafeMutableRawPointer {
    if Self.capacity - count < length { flush() }
    return buffer + count
  }

  /// The line written at the last `reserve` is `length` bytes.
  @inline(__always)
  func commit(_ length: Int) { count += length }

  func flush() {
    guard count > 0 else { return }
    sink.write(UnsafeRawBufferPointer(start: buffer, count: count))
    count = 0
  }
}
