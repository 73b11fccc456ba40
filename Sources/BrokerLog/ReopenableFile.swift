import Glibc

/// A log file opened for appending whose descriptor number never changes: `reopen()` opens the
/// path again and dup2()s the new file onto the same number, so every thread (and every worker
/// that inherited it, for fd 2) writes to the new file from its next write on, with no lock.
/// That is what logrotate's rename-then-signal needs: SIGUSR1 calls `reopen()`.
public final class ReopenableFile {
  public let path: String
  public let fd: Int32
  /// Workers inherit it (stderr); any other log file is close-on-exec.
  private let inheritedByWorkers: Bool

  /// Opens `path` (created 0644 if missing). With `onto`, the file replaces that descriptor
  /// (2: stderr); otherwise it gets a descriptor of its own.
  public init(path: String, onto target: Int32? = nil) throws(LogFileError) {
    self.path = path
    inheritedByWorkers = target == 2
    let opened = try Self.open(path)
    if let target {
      guard Self.duplicate(opened, onto: target, inherited: inheritedByWorkers) else {
        let code = errno
        close(opened)
        throw LogFileError(path: path, errno: code)
      }
      close(opened)
      fd = target
    } else {
      fd = opened
    }
  }

  /// Opens the path anew onto the same descriptor; the old file is closed once nobody writes
  /// to it. On failure the old file stays in use.
  public func reopen() throws(LogFileError) {
    let opened = try Self.open(path)
    defer { close(opened) }
    guard Self.duplicate(opened, onto: fd, inherited: inheritedByWorkers) else {
      throw LogFileError(path: path, errno: errno)
    }
  }

  /// Throws what `init` would: the file cannot be opened for appending (created if missing).
  /// Changes nothing: a file it had to create for the test is removed again (`ringbroker -t`).
  public static func checkAppendable(path: String) throws(LogFileError) {
    var fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    var created = false
    if fd < 0 && errno == ENOENT {
      fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      created = fd >= 0
    }
    guard fd >= 0 else { throw LogFileError(path: path, errno: errno) }
    close(fd)
    if created { unlink(path) }
  }

  /// dup2 clears close-on-exec, so a file workers must not inherit gets it back at once.
  private static func duplicate(_ source: Int32, onto target: Int32, inherited: Bool) -> Bool {
    guard dup2(source, target) >= 0 else { return false }
    return inherited || fcntl(target, F_SETFD, FD_CLOEXEC) == 0
  }

  private static func open(_ path: String) throws(LogFileError) -> Int32 {
    let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw LogFileError(path: path, errno: errno) }
    return fd
  }
}

/// A log file that cannot be opened: "cannot open log file PATH: REASON".
public struct LogFileError: Error, CustomStringConvertible {
  public let path: String
  public let errno: Int32
  public var description: String {
    "cannot open log file \(path): \(String(cString: strerror(errno)))"
  }
}
