import CRingABI

/// The broker stamps channels with CLOCK_MONOTONIC (rb_monotonic_ns); ages must use the same clock.
public enum Clock {
  public static func monotonicNs() -> UInt64 { rb_monotonic_ns() }
}
