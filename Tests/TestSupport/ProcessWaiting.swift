import Foundation
import Glibc
import RingChannel

extension ChildProcess {
  /// Waits at most `timeout` seconds for the child to exit and returns its raw wait status
  /// (as `wait()` does). On timeout the child is killed (SIGKILL) and reaped, and this throws:
  /// a test never hangs on a child.
  @discardableResult
  public func wait(timeout: Double, _ what: String = "child") throws -> Int32 {
    defer { if pidfd >= 0 { close(pidfd) } }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      let reaped = waitpid(pid, &status, WNOHANG)
      if reaped == pid { return status }
      if reaped < 0 && errno != EINTR {
        throw TestError("waitpid \(pid) (\(what)): errno \(errno)")
      }
      if Date() >= deadline {
        Glibc.kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        throw TestError("\(what) (pid \(pid)) did not exit within \(timeout) s; killed it")
      }
      usleep(5_000)
    }
  }

  /// Kills the child (SIGKILL) and reaps it; a no-op for one already reaped.
  public func killAndReap() {
    signal(SIGKILL)
    _ = try? wait(timeout: 10, "killed child")
  }
}

extension Process {
  /// Waits at most `timeout` seconds for the process to exit; returns its exit status, or
  /// 128 + the signal that killed it. On timeout it is killed (SIGKILL) and this throws.
  @discardableResult
  public func waitForExit(timeout: Double, _ what: String = "child process") throws -> Int32 {
    let deadline = Date().addingTimeInterval(timeout)
    while isRunning && Date() < deadline { usleep(10_000) }
    guard !isRunning else {
      Glibc.kill(processIdentifier, SIGKILL)
      let grace = Date().addingTimeInterval(5)
      while isRunning && Date() < grace { usleep(10_000) }
      throw TestError(
        "\(what) (pid \(processIdentifier)) did not exit within \(timeout) s; killed it")
    }
    return terminationReason == .exit ? terminationStatus : 128 + terminationStatus
  }
}
