import Foundation
import Glibc

/// Runs a program to completion with posix_spawn and waitpid, stdout and stderr going to
/// temporary files. Not Foundation's Process: it can miss the exit of a short-lived child (seen
/// with tmux's client, which forks the server), and its waitUntilExit then never returns.
public enum Spawn {
  public struct Result {
    /// The exit status, or 128 + the signal that killed it (like a shell).
    public var status: Int32
    public var stdout: String
    public var stderr: String
  }

  /// Runs `executable` with `arguments` (and the current environment plus `environment`);
  /// kills it and throws when it has not exited within `timeout` seconds.
  public static func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    timeout: Double = 30
  ) throws -> Result {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent(
      "rbtest-spawn-\(UUID().uuidString)"
    ).path
    let outPath = base + ".out"
    let errPath = base + ".err"
    defer {
      unlink(outPath)
      unlink(errPath)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var cArguments = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    var merged = ProcessInfo.processInfo.environment
    for (key, value) in environment { merged[key] = value }
    var cEnvironment = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { cEnvironment.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, nil, &cArguments, &cEnvironment)
    guard rc == 0 else {
      throw TestError("posix_spawn \(executable): \(String(cString: strerror(rc)))")
    }
    let status = try waitForExit(
      pid: pid, timeout: timeout, what: "\(executable) \(arguments.joined(separator: " "))")
    return Result(
      status: status, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
  }

  /// Reaps child `pid`: its exit status, or 128 + the signal that killed it. When it has not
  /// exited within `timeout` seconds it is killed (SIGKILL) and reaped, and this throws,
  /// naming `what`: a test never hangs on a child.
  public static func waitForExit(pid: pid_t, timeout: Double, what: String) throws -> Int32 {
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      let reaped = waitpid(pid, &status, WNOHANG)
      if reaped == pid { return shellStatus(status) }
      if reaped < 0 && errno != EINTR {
        throw TestError("waitpid \(pid) (\(what)): errno \(errno)")
      }
      if Date() >= deadline {
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        throw TestError("\(what) (pid \(pid)) did not exit within \(timeout) s; killed it")
      }
      usleep(5_000)
    }
  }

  /// A wait status as a shell shows it: the exit status, or 128 + the signal.
  public static func shellStatus(_ status: Int32) -> Int32 {
    (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
  }
}
