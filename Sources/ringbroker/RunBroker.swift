import Glibc
import RingChannel
import RingFront

/// Starts the broker described by `options` and returns the process exit code once it stopped.
///
/// Shape for the modes to come: pick the handler factory (inline, or a dispatcher over worker
/// channels), start the front, print the ready line, wait for a termination signal.
func runBroker(_ options: BrokerOptions) -> Int32 {
  let signals = [SIGTERM, SIGINT, SIGHUP]
  TerminationSignals.block(signals)
  // A front thread per NUMA node by default, pinned to its node's CPUs when there are several
  // nodes (on a single node the scheduler knows best).
  let topology = NumaTopology.current()
  let threads = options.threads ?? topology.nodes.count
  let frontCPUSets = topology.nodes.count > 1 ? topology.nodes.map(\.cpus) : []

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

  let server = FrontServer(
    config: options.frontConfig(), threads: threads, cpuSets: frontCPUSets,
    makeHandler: makeHandler)
  var control: ControlServer?
  do {
    try server.start()
    // SIGHUP: rolling reload of the workers. SIGTERM/SIGINT: drain; a second one: close
    // everything now.
    var signalsSeen = 0
    try TerminationSignals.watch(signals) { signal in
      if signal == SIGHUP {
        reload()
        return
      }
      signalsSeen += 1
      server.stop(immediately: signalsSeen > 1)
    }
    if let workerMode {
      control = try workerMode.startControlServer(
        path: options.controlPath ?? ControlServer.defaultPath(name: options.name))
    }
  } catch {
    fputs("ringbroker: \(error)\n", stderr)
    server.stop(immediately: true)
    server.wait()
    stopWorkers()
    return 1
  }
  // Lets ringstat find this broker (a memfd: nothing is left behind, whatever the exit).
  let info = try? BrokerInfo(
    name: options.name, listen: "\(server.boundAddress)", workerTarget: options.workerCount ?? 0,
    controlSocket: control?.path ?? "")
  fputs("ringbroker listening on \(server.boundAddress) (\(summary))\n", stderr)
  server.wait()
  withExtendedLifetime(info) {}
  withExtendedLifetime(control) {}
  stopWorkers()
  return 0
}
