import CRingABI
import Glibc

/// How long a consumer spins on an empty ring before it goes to sleep on the futex.
///
/// Spinning costs a CPU: on a machine with fewer CPUs than busy processes, a spinner steals the
/// core the producer needs (two spinners on one core is a livelock). The broker computes the
/// budget from CPUs and worker count and passes it in RINGWORKER_SPIN_NS.
public struct SpinPolicy: Equatable {
  /// Nanoseconds to spin; 0 sleeps at once; nil spins forever (benchmarks only).
  public var budgetNanoseconds: UInt64?

  public init(budgetNanoseconds: UInt64?) { self.budgetNanoseconds = budgetNanoseconds }

  public static let never = SpinPolicy(budgetNanoseconds: 0)
  public static let forever = SpinPolicy(budgetNanoseconds: nil)

  /// Budget for `spinners` processes that may spin at once on `cpus` CPUs: a worker spins only
  /// when there is a spare CPU for it, and for long enough to bridge a typical handler (tens of
  /// microseconds) when CPUs are plenty.
  public static func adaptive(cpus: Int, spinners: Int) -> SpinPolicy {
    if cpus <= 1 { return .never }
    return SpinPolicy(budgetNanoseconds: 50_000)
  }

  /// RINGWORKER_SPIN_NS when set ("-1" spins forever), else adaptive for one spinner.
  public static func fromEnvironment() -> SpinPolicy {
    if let text = getenv("RINGWORKER_SPIN_NS").map({ String(cString: $0) }), let value = Int64(text)
    {
      return value < 0 ? .forever : SpinPolicy(budgetNanoseconds: UInt64(value))
    }
    return adaptive(cpus: Int(rb_allowed_cpu_count()), spinners: 1)
  }

  /// Spins until `ready()` is true or the budget runs out; returns whether it became ready.
  @inline(__always)
  public func spin(until ready: () -> Bool) -> Bool {
    if ready() { return true }
    guard budgetNanoseconds != 0 else { return false }
    let deadline = budgetNanoseconds.map { rb_monotonic_ns() &+ $0 } ?? UInt64.max
    while true {
      for _ in 0..<64 {
        if ready() { return true }
        rb_cpu_relax()
      }
      if rb_monotonic_ns() >= deadline { return false }
      // A thread waiting for this CPU (the producer we wait for, or the client) gets it.
      sched_yield()
    }
  }
}
