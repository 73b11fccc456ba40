import BrokerLog
import Glibc
import RingChannel
import RingControl
import RingFront
import RingPool

/// Worker mode: which workers run, where, and which front thread owns each. Built once at
/// start-up; each front thread then gets a Dispatcher over its share of the workers.
final class WorkerMode {
  let summary: String
  /// False with --workers 0 and no app or command: attached workers only, nothing to start.
  let spawnsWorkers: Bool
  private let launcher: WorkerLauncher
  private let workersByThread: [[(id: Int, placement: WorkerPlacement)]]
  private let config: DispatchConfig
  private let topology: NumaTopology
  private let threads: Int
  /// Workers the broker keeps (--workers, then SIGTTIN/SIGTTOU); ids 0..<workerTarget.
  /// Changed by the signal thread only.
  private(set) var workerTarget: Int
  private var dispatchers: [Dispatcher] = []
  private var lock = pthread_mutex_t()

  init?(options: BrokerOptions, threads: Int) {
    let command: WorkerCommand
    if let custom = options.workerCommand {
      command = .custom(custom)
      spawnsWorkers = true
    } else if options.app == nil && options.workerCount == 0 {
      command = .custom("false")  // never run: attached workers only
      spawnsWorkers = false
    } else {
      spawnsWorkers = true
      guard let app = options.app else { return nil }
      if let problem = Self.appProblem(app) {
        Log.error(problem)
        return nil
      }
      command = .lua(app: app)
    }
    let topology = NumaTopology.current()
    self.topology = topology
    self.threads = threads
    let count = options.workerCount ?? topology.cpuCount
    workerTarget = count
    var byThread = Array(repeating: [(id: Int, placement: WorkerPlacement)](), count: threads)
    for placement in topology.place(workers: count) {
      byThread[Self.thread(for: placement, threads: threads, topology: topology)].append(
        (id: placement.worker, placement: placement))
    }
    workersByThread = byThread
    launcher = WorkerLauncher(
      command: command, parameters: .standard,
      spin: .adaptive(cpus: topology.cpuCount, spinners: count + threads),
      bindMemory: topology.nodes.count > 1)
    var config = DispatchConfig()
    config.queueTimeoutNs = UInt64(options.queueTimeoutSeconds * 1e9)
    config.maxDepthPerWorker = options.workerDepth
    config.stallAfterNs = UInt64(options.stallTimeoutSeconds * 1e9)
    config.attachTimeoutNs = UInt64(options.attachTimeoutSeconds * 1e9)
    config.maxRequestsPerWorker =
      options.maxRequestsPerWorker > 0 ? UInt64(options.maxRequestsPerWorker) : nil
    config.requestTimeoutNs =
      options.requestTimeoutSeconds > 0 ? UInt64(options.requestTimeoutSeconds * 1e9) : nil
    self.config = config
    let what =
      options.workerCommand.map { "'\($0)'" } ?? options.app.map { "ringworker-lua \($0)" }
      ?? "attached only"
    summary = "\(count) worker\(count == 1 ? "" : "s"): \(what)"
    pthread_mutex_init(&lock, nil)
  }

  /// Called on each front thread: its dispatcher, which starts its workers on first poll.
  func makeHandler(thread: Int) -> FrontHandler {
    let dispatcher = Dispatcher(
      workers: workersByThread[thread], launcher: launcher, config: config, frontThread: thread)
    pthread_mutex_lock(&lock)
    dispatchers.append(dispatcher)
    pthread_mutex_unlock(&lock)
    return dispatcher
  }

  /// Binds the control socket; attached workers go to the front threads in turn, once its
  /// thread runs (`ControlServer.start`).
  func openControlServer(path: String) throws -> ControlServer {
    var next = 0
    return try ControlServer(path: path, parameters: launcher.parameters, firstID: 1000) {
      [self] attached in
      pthread_mutex_lock(&lock)
      let all = dispatchers
      pthread_mutex_unlock(&lock)
      guard !all.isEmpty else {
        close(attached.connection)
        return
      }
      all[next % all.count].enqueueAttached(attached)
      next += 1
    }
  }

  /// The front thread that serves a worker: a thread per node serves that node's workers;
  /// with any other thread count, round-robin.
  private static func thread(
    for placement: WorkerPlacement, threads: Int, topology: NumaTopology
  ) -> Int {
    let nodeIDs = topology.nodes.map(\.id)
    return threads == nodeIDs.count
      ? nodeIDs.firstIndex(of: placement.node)! : placement.worker % threads
  }

  /// What SIGTTIN or SIGTTOU did: the new worker count, or why nothing changed.
  enum ScalingOutcome {
    case changed(workers: Int)
    case refused(String)
  }

