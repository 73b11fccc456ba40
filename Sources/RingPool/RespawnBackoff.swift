extension Dispatcher {
  /// How long to wait before starting a worker again, given how many times in a row it exited
  /// young (within `fastExitWindowNs` of its start). The first exit is respawned at once; a
  /// crash loop waits 100 ms, 200 ms, 400 ms, ..., doubling, capped at `maxBackoffNs` (10 s), so
  /// that it never spins a CPU.
  static func respawnDelayNs(consecutiveFastExits: Int) -> UInt64 {
    consecutiveFastExits <= 1
      ? 0 : min(100_000_000 << UInt64(min(consecutiveFastExits - 2, 20)), maxBackoffNs)
  }
}
