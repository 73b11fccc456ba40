import BrokerLog
import CRingABI
import Glibc

/// Starts `threads` independent front loops on one address (one SO_REUSEPORT socket and one
/// io_uring each), optionally pinned to CPU sets, each with its own handler.
public final class FrontServer {
  public let config: FrontConfig
  public let threadCount: Int
  /// The address actually listened on (the kernel's port when the configured one was 0).
  public private(set) var boundAddress: ListenAddress

  private let cpuSets: [[Int]]
  private let makeHandler: (Int) -> FrontHandler
  private let statsPlace: ((Int) -> UnsafeMutablePointer<rb_front_stats>)?
  private var threads: [JoinableThread] = []
  private var loops: [FrontLoop] = []
  private var startupErrors: [FrontError] = []
  private var stopRequested = false
  private let lock = Lock()

  /// `cpuSets[i % cpuSets.count]` is thread i's CPU set (e.g. its NUMA node's CPUs); empty:
  /// no pinning. `makeHandler(i)` runs on thread i, so the handler's memory is first touched
  /// on its node. `stats(i)`, when given, is where thread i keeps its counters (BrokerInfo).
  public init(
    config: FrontConfig, threads: Int, cpuSets: [[Int]] = [],
    stats: ((Int) -> UnsafeMutablePointer<rb_front_stats>)? = nil,
    makeHandler: @escaping (Int) -> FrontHandler
  ) {
    self.statsPlace = stats
    self.config = config
    self.threadCount = config.listen.unixPath == nil ? max(threads, 1) : 1
    self.cpuSets = cpuSets.filter { !$0.isEmpty }
    self.makeHandler = makeHandler
    self.boundAddress = config.listen
  }

  /// Binds the sockets and starts the loops; returns once every loop is ready to accept.
  /// Throws a one-line error (e.g. "address already in use: 127.0.0.1:8080").
  public func start() throws(FrontError) {
    // A unix socket has one listener and one loop (no SO_REUSEPORT spreading).
    if let path = config.listen.unixPath {
      return try startLoops(on: [try ListenSocket.openUnix(path, backlog: config.listenBacklog)])
    }
    var resolved = try ListenSocket.resolveAvailable(config.listen)
    var fds: [Int32] = []
    do {
      let first = try ListenSocket.open(
        resolved, address: config.listen, backlog: config.listenBacklog)
      fds.append(first)
      let port = ListenSocket.boundPort(first)
      resolved.setPort(port)
      boundAddress = ListenAddress(host: config.listen.host, port: port)
      while fds.count < threadCount {
        fds.append(
          try ListenSocket.open(resolved, address: boundAddress, backlog: config.listenBacklog))
      }
    } catch {
      for fd in fds { close(fd) }
      throw error
    }
    try startLoops(on: fds)
  }

  private func startLoops(on fds: [Int32]) throws(FrontError) {
    let latch = StartupLatch(count: fds.count)
    for (index, fd) in fds.enumerated() {
      let cpus = cpuSets.isEmpty ? [] : cpuSets[index % cpuSets.count]
      do {
        threads.append(
          try JoinableThread(name: "front-\(index)") { [self] in
            self.runLoop(index: index, listenFd: fd, cpus: cpus, latch: latch)
          })
      } catch {
        close(fd)
        lock.locked { startupErrors.append(error) }
        latch.countDown()
      }
    }
    latch.wait()
    let failure = lock.locked { startupErrors.first }
    if let failure {
      stop(immediately: true)
      wait()
      throw failure
    }
  }

  /// Thread-safe: every loop stops accepting and drains (or closes at once).
  public func stop(immediately: Bool = false) {
    let current = lock.locked { () -> [FrontLoop] in
      stopRequested = true
      return loops
    }
    for loop in current { loop.requestStop(immediately: immediately) }
  }

  /// Returns when every loop has finished; a unix socket's path is removed then.
  public func wait() {
    for thread in threads { thread.join() }
    if let path = config.listen.unixPath, !threads.isEmpty { unlink(path) }
  }

  private func runLoop(index: Int, listenFd: Int32, cpus: [Int], latch: StartupLatch) {
    if !cpus.isEmpty {
      let rc = cpus.map { Int32($0) }.withUnsafeBufferPointer {
        rb_pin_current_thread($0.baseAddress, Int32($0.count))
      }
      if rc != 0 {
        Log.warning(
          "cannot pin front-\(index) to CPUs \(cpus): \(String(cString: strerror(-rc)))")
      }
    }
    let loop: FrontLoop
    do {
      var share = config
      share.maxConnections = max(1, (config.maxConnections + threadCount - 1) / threadCount)
      loop = try FrontLoop(
        threadIndex: index, config: share, listenFd: listenFd, stats: statsPlace?(index))
    } catch {
      close(listenFd)
      lock.locked { startupErrors.append(error) }
      latch.countDown()
      return
    }
    let handler = makeHandler(index)
    let stopAlready = lock.locked { () -> Bool in
      loops.append(loop)
      return stopRequested
    }
    if stopAlready { loop.requestStop(immediately: true) }
    latch.countDown()
    loop.run(handler: handler)
  }
}
