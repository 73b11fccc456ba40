import BrokerLog
import Glibc
import RingChannel
import RingControl
import RingFront

/// Starts the broker described by `options` and returns the process exit code once it stopped.
///
/// Shape for the modes to come: pick the handler factory (inline, or a dispatcher over worker
/// channels), start the front, print the ready line, wait for a termination signal.
func runBroker(_ options: BrokerOptions) -> Int32 {
  SignalWatcher.block(BrokerSignals.handled)
  Log.minimumLevel = options.logLevel
  Log.format = options.logFormat
  var logFile: ReopenableFile?
  if let path = options.logFile {
    do {
      Log.console = fcntl(2, F_DUPFD_CLOEXEC, 3)
      logFile = try ReopenableFile(path: path, onto: 2)
    } catch {
      Log.error("--log-file: \(error)")
      return 1
    }
  }
  var accessLogFile: ReopenableFile?
  var accessLogSink: AccessLogSink?
  if let path = options.accessLog {
    if path == "-" {
      accessLogSink = AccessLogSink(fd: 1)
    } else {
      do {
        accessLogFile = try ReopenableFile(path: path)
        accessLogSink = AccessLogSink(fd: accessLogFile!.fd)
      } catch {
        Log.error("--access-log: \(error)")
        return 1
      }
    }
  }
  // A front thread per NUMA node by default, pinned to its node's CPUs when there are several
  // nodes (on a single node the scheduler knows best).
  let topology = NumaTopology.current()
  let threads = options.threads ?? topology.nodes.count
  let frontCPUSets = topology.nodes.count > 1 ? topology.nodes.map(\.cpus) : []
  let workerCount = options.inline ? 0 : options.workerCount ?? topology.cpuCount
  let descriptorLimit = DescriptorLimit.raiseSoftLimit()
  guard
    let maxConnections = connectionLimit(
      limit: descriptorLimit, requested: options.maxConnections, threads: threads,
      workers: workerCount)
  else { return 1 }

  let makeHandler: (Int) -> FrontHandler
  let summary: String
  var stopWorkers: () -> Void = {}
  var reload: () -> Void = {}
  var workerMode: WorkerMode?
  if options.inline {
    let body = options.inlineBodyBytes.map { InlineResponder.makeBenchmarkBody(size: $0) }
    makeHandler = { _ in InlineResponder(body: body) }
    summary = "inline"
  } else {
    guard let mode = WorkerMode(options: options, threads: threads) else { return 1 }
    workerMode = mode
    makeHandler = { mode.makeHandler(thread: $0) }
    summary = mode.summary
    stopWorkers = mode.stopWorkers
    reload = mode.reload
  }

  var config = options.frontConfig()
  config.maxConnections = maxConnections
  config.accessLog = accessLogSink.map {
    AccessLogConfig(sink: $0, format: options.accessLogFormat)
  }
  var control: ControlServer?
  // Lets ringstat find this broker (a memfd: nothing is left behind, whatever the exit), and
  // holds each front thread's counters.
  let info: BrokerInfo
  do {
    // The control socket first: a path a live broker holds stops this one before it starts
    // any worker.
    if let workerMode {
      control = try workerMode.openControlServer(
        path: try options.controlPath ?? ControlServer.defaultPath(name: options.name))
    }
    info = try BrokerInfo(
      name: options.name, listen: "\(config.listen)", workerTarget: workerMode?.workerTarget ?? 0,
      controlSocket: control?.path ?? "", frontThreads: threads)
  } catch {
    Log.error("\(error)")
    control?.stop()
    stopWorkers()
    return 1
  }
  let server = FrontServer(
    config: config, threads: threads, cpuSets: frontCPUSets,
    stats: { info.frontStats(thread: $0) }, makeHandler: makeHandler)
  let adminServer = options.admin.map(AdminEndpoint.server(listening:))
  do {
    try server.start()
    info.setListen("\(server.boundAddress)")
    do {
      try adminServer?.start()
    } catch {
      throw AdminStartFailure(error: error)
    }
    var stopsSeen = 0
    try SignalWatcher.watch(BrokerSignals.handled) { signal in
      let (name, action) = BrokerSignals.action(for: signal)
      switch action {
      case .reload:
        reload()
      case .addWorker, .removeWorker:
        guard let workerMode, !info.isDraining else {
          Log.info("\(name) ignored: \(options.inline ? "--inline has no workers" : "stopping")")
          break
        }
        let outcome =
          action == .addWorker
          ? workerMode.addWorker(fitsDescriptors: {
            DescriptorLimit.connectionBudget(
              limit: descriptorLimit, threads: threads, workers: $0) >= maxConnections
          }) : workerMode.removeWorker()
        switch outcome {
        case .changed(let workers):
          info.setWorkerTarget(workers)
          Log.info("\(name): \(workers) worker(s) now")
        case .refused(let why):
          Log.info("\(name) ignored: \(why)")
        }
      case .reopenLogs:
        reopenLogs(logFile, accessLogFile)
      case .stop:
        stopsSeen += 1
        if stopsSeen == 1 {
          Log.info("\(name): stopping")
          info.markDraining()
        }
        server.stop(immediately: stopsSeen > 1)
      case .ignore(let why):
        Log.info("\(name) ignored: \(why)")
      }
    }
    try control?.start()
    if let failure = workerMode?.waitForFirstWorkers(stopRequested: { info.isDraining }) {
      throw StartupFailure(reason: failure)
    }
    workerMode?.allowScaling()
  } catch {
    Log.error("\(error)")
    control?.stop()
    server.stop(immediately: true)
    server.wait()
    adminServer?.stop(immediately: true)
    adminServer?.wait()
    stopWorkers()
    return 1
  }
  // "listening on HOST:PORT" first: scripts and tests take the port from the word after it.
  let controlPart = control.map { ", control socket \($0.path)" } ?? ""
  let adminPart = adminServer.map { ", admin on \($0.boundAddress)" } ?? ""
  Log.announce("listening on \(server.boundAddress) (\(summary))\(controlPart)\(adminPart)")
  server.wait()
  // /healthz says "draining" until the clients' side is done.
  adminServer?.stop(immediately: true)
  adminServer?.wait()
  withExtendedLifetime(info) {}
  control?.stop()
  stopWorkers()
  return 0
}

