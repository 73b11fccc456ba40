import Glibc
import RingFront

/// The open-file limit. Like nginx (`worker_rlimit_nofile`) and most servers, the broker raises
/// its soft RLIMIT_NOFILE to the hard limit at start: the soft limit of a login shell and
/// systemd's default (`LimitNOFILE=1024:524288`) is 1024, far below what 10,000 connections
/// need. The connection limit is then sized to what the descriptors left allow, so that accept
/// never runs the process out of descriptors that workers and channels need.
enum DescriptorLimit {
  /// Descriptors the broker keeps besides client connections: standard streams, the control
  /// socket and its connections, the broker info memfd, start-up checks.
  static let fixedReserve = 32
  /// Per front thread: its io_uring, listening socket and wake pipe (two ends), and the
  /// connections still closing when it reclaims an idle one at the limit (FrontLoop).
  static let perThread = 4 + FrontLoop.maxConnectionsClosing
  /// Per worker: channel memfd, pidfd and the staged copy while it is spawned, twice over
  /// while a successor starts next to it (reload, recycling).
  static let perWorker = 6
  /// Fewer connections than this is not a usable broker: refuse to start instead.
  static let minimumConnections = 16

  /// Raises the soft limit as far as the hard limit (and the kernel's fs.nr_open) allow;
  /// returns the soft limit in force afterwards.
  static func raiseSoftLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
    if limit.rlim_cur < limit.rlim_max {
      var raised = limit
      raised.rlim_cur = limit.rlim_max
      if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0, let open = kernelMaximum(),
        open > limit.rlim_cur
      {
        // A hard limit of "unlimited" is above fs.nr_open, which setrlimit refuses.
        raised.rlim_cur = min(limit.rlim_max, open)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
      }
      _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return limit.rlim_cur >= rlim_t(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
  }

  /// Connections the descriptor limit leaves room for, at most `requested`.
  static func connectionBudget(limit: Int, threads: Int, workers: Int) -> Int {
    limit - fixedReserve - threads * perThread - workers * perWorker
  }

  private static func kernelMaximum() -> rlim_t? {
    guard let file = fopen("/proc/sys/fs/nr_open", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 32)
    guard fgets(&line, Int32(line.count), file) != nil else { return nil }
    return rlim_t(String(cString: line).filter(\.isNumber))
  }
}
