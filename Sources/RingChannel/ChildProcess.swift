import CRingABI
import Glibc

/// A child process started with posix_spawn, watched through a pidfd (no SIGCHLD races, and
/// the pidfd can be polled in io_uring).
public struct ChildProcess {
  public let pid: pid_t
  public let pidfd: Int32

  /// Watches a process this one did not start (an attached worker): a pidfd works for any pid.
  public init(pid: pid_t, pidfd: Int32) {
    self.pid = pid
    self.pidfd = pidfd
  }

  /// Starts `executable` with `arguments`, the current environment plus `environment`, and
  /// `inherit` file descriptors dup'ed to the given numbers in the child (the only way a
  /// close-on-exec memfd reaches it).
  public static func spawn(
    executable: String, arguments: [String], environment: [String: String] = [:],
    inherit: [(fd: Int32, as: Int32)] = []
  ) throws(ChannelError) -> ChildProcess {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    // Each source is first copied above every target, so that one dup2 can never overwrite
    // another's source (a source may itself sit at some other entry's target number). dup2
    // onto another number clears FD_CLOEXEC on the copy. "Above every target" is the lowest
    // free number past the highest target, never a fixed one: a fixed 1024 fails under the
    // usual soft RLIMIT_NOFILE of 1024.
    var staged: [Int32] = []
    defer { staged.forEach { close($0) } }
    let stagingFloor = (inherit.map(\.as).max() ?? 2) + 1
    for (fd, target) in inherit {
      let copy = fcntl(fd, F_DUPFD_CLOEXEC, stagingFloor)
      guard copy >= 0 else { throw .system("dup of descriptor \(fd)", errno: errno) }
      staged.append(copy)
      posix_spawn_file_actions_adddup2(&actions, copy, target)
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // Children start with default signal handling even if the parent ignores or blocks some.
    var defaults = sigset_t()
    sigfillset(&defaults)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    var merged: [String: String] = [:]
    var cursor = environ
    while let entry = cursor.pointee {
      let text = String(cString: entry)
      if let equals = text.firstIndex(of: "=") {
        merged[String(text[..<equals])] = String(text[text.index(after: equals)...])
      }
      cursor += 1
    }
    for (key, value) in environment { merged[key] = value }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard result == 0 else { throw .system("posix_spawn \(executable)", errno: result) }
    let pidfd = rb_pidfd_open(pid)
    return ChildProcess(pid: pid, pidfd: pidfd)
  }

  /// Waits for the child to exit; returns its wait status.
  @discardableResult
  public func wait() -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if pidfd >= 0 { close(pidfd) }
    return status
  }

  public func signal(_ signal: Int32) { kill(pid, signal) }
}