  /// SIGTTIN: one worker more, with the next id. `fitsDescriptors(n)`: whether the open-file
  /// limit still serves --max-connections with n workers.
  func addWorker(fitsDescriptors: (Int) -> Bool) -> ScalingOutcome {
    guard spawnsWorkers else { return .refused("this broker serves attached workers only") }
    guard scalingAllowed else { return .refused("the broker is still starting") }
    guard workerTarget < Self.maxWorkers else {
      return .refused("\(Self.maxWorkers) workers are the most")
    }
    guard fitsDescriptors(workerTarget + 1) else {
      return .refused("the open-file limit leaves no descriptors for another worker")
    }
    let placement = topology.place(workers: workerTarget + 1)[workerTarget]
    let dispatcher = dispatcher(for: placement)
    workerTarget += 1
    dispatcher?.requestWorker(id: placement.worker, placement: placement)
    return .changed(workers: workerTarget)
  }

  /// SIGTTOU: one worker less (the one with the highest id), never below one.
  func removeWorker() -> ScalingOutcome {
    guard scalingAllowed else { return .refused("the broker is still starting") }
    guard workerTarget > 1 else { return .refused("one worker is the fewest") }
    workerTarget -= 1
    // Every dispatcher hears it: the one that owns the id retires it (with several NUMA nodes
    // the placement of a smaller pool need not name the thread the worker was started on).
    pthread_mutex_lock(&lock)
    let all = dispatchers
    pthread_mutex_unlock(&lock)
    for dispatcher in all { dispatcher.requestRetirement(id: workerTarget) }
    return .changed(workers: workerTarget)
  }

  /// --workers' upper bound, for SIGTTIN too.
  static let maxWorkers = 4096
  /// Scaling waits for the start: a worker retired before it attached would leave the start-up
  /// wait pending. Set by the main thread, read by the signal thread.
  private var scalingAllowed: Bool {
    pthread_mutex_lock(&lock)
    defer { pthread_mutex_unlock(&lock) }
    return started
  }
  private var started = false

  func allowScaling() {
    pthread_mutex_lock(&lock)
    started = true
    pthread_mutex_unlock(&lock)
  }

  private func dispatcher(for placement: WorkerPlacement) -> Dispatcher? {
    let index = Self.thread(for: placement, threads: threads, topology: topology)
    pthread_mutex_lock(&lock)
    defer { pthread_mutex_unlock(&lock) }
    // Dispatchers register as their threads start, in any order: find this thread's.
    return dispatchers.first { $0.frontThread == index }
  }

  /// After the front started: waits until every dispatcher's first workers attached (nil), or
  /// returns the first failure's one-line reason. Each dispatcher kills a worker that does not
  /// attach within the attach timeout, so this ends; `stopRequested` ends it early.
  func waitForFirstWorkers(stopRequested: () -> Bool) -> String? {
    pthread_mutex_lock(&lock)
    let all = dispatchers
    pthread_mutex_unlock(&lock)
    while !stopRequested() {
      let states = all.map(\.startup.state)
      for case .failed(let reason) in states { return reason }
      if states.allSatisfy({ $0 == .ready }) { return nil }
      usleep(5_000)
    }
    return nil
  }

  /// From the signal thread: every dispatcher replaces its workers, one at a time.
  func reload() {
    pthread_mutex_lock(&lock)
    let all = dispatchers
    pthread_mutex_unlock(&lock)
    Log.info("SIGHUP: rolling reload of the workers")
    for dispatcher in all { dispatcher.requestReload() }
  }

  /// After the front threads returned: workers finish and exit (killed after 5 s).
  func stopWorkers() {
    pthread_mutex_lock(&lock)
    let all = dispatchers
    pthread_mutex_unlock(&lock)
    for dispatcher in all { dispatcher.stopWorkers(timeoutNs: 5_000_000_000) }
  }

  /// Loads the app once before any worker starts (`ringworker-lua --check`), so that a broken
  /// app stops the broker with the script's own file:line message instead of a respawn loop
  /// (`ringbroker -t` checks the same). Nil when it loads, else why not, as one line.
  static func appProblem(_ app: String) -> String? {
    let executable = WorkerCommand.siblingExecutable("ringworker-lua")
    guard access(executable, X_OK) == 0 else {
      return "the Lua worker is missing at \(executable) (build it with swift build)"
    }
    // Its message comes back through a pipe, to become part of this one line.
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else {
      return "cannot check the app: pipe: \(String(cString: strerror(errno)))"
    }
    defer { close(ends[0]) }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }  // only the check gets it, as fd 2
    let check: ChildProcess
    do {
      check = try ChildProcess.spawn(
        executable: executable, arguments: ["--check", app], inherit: [(ends[1], 2)])
      close(ends[1])
    } catch {
      close(ends[1])
      return "cannot run \(executable): \(error)"
    }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = read(ends[0], &buffer, buffer.count)
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { break }
      output += buffer[..<count]
    }
    guard check.wait() != 0 else { return nil }
    let message = String(decoding: output, as: UTF8.self).split(separator: "\n").first
    return "the app \(app) failed to load: \(message ?? "ringworker-lua --check failed")"
  }
}
