import Glibc

/// The broker's own log: one line per event on stderr (fd 2, which `--log-file` points at a
/// file), each with an RFC 3339 UTC timestamp, the level and the pid, written with a single
/// write(2) so lines from several threads, and from workers sharing fd 2, never interleave.
///
/// Control-plane only: a line costs a few allocations. The request path logs nothing per
/// request (the access log has its own allocation-free writer).
public enum Log {
  /// Set once at start, before any thread logs.
  nonisolated(unsafe) public static var minimumLevel = LogLevel.info
  nonisolated(unsafe) public static var format = LogFormat.text
  /// The program named in each line ("ringbroker").
  nonisolated(unsafe) public static var program = "ringbroker"

  public static func debug(_ message: @autoclosure () -> String) { write(.debug, message) }
  public static func info(_ message: @autoclosure () -> String) { write(.info, message) }
  public static func warning(_ message: @autoclosure () -> String) { write(.warning, message) }
  public static func error(_ message: @autoclosure () -> String) { write(.error, message) }

  /// Where the start-up line goes besides the log: the stderr the broker was started with, once
  /// `--log-file` took fd 2 over (nil: fd 2 is that stderr).
  nonisolated(unsafe) public static var console: Int32?

  /// The start-up line ("listening on …"): at info level but written whatever --log-level, and
  /// to the console too, so that supervisors and scripts can always tell the broker is up and
  /// where.
  public static func announce(_ message: String) {
    write(.info, { message }, always: true)
    guard let console else { return }
    var line = render(.info, message, time: LogTime.now())
    line.withUTF8 { writeAll(fd: console, $0) }
  }

  private static func write(_ level: LogLevel, _ message: () -> String, always: Bool = false) {
    guard always || level >= minimumLevel else { return }
    var line = render(level, message(), time: LogTime.now())
    line.withUTF8 { writeAll(fd: 2, $0) }
  }

  /// One line, newline included. Internal for tests.
  static func render(_ level: LogLevel, _ message: String, time: String) -> String {
    switch format {
    case .text:
      return "\(time) \(level.name) \(program)[\(getpid())]: \(message)\n"
    case .json:
      return "{\"time\":\"\(time)\",\"level\":\"\(level.name)\",\"pid\":\(getpid()),"
        + "\"program\":\"\(program)\",\"msg\":\(JSONString.quoted(message))}\n"
    }
  }

  /// Writes all of `bytes` to `fd`, retrying short writes and EINTR; gives up on other errors
  /// (a log that cannot be written must not stop the broker) and then returns false, errno set.
  @discardableResult
  public static func writeAll(fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard var next = bytes.baseAddress else { return true }
    var left = bytes.count
    while left > 0 {
      let written = Glibc.write(fd, next, left)
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else { return false }
      next += written
      left -= written
    }
    return true
  }
}
