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
  let placement = FrontPlacement.detect()
  let threads = options.threads ?? placement.nodeCount

  let makeHandler: (Int) -> FrontHandler
  let mode: String
  var stopWorkers: () -> Void = {}
  var reload: () -> Void = {}
  if options.inline {
    let body = options.inlineBodyBytes.map { InlineResponder.makeBenchmarkBody(size: $0) }
    makeHandler = { _ in InlineResponder(body: body) }
    mode = "inline"
  } else {
    guard let workerMode = WorkerMode(options: options, threads: threads) else { return 1 }
    makeHandler = { workerMode.makeHandler(thread: $0) }
    mode = workerMode.summary
    stopWorkers = workerMode.stopWorkers
    reload = workerMode.reload
  }

  let server = FrontServer(
    config: options.frontConfig(), threads: threads, cpuSets: placement.frontCPUSets,
    makeHandler: makeHandler)
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
  } catch {
    fputs("ringbroker: \(error)\n", stderr)
    server.stop(immediately: true)
    server.wait()
    stopWorkers()
    return 1
  }
  // Lets ringstat find this broker (a memfd: nothing is left behind, whatever the exit).
  let info = try? BrokerInfo(
    name: options.name, listen: "\(server.boundAddress)", workerTarget: options.workerCount ?? 0)
  fputs("ringbroker listening on \(server.boundAddress) (\(mode))\n", stderr)
  server.wait()
  withExtendedLifetime(info) {}
  stopWorkers()
  return 0
}
