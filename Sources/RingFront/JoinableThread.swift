import Glibc

/// A plain pthread running a closure, joinable. The front threads are long-lived loops; they
/// need neither Foundation's Thread nor any executor. Public for the control socket's thread
/// (RingControl), which is started the same way.
public final class JoinableThread {
  private final class Body {
    let name: String
    let run: () -> Void
    init(name: String, run: @escaping () -> Void) {
      self.name = name
      self.run = run
    }
  }

  private var thread = pthread_t()
  private var joined = false

  /// Starts the thread at once, named `name`, running `run`; throws when pthread_create fails.
  public init(name: String, _ run: @escaping () -> Void) throws(FrontError) {
    let body = Unmanaged.passRetained(Body(name: name, run: run)).toOpaque()
    let rc = pthread_create(
      &thread, nil,
      { argument in
        let body = Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue()
        JoinableThread.nameCurrentThread(body.name)
        body.run()
        return nil
      }, body)
    if rc != 0 {
      Unmanaged<Body>.fromOpaque(body).release()
      throw FrontError.system("cannot start thread \(name)", errno: rc)
    }
  }

  /// Shows the name in top -H, perf and /proc (at most 15 bytes). Glibc's module does not
  /// export pthread_setname_np, and this is what it does on Linux anyway.
  static func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    let bytes = Array(name.utf8.prefix(15))
    _ = write(fd, bytes, bytes.count)
    close(fd)
  }

  /// Waits until the thread's closure returned; later calls return at once.
  public func join() {
    guard !joined else { return }
    joined = true
    pthread_join(thread, nil)
  }
}

/// Counts down once per front thread; the starter waits until every thread reported.
final class StartupLatch {
  private var mutex = pthread_mutex_t()
  private var condition = pthread_cond_t()
  private var remaining: Int

  init(count: Int) {
    remaining = count
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&condition, nil)
  }

  deinit {
    pthread_cond_destroy(&condition)
    pthread_mutex_destroy(&mutex)
  }

  func countDown() {
    pthread_mutex_lock(&mutex)
    remaining -= 1
    pthread_cond_broadcast(&condition)
    pthread_mutex_unlock(&mutex)
  }

  func wait() {
    pthread_mutex_lock(&mutex)
    while remaining > 0 { pthread_cond_wait(&condition, &mutex) }
    pthread_mutex_unlock(&mutex)
  }
}

/// A pthread mutex around a closure, for the little state front threads share at start and stop.
final class Lock {
  private var mutex = pthread_mutex_t()

  init() { pthread_mutex_init(&mutex, nil) }
  deinit { pthread_mutex_destroy(&mutex) }

  func locked<T>(_ body: () throws -> T) rethrows -> T {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    return try body()
  }
}
