import Glibc

/// What each signal means to the broker. Every signal listed here is blocked in all threads and
/// taken by the signal thread (SignalWatcher), so none can kill, crash or stop the broker
/// by its default action; workers are spawned with default dispositions.
enum BrokerSignals {
  enum Action: Equatable {
    /// Stop accepting, drain, exit 0; a second one closes everything at once.
    case stop
    /// Rolling reload of the workers.
    case reload
    /// One worker more / less (gunicorn's TTIN / TTOU).
    case addWorker, removeWorker
    /// Open the log files anew at their paths (logrotate renamed the old ones).
    case reopenLogs
    /// No meaning (yet): logged with the reason and otherwise ignored, instead of the default
    /// action that would kill the broker (USR2, ALRM) or stop it (TTIN, TTOU).
    case ignore(String)
  }

  /// QUIT stops gracefully, as it does for nginx and uWSGI (its default action would dump core).
  static let actions: [(signal: Int32, name: String, action: Action)] = [
    (SIGTERM, "SIGTERM", .stop), (SIGINT, "SIGINT", .stop), (SIGQUIT, "SIGQUIT", .stop),
    (SIGHUP, "SIGHUP", .reload),
    (SIGUSR1, "SIGUSR1", .reopenLogs),
    (SIGUSR2, "SIGUSR2", .ignore("reserved for the binary upgrade, which this version lacks")),
    (SIGALRM, "SIGALRM", .ignore("it has no meaning for ringbroker")),
    (SIGTTIN, "SIGTTIN", .addWorker), (SIGTTOU, "SIGTTOU", .removeWorker),
  ]

  static var handled: [Int32] { actions.map(\.signal) }

  static func action(for signal: Int32) -> (name: String, action: Action) {
    let entry = actions.first { $0.signal == signal }
    return (
      entry?.name ?? "signal \(signal)",
      entry?.action ?? .ignore("it has no meaning for ringbroker")
    )
  }
}
