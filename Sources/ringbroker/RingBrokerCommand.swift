import ArgumentParser
import BrokerLog
import Glibc
import RingChannel
import RingFront
import ToolArguments
import ToolSupport

/// The command line. Parsing and checking values only; `runBroker` (or `testConfiguration`
/// for -t) does the work. Every option takes the next argument as its value, even one that
/// starts with "-" (as getopt does): `--workers -1` is a bad count, not a missing one.
struct RingBrokerCommand: ToolCommand {
  static let configuration = CommandConfiguration(
    commandName: "ringbroker",
    abstract:
      "HTTP/1.1 request broker: an io_uring front hands requests to worker processes through shared memory.",
    version: ToolVersion.line("ringbroker")
  )

  @Flag(
    name: [.customShort("t"), .customLong("test")],
    help:
      "Check what the broker would start with (listen address, app or worker command, control socket, log file), print one line per problem, and exit: 0 when all is well, else 1."
  )
  var test = false

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Address to listen on (IPv6 in brackets; port 0 picks a free port).", valueName: "host:port"))
  var listen = "127.0.0.1:8080"

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Front threads, each with its own io_uring and SO_REUSEPORT socket (default: one per NUMA node).",
      valueName: "n"))
  var threads: Int?

  @Argument(
    help: ArgumentHelp(
      "The Lua app each worker runs (ringworker-lua APP), unless --worker is given.",
      valueName: "app.lua"))
  var app: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Worker processes to keep alive (default: one per CPU); each has a channel of \(RingBrokerCommand.channelMiB) MiB of shared memory, allocated once, and a stream window of \(RingBrokerCommand.streamWindowMiB) MiB that only replies larger than a slot touch.",
      valueName: "n"))
  var workers: Int?

  /// Shared memory per worker, from the layout itself, so the help never goes stale.
  private static let channelMiB = mebibytes((try? ChannelLayout(.standard).streamWindowOffset) ?? 0)
  private static let streamWindowMiB = mebibytes(ChannelParameters.standard.streamWindowSize)

  private static func mebibytes(_ bytes: Int) -> String {
    String(Double(bytes * 100 / (1 << 20)) / 100)
  }

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Command line of a custom worker binary (linked with libringworker), run by /bin/sh; replaces the Lua worker.",
      valueName: "command"))
  var worker: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seconds a request may wait in the front for a free worker before it gets 503.",
      valueName: "seconds"))
  var queueTimeout = 5.0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seconds a worker may take to answer; then the client gets 504 and the worker is replaced (0: no limit).",
      valueName: "seconds"))
  var timeout = 60.0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Replace a worker by a fresh one after it served this many requests, plus up to 10% (0: never); no request fails.",
      valueName: "n"))
  var maxRequests = 0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Control socket where workers started by hand attach (RINGWORKER_ENDPOINT=PATH); mode 0600, same user only (default: $XDG_RUNTIME_DIR/ringbroker/NAME.sock, /run/ringbroker/NAME.sock for root).",
      valueName: "path"))
  var control: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Requests one worker may hold at once; more wait in the front. Those it has not begun move to another worker when it stalls (see --stall-timeout).",
      valueName: "n"))
  var workerDepth = 64

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seconds a worker may hold requests without answering any before it counts as stalled: it gets no new requests, and those waiting in its ring that it has not begun move to another worker.",
      valueName: "seconds"))
  var stallTimeout = 0.005

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seconds a started worker has to attach to its channel; a first worker that does not stops the broker (exit 1), a later one is killed and started again.",
      valueName: "seconds"))
  var attachTimeout = 10.0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Name shown by ringstat (ringstat NAME finds the broker by it).", valueName: "name"))
  var name = "ringbroker"

  @Flag(
    help:
      "Answer every request in the front with 200 \"hello world\" (no workers): the baseline for benchmarks."
  )
  var inline = false

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seconds a client has to send a complete request head before it gets 408.",
      valueName: "seconds"))
  var headerTimeout = 10.0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seconds a request body may go without a byte arriving before the client gets 408 (a slow upload that keeps coming is never cut off).",
      valueName: "seconds"))
  var bodyTimeout = 10.0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Seconds an idle keep-alive connection stays open.", valueName: "seconds"))
  var idleTimeout = 60.0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Largest request body in bytes (0: no limit); a declared larger one gets 413 before any "
        + "of it reaches a worker, a chunked one that grows larger gets 413 and its connection "
        + "closes. Bodies too large for a worker's slot stream through it as they arrive, so "
        + "front memory per upload stays bounded whatever the size.",
      valueName: "bytes"))
  var maxBody = 100 << 20

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seconds a stop (SIGTERM/SIGINT) waits for in-flight requests before closing everything.",
      valueName: "seconds"))
  var drainTimeout = 10.0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Open connections at most (shared by the front threads, lowered to what the open-file limit allows); at the limit the oldest idle one is closed to admit a new one, else the new one is.",
      valueName: "n"))
  var maxConnections = 10_000

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Replies with at least this many body bytes are sent with SENDMSG_ZC (0: never).",
      valueName: "bytes"))
  var zeroCopyThreshold = FrontConfig.defaultZeroCopyThreshold

  @Flag(
    help: ArgumentHelp(
      "Benchmarks: SENDMSG_ZC for clients on this host too (by default only remote clients get it; locally it halves throughput)."
    ))
  var zeroCopyLocalClients = false

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "With --inline: reply with a body of this many bytes instead of \"hello world\" (benchmarks).",
      valueName: "bytes"))
  var inlineBodySize: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Serve /metrics (Prometheus), /status (JSON) and /healthz on this address (or unix socket, mode 0660), apart from the clients' listener (off by default).",
      valueName: "host:port|unix:path"))
  var admin: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Least severe broker log lines kept: debug, info, warn or error.", valueName: "level"))
  var logLevel = "info"

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Broker log lines as text (\"TIME LEVEL ringbroker[PID]: message\") or json (one object a line).",
      valueName: "text|json"))
  var logFormat = "text"

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Append the broker's log (and what workers write to stderr) to this file instead of stderr; SIGUSR1 reopens it.",
      valueName: "path"))
  var logFile: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Append a line per request to this file (- for stdout), through a buffer per front thread flushed at least every 100 ms; SIGUSR1 reopens it (default: no access log).",
      valueName: "path|-"))
  var accessLog: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Access log lines as nginx's combined format plus rid=, worker= and upstream= fields, or json (one object a line).",
      valueName: "combined|json"))
  var accessLogFormat = "combined"

  func checkValues() throws {
    guard LogLevel(name: logLevel) != nil else {
      throw ValidationError("--log-level must be debug, info, warn or error, got '\(logLevel)'")
    }
    guard LogFormat(rawValue: logFormat) != nil else {
      throw ValidationError("--log-format must be text or json, got '\(logFormat)'")
    }
    if let worker {
      try require(!worker.allSatisfy(\.isWhitespace), "--worker", "a command line", worker)
    }
    if let workers {
      try require((0...4096).contains(workers), "--workers", "between 0 and 4096", workers)
    }
    try require(
      timeout >= 0 && timeout <= 86_400, "--timeout", "between 0 and 86400 seconds", timeout)
    try require(maxRequests >= 0, "--max-requests", "0 or more", maxRequests)
    try require(
      (1...1024).contains(workerDepth), "--worker-depth", "between 1 and 1024", workerDepth)
    for (option, value) in [("--stall-timeout", stallTimeout), ("--queue-timeout", queueTimeout)] {
      try require(
        value > 0 && value <= 3600, option, "between 0 and 3600 seconds (0 excluded)", value)
    }
    guard ListenAddress(parsing: listen) != nil else {
      throw ValidationError("--listen expects HOST:PORT, got '\(listen)'")
    }
    if let admin, ListenAddress(parsing: admin, allowUnix: true) == nil {
      throw ValidationError("--admin expects HOST:PORT or unix:PATH, got '\(admin)'")
    }
    if let threads {
      try require((1...256).contains(threads), "--threads", "between 1 and 256", threads)
    }
    try require(
      !name.isEmpty && !name.contains("/"), "--name",
      "a name without '/' (the control socket is NAME.sock)", name)
    if let control { try require(!control.isEmpty, "--control", "a path", control) }
    if let logFile { try require(!logFile.isEmpty, "--log-file", "a path", logFile) }
    for (option, value) in [
      ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
      ("--idle-timeout", idleTimeout),
      ("--drain-timeout", drainTimeout), ("--attach-timeout", attachTimeout),
    ] {
      try require(
        value > 0 && value <= 86_400, option, "between 0 and 86400 seconds (0 excluded)", value)
    }
    try require(maxBody >= 0, "--max-body", "0 (no limit) or a number of bytes", maxBody)
    try require(
      (1...1_000_000).contains(maxConnections), "--max-connections", "between 1 and 1000000",
      maxConnections)
    try require(
      zeroCopyThreshold >= 0, "--zero-copy-threshold", "0 or more bytes", zeroCopyThreshold)
    if let size = inlineBodySize {
      guard inline else { throw ValidationError("--inline-body-size needs --inline") }
      try require(
        (0...(1 << 30)).contains(size), "--inline-body-size", "between 0 and 1073741824", size)
    }
    // What to serve last: a bad value is named even when the app is missing too.
    guard AccessLogFormat(rawValue: accessLogFormat) != nil else {
      throw ValidationError(
        "--access-log-format must be combined or json, got '\(accessLogFormat)'")
    }
    if let accessLog { try require(!accessLog.isEmpty, "--access-log", "a path or -", accessLog) }
    if !inline {
      guard app != nil || worker != nil || workers == 0 else {
        throw ValidationError(
          "no app: give APP.lua, or --worker COMMAND, or --inline (or --workers 0 to serve attached workers only)"
        )
      }
      guard app == nil || worker == nil else {
        throw ValidationError("give either APP.lua or --worker, not both")
      }
      if let app, access(app, R_OK) != 0 {
        throw ValidationError("cannot read app '\(app)': \(String(cString: strerror(errno)))")
      }
    }
  }

  /// "OPTION must be WHAT, got 'VALUE'" unless `valid`.
  private func require(_ valid: Bool, _ option: String, _ what: String, _ value: Any) throws {
    guard !valid else { return }
    var shown = "\(value)"
    if let number = value as? Double, number.rounded() == number, abs(number) < 1e15 {
      shown = String(Int(number))
    }
    throw ValidationError("\(option) must be \(what), got '\(shown)'")
  }

  var options: BrokerOptions {
    BrokerOptions(
      listen: ListenAddress(parsing: listen)!,
      threads: threads,
      inline: inline,
      headerTimeoutSeconds: headerTimeout,
      bodyTimeoutSeconds: bodyTimeout,
      idleTimeoutSeconds: idleTimeout,
      drainTimeoutSeconds: drainTimeout,
      maxBodyBytes: maxBody,
      maxConnections: maxConnections,
      inlineBodyBytes: inlineBodySize,
      zeroCopyThreshold: zeroCopyThreshold,
      zeroCopyForLocalClients: zeroCopyLocalClients,
      app: app,
      workerCommand: worker,
      workerCount: workers,
      queueTimeoutSeconds: queueTimeout,
      name: name,
      workerDepth: workerDepth,
      stallTimeoutSeconds: stallTimeout,
      attachTimeoutSeconds: attachTimeout,
      requestTimeoutSeconds: timeout,
      maxRequestsPerWorker: maxRequests,
      controlPath: control,
      admin: admin.flatMap { ListenAddress(parsing: $0, allowUnix: true) },
      logLevel: LogLevel(name: logLevel)!,
      logFormat: LogFormat(rawValue: logFormat)!,
      logFile: logFile,
      accessLog: accessLog,
      accessLogFormat: AccessLogFormat(rawValue: accessLogFormat)!)
  }
}
