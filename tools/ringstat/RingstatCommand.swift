import ArgumentParser
import Glibc
import RingStatus
import ToolArguments
import ToolSupport

/// The command line: which view, of which broker, how often.
struct RingstatCommand: ToolCommand {
  static let configuration = CommandConfiguration(
    commandName: "ringstat",
    abstract: "Show live RingBroker brokers and their worker rings (read-only).",
    discussion: """
      Without BROKER, lists your running brokers. With a pid or a --name, shows one row per \
      worker channel and a totals row. Channels are mapped read-only (PROT_READ) through \
      /proc/PID/fd; nothing in the broker changes. Other users' brokers are refused unless \
      run as root.

      Latency P50/P99 come from the front's log2 histogram (dispatch to reply, since the worker \
      started) and show the upper bound of the bucket the percentile falls in: "p99 65.5µs" \
      means 99% of replies took less than 65.5 µs. REQ/S is measured over 250 ms, or between \
      refreshes with --watch. STATE is running, sleeping (waiting on its futex), stopped \
      (SIGSTOP), starting, draining, dead, broken, respawning, or stuck (its oldest request, taken \
      or waiting in the ring, has waited longer than --stuck-after).
      """,
    version: ToolVersion.line("ringstat"))

  @Argument(
    help: ArgumentHelp(
      "Broker pid or name (its --name); omit to list brokers.", valueName: "pid|name"))
  var broker: String?

  @Flag(help: "Print JSON instead of a table (fields: tools/ringstat/README.md).")
  var json = false

  @Option(
    name: [.customLong("watch"), .customShort("w")], parsing: .unconditional,
    help: ArgumentHelp(
      "Refresh every SECONDS (default 1 when given without a value) until Ctrl-C.",
      valueName: "seconds"))
  var watch: Double?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("With --watch: stop after N refreshes.", valueName: "n"))
  var count: Int?

  @Flag(
    help:
      "Exit 1 with a one-line reason if a ring is stuck, a channel is broken or a worker is crash-looping; else print \"ok: ...\"."
  )
  var check = false

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seconds without a reply, with requests pending, before a ring counts as stuck.",
      valueName: "seconds"))
  var stuckAfter = 5.0

  /// How far apart the two samples of a one-shot table are, for REQ/S.
  static let rateSampleSeconds = 0.25

  func checkValues() throws {
    if let watch, !(watch > 0) {
      throw ValidationError("--watch needs a positive interval, got '\(watch)'")
    }
    if let count, count < 1 {
      throw ValidationError("--count needs a positive number, got '\(count)'")
    }
    if count != nil && watch == nil { throw ValidationError("--count goes with --watch") }
    if !(stuckAfter >= 0) {
      throw ValidationError(
        "--stuck-after needs a non-negative number of seconds, got '\(stuckAfter)'")
    }
    if check && watch != nil { throw ValidationError("--check and --watch do not go together") }
  }

  func run() throws {
    do {
      try runViews()
    } catch let error as RingstatError {
      fputs("ringstat: \(error)\n", stderr)
      throw ExitCode.failure
    }
  }

  private var stuckAfterNs: UInt64 { UInt64(stuckAfter * 1e9) }

  private func runViews() throws {
    if check {
      let reports =
        try broker.map { [try report(of: BrokerDiscovery.resolve($0), previous: [:])] }
        ?? listReports()
      let verdict = HealthCheck.evaluate(reports, stuckAfterNs: stuckAfterNs)
      print(verdict.line)
      if !verdict.healthy { throw ExitCode.failure }
      return
    }
    guard let broker else {
      try repeatOrOnce {
        json ? JSONView.brokerList(listReports()) : TableView.brokerList(listReports())
      }
      return
    }
    // Resolve once: later refreshes follow this pid even if another broker takes the name.
    let pid = try BrokerDiscovery.resolve(broker).pid
    var previous: [ChannelKey: ChannelSample] = [:]
    var firstWatchFrame = watch != nil
    if watch == nil {
      previous = try report(of: BrokerDiscovery.resolve(String(pid)), previous: [:]).samplesByKey
      usleep(UInt32(Self.rateSampleSeconds * 1_000_000))
    }
    try repeatOrOnce {
      guard let found = try? BrokerDiscovery.broker(pid: pid) else {
        throw RingstatError("broker \(pid) is gone")
      }
      if firstWatchFrame {
        firstWatchFrame = false
        // First frame of a watch: a short first interval so REQ/S shows from the start.
        previous = report(of: found, previous: [:]).samplesByKey
        usleep(UInt32(Self.rateSampleSeconds * 1_000_000))
      }
      let current = report(of: found, previous: previous)
      previous = current.samplesByKey
      return json ? JSONView.broker(current) : TableView.broker(current)
    }
  }

  private func report(of broker: DiscoveredBroker, previous: [ChannelKey: ChannelSample])
    -> BrokerReport
  {
    BrokerReport.take(broker, previous: previous, stuckAfterNs: stuckAfterNs)
  }

  private func listReports() -> [BrokerReport] {
    BrokerDiscovery.all().map { report(of: $0, previous: [:]) }
  }

  /// One frame printed plainly, or a refreshing view with --watch.
  private func repeatOrOnce(_ frame: () throws -> String) throws {
    guard let watch else {
      print(try frame(), terminator: "")
      return
    }
    try WatchLoop(intervalSeconds: watch, count: count).run { try frame() }
  }
}
