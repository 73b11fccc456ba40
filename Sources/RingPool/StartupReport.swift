import Glibc

/// Whether a dispatcher's first workers came up: written by its loop thread, read by the main
/// thread, which waits for every dispatcher before it announces the broker (or exits 1 with the
/// reason when one failed). Control plane only: taken a handful of times per broker life.
public final class StartupReport {
  public enum State: Equatable {
    /// Some of the first workers have not attached yet.
    case pending
    /// Every first worker attached (or there were none).
    case ready
    /// One failed: it could not be started, exited before it attached, or did not attach in
    /// time. The one-line reason names the worker and what happened.
    case failed(String)
  }

  private var lock = pthread_mutex_t()
  private var current = State.pending

  init() { pthread_mutex_init(&lock, nil) }

  public var state: State {
    pthread_mutex_lock(&lock)
    defer { pthread_mutex_unlock(&lock) }
    return current
  }

  /// The first outcome sticks: a failure is not undone by a later success, nor replaced.
  func settle(_ outcome: State) {
    pthread_mutex_lock(&lock)
    if current == .pending { current = outcome }
    pthread_mutex_unlock(&lock)
  }
}
