import Glibc
import RingStatus

/// Set from the SIGINT handler; the loop checks it between sleeps of at most 50 ms.
private var interrupted: sig_atomic_t = 0

/// `--watch`: redraws in place on a terminal (cursor home, clear to end of each line and of the
/// screen: no flicker), appends blocks separated by a blank line when piped.
struct WatchLoop {
  var intervalSeconds: Double
  var count: Int?

  /// Calls `frame` until SIGINT or `count` frames; `frame` returns the text, or nil to stop.
  func run(_ frame: () throws -> String?) rethrows {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in interrupted = 1 }
    sigaction(SIGINT, &action, nil)
    let terminal = isatty(STDOUT_FILENO) == 1
    var shown = 0
    while interrupted == 0 {
      guard let text = try frame() else { return }
      if terminal {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Clear once, then overwrite line by line so the view never blinks.
        print(
          (shown == 0 ? "\u{1B}[2J" : "") + "\u{1B}[H" + lines.joined(separator: "\u{1B}[K\n")
            + "\u{1B}[J", terminator: "")
      } else {
        print((shown > 0 ? "\n" : "") + text, terminator: "")
      }
      fflush(stdout)
      shown += 1
      if let count, shown >= count { return }
      sleep(seconds: intervalSeconds)
    }
  }

  private func sleep(seconds: Double) {
    var remaining = seconds
    while remaining > 0 && interrupted == 0 {
      let slice = min(remaining, 0.05)
      usleep(UInt32(slice * 1_000_000))
      remaining -= slice
    }
  }
}
