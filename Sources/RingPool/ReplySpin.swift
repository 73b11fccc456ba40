import CRingABI
import RingChannel

/// The front's wait for replies at low load: before the loop sleeps with requests out at
/// workers, it spins a little on their response rings, because a reply that arrives while the
/// front sleeps costs a futex wake-up and a context switch on each side (tens of µs on a VM,
/// more than a whole hop). Adaptive, so that it never burns a CPU the workers need: a spin
/// that ends without a reply makes the next ones skip, doubling up to `maxSkips` waits, and
/// one that gets a reply resets that. Under load the loop always has work and never gets here.
struct ReplySpin {
  /// How long one spin may last: about one hop plus a short handler.
  let budget: SpinPolicy
  private var skipsLeft = 0
  private var skipAfterMiss = 1
  static let maxSkips = 64

  /// `cpus`: CPUs this process may run on; one CPU cannot spin for another process.
  init(cpus: Int) {
    budget = SpinPolicy(budgetNanoseconds: cpus > 1 ? 20_000 : 0)
  }

  /// Spins until `replied()` or the budget runs out; true when a reply came.
  mutating func spin(until replied: () -> Bool) -> Bool {
    guard budget.budgetNanoseconds != 0 else { return false }
    if skipsLeft > 0 {
      skipsLeft -= 1
      return false
    }
    if budget.spin(until: replied) {
      skipAfterMiss = 1
      return true
    }
    skipsLeft = skipAfterMiss
    skipAfterMiss = min(skipAfterMiss * 2, Self.maxSkips)
    return false
  }
}
