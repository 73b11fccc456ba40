import Foundation
import TestSupport

/// tmux on a private server socket (`-L`), so no one else's sessions are touched.
struct Tmux {
  let server: String

  /// Runs one tmux command; returns its stdout (capture-pane prints the screen).
  @discardableResult
  func run(_ arguments: [String]) throws -> String {
    let result = try Spawn.run("/usr/bin/tmux", ["-L", server] + arguments)
    guard result.status == 0 else {
      throw TestError("tmux \(arguments) exited with \(result.status): \(result.stderr)")
    }
    return result.stdout
  }

  /// Ends the server and removes its socket: tmux leaves the file behind when killed.
  func stop() {
    _ = try? run(["kill-server"])
    let directory = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
    unlink("\(directory)/tmux-\(getuid())/\(server)")
  }
}
