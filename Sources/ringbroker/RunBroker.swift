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
  guard
    let maxConnections = connectionLimit(
      requested: options.maxConnections, threads: threads, workers: workerCount)
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
  let server = FrontServer(
    config: config, threads: threads, cpuSets: frontCPUSets, makeHandler: makeHandler)
  var control: ControlServer?
  do {
    // The control socket first: a path a live broker holds stops this one before it starts
    // any worker.
    if let workerMode {
      control = try workerMode.openControlServer(
        path: try options.controlPath ?? ControlServer.defaultPath(name: options.name))
    }
    try server.start()
    var stopsSeen = 0
    try SignalWatcher.watch(BrokerSignals.handled) { signal in
      let (name, action) = BrokerSignals.action(for: signal)
      switch action {
      case .reload:
        reload()
      case .reopenLogs:
        reopenLogs(logFile, accessLogFile)
      case .stop:
        stopsSeen += 1
        if stopsSeen == 1 { Log.info("\(name): stopping") }
        server.stop(immediately: stopsSeen > 1)
      case .ignore(let why):
        Log.info("\(name) ignored: \(why)")
      }
    }
    try control?.start()
  } catch {
    Log.error("\(error)")
    control?.stop()
    server.stop(immediately: true)
    server.wait()
    stopWorkers()
    return 1
  }
  // Lets ringstat find this broker (a memfd: nothing is left behind, whatever the exit).
  let info = try? BrokerInfo(
    name: options.name, listen: "\(server.boundAddress)", workerTarget: options.workerCount ?? 0,
    controlSocket: control?.path ?? "")
  Log.info("listening on \(server.boundAddress) (\(summary))")
  server.wait()
  withExtendedLifetime(info) {}
  control?.stop()
  stopWorkers()
  return 0
}

/// SIGUSR1: every log file opened anew at its path (after logrotate renamed the old one).
private func reopenLogs(_ files: ReopenableFile?...) {
  for file in files.compactMap({ $0 }) {
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
private func connectionLimit(requested: Int, threads: Int, workers: Int) -> Int? {
  let limit = DescriptorLimit.raiseSoftLimit()
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