/// A first worker did not come up: the broker stops with this one line, like an app that fails
/// to load, rather than retrying forever.
private struct StartupFailure: Error, CustomStringConvertible {
  var reason: String
  var description: String { "cannot start: \(reason)" }
}

/// SIGUSR1: every log file opened anew at its path (after logrotate renamed the old one).
private func reopenLogs(_ files: ReopenableFile?...) {
  let open = files.compactMap { $0 }
  if open.isEmpty { Log.info("SIGUSR1: no log file to reopen (see --log-file)") }
  for file in open {
    do {
      try file.reopen()
      Log.info("SIGUSR1: reopened \(file.path)")
    } catch {
      Log.error("SIGUSR1: \(error); still writing to the old file")
    }
  }
}

/// `--max-connections`, lowered to what the open-file limit allows (after raising it); nil,
/// with the reason printed, when the limit leaves too few descriptors to serve at all.
private func connectionLimit(limit: Int, requested: Int, threads: Int, workers: Int) -> Int? {
  let budget = DescriptorLimit.connectionBudget(limit: limit, threads: threads, workers: workers)
  guard budget >= DescriptorLimit.minimumConnections else {
    Log.error(
      "the open-file limit (\(limit)) is too low for \(workers) worker(s); raise it "
        + "with ulimit -n or LimitNOFILE= to at least \(limit - budget + DescriptorLimit.minimumConnections)"
    )
    return nil
  }
  guard budget < requested else { return requested }
  Log.warning(
    "--max-connections lowered from \(requested) to \(budget): the open-file limit is "
      + "\(limit) (raise it with ulimit -n or LimitNOFILE=)")
  return budget
}
