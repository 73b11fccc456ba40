import Glibc

/// Signals blocked in every thread and taken by one watcher thread with sigwait: no signal
/// handler runs on a front thread and nothing needs to be async-signal-safe. Mechanism only:
/// what each signal means is the caller's policy.
public enum SignalWatcher {
  /// Blocks the signals for the calling thread and every thread it starts afterwards: call it
  /// first thing in main. Also ignores SIGPIPE (sends use MSG_NOSIGNAL, this covers the rest).
  public static func block(_ signals: [Int32] = [SIGTERM, SIGINT]) {
    signal(SIGPIPE, SIG_IGN)
    var set = sigset_t()
    sigemptyset(&set)
    for s in signals { sigaddset(&set, s) }
    pthread_sigmask(SIG_BLOCK, &set, nil)
  }

  /// Starts the watcher; `onSignal` runs on it for every delivery (e.g. stop on the first,
  /// stop immediately on the second).
  public static func watch(
    _ signals: [Int32] = [SIGTERM, SIGINT], onSignal: @escaping (Int32) -> Void
  ) throws(FrontError) {
    let thread = try JoinableThread(name: "signals") {
      var set = sigset_t()
      sigemptyset(&set)
      for s in signals { sigaddset(&set, s) }
      while true {
        var delivered: Int32 = 0
        if sigwait(&set, &delivered) == 0 { onSignal(delivered) }
      }
    }
    _ = thread  // never joined: it lives until the process exits
  }
}
