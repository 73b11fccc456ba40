import Foundation
import Glibc

/// Runs a program to completion with posix_spawn and waitpid, stdout and stderr going to
/// temporary files. Not Foundation's Process: it can miss the exit of a short-lived child (seen
/// with tmux's client, which forks the server), and its waitUntilExit then never returns.
enum Spawn {
  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static func run(_ executable: String, _ arguments: [String], timeout: Double = 30) throws
    -> Result
  {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ringstat-test-\(UUID().uuidString)"
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
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, nil, &cArguments, environ)
    guard rc == 0 else {
      throw TestError("posix_spawn \(executable): \(String(cString: strerror(rc)))")
    }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(timeout)
    while waitpid(pid, &status, WNOHANG) == 0 {
      if Date() >= deadline {
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        throw TestError("\(executable) \(arguments) did not finish within \(timeout) s")
      }
      usleep(5_000)
    }
    // Exit status, or 128 + signal like a shell.
    let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return Result(
      status: code, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
  }
}
