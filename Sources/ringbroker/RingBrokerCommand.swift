import ArgumentParser
import BrokerLog
import Glibc
import RingChannel
import RingFront

/// The command line. Parsing and validation only; `runBroker` does the work.
struct RingBrokerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ringbroker",
    abstract:
      "HTTP/1.1 request broker: an io_uring front hands requests to worker processes through shared memory."
  )

  @Option(
    help: ArgumentHelp(
      "Address to listen on (IPv6 in brackets; port 0 picks a free port).", valueName: "host:port"))
  var listen = "127.0.0.1:8080"

  @Option(
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
    help: ArgumentHelp(
      "Worker processes to keep alive (default: one per CPU); each has a channel of \(RingBrokerCommand.channelMiB) MiB of shared memory, allocated once.",
      valueName: "n"))
  var workers: Int?

  /// Shared memory per worker, from the layout itself, so the help never goes stale.
  private static let channelMiB: String = {
    let bytes = (try? ChannelLayout(.standard).segmentSize) ?? 0
    return String(Double(bytes * 100 / (1 << 20)) / 100)
  }()

  @Option(
    help: ArgumentHelp(
      "Command line of a custom worker binary (linked with libringworker), run by /bin/sh; replaces the Lua worker.",
      valueName: "command"))
  var worker: String?

  @Option(
    help: ArgumentHelp(
      "Seconds a request may wait in the front for a free worker before it gets 503.",
      valueName: "seconds"))
  var queueTimeout = 5.0

  @Option(
    help: ArgumentHelp(
      "Seconds a worker may take to answer; then the client gets 504 and the worker is replaced (0: no limit).",
      valueName: "seconds"))
  var timeout = 60.0

  @Option(
    help: ArgumentHelp(
      "Replace a worker by a fresh one after it served this many requests, plus up to 10% (0: never); no request fails.",
      valueName: "n"))
  var maxRequests = 0

  @Option(
    help: ArgumentHelp(
      "Control socket where workers started by hand attach (RINGWORKER_ENDPOINT=PATH); mode 0600, same user only (default: $XDG_RUNTIME_DIR/ringbroker/NAME.sock, /run/ringbroker/NAME.sock for root).",
      valueName: "path"))
  var control: String?

  @Option(
    help: ArgumentHelp(
      "Requests one worker may hold at once; more wait in the front. Those it has not begun move to another worker when it stalls (see --stall-timeout).",
      valueName: "n"))
  var workerDepth = 64

  @Option(
    help: ArgumentHelp(
      "Seconds a worker may hold requests without answering any before it counts as stalled: it gets no new requests, and those waiting in its ring that it has not begun move to another worker.",
      valueName: "seconds"))
  var stallTimeout = 0.005

  @Option(
    help: ArgumentHelp(
      "Name shown by ringstat (ringstat NAME finds the broker by it).", valueName: "name"))
  var name = "ringbroker"

  @Flag(
    help:
      "Answer every request in the front with 200 \"hello world\" (no workers): the baseline for benchmarks."
  )
  var inline = false

  @Option(
    help: ArgumentHelp(
      "Seconds a client has to send a complete request head before it gets 408.",
      valueName: "seconds"))
  var headerTimeout = 10.0

  @Option(
    help: ArgumentHelp(
      "Seconds a request body may go without a byte arriving before the client gets 408 (a slow upload that keeps coming is never cut off).",
      valueName: "seconds"))
  var bodyTimeout = 10.0

  @Option(
    help: ArgumentHelp("Seconds an idle keep-alive connection stays open.", valueName: "seconds"))
  var idleTimeout = 60.0

  @Option(
    help: ArgumentHelp(
      "Largest request body in bytes (0: no limit); a declared larger one gets 413 before any "
        + "of it reaches a worker, a chunked one that grows larger gets 413 and its connection "
        + "closes. Bodies too large for a worker's slot stream through it as they arrive, so "
        + "front memory per upload stays bounded whatever the size.",
      valueName: "bytes"))
  var maxBody = 100 << 20

  @Option(
    help: ArgumentHelp(
      "Seconds a stop (SIGTERM/SIGINT) waits for in-flight requests before closing everything.",
      valueName: "seconds"))
  var drainTimeout = 10.0

  @Option(
    help: ArgumentHelp(
      "Open connections at most (shared by the front threads, lowered to what the open-file limit allows); at the limit the oldest idle one is closed to admit a new one, else the new one is.",
      valueName: "n"))
  var maxConnections = 10_000

  @Option(
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
    help: ArgumentHelp(
      "With --inline: reply with a body of this many bytes instead of \"hello world\" (benchmarks).",
      valueName: "bytes"))
  var inlineBodySize: Int?

  @Option(
    help: ArgumentHelp(
      "Least severe broker log lines kept: debug, info, warn or error.", valueName: "level"))
  var logLevel = "info"

  @Option(
    help: ArgumentHelp(
      "Broker log lines as text (\"TIME LEVEL ringbroker[PID]: message\") or json (one object a line).",
      valueName: "text|json"))
  var logFormat = "text"

  @Option(
    help: ArgumentHelp(
      "Append the broker's log (and what workers write to stderr) to this file instead of stderr; SIGUSR1 reopens it.",
      valueName: "path"))
  var logFile: String?

  @Option(
    help: ArgumentHelp(
      "Append a line per request to this file (- for stdout), through a buffer per front thread flushed at least every 100 ms; SIGUSR1 reopens it (default: no access log).",
      valueName: "path|-"))
  var accessLog: String?

  @Option(
    help: ArgumentHelp(
      "Access log lines as nginx's combined format plus rid=, worker= and upstream= fields, or json (one object a line).",
      valueName: "combined|json"))
  var accessLogFormat = "combined"

  func validate() throws {
    guard LogLevel(name: logLevel) != nil else {
      throw ValidationError("--log-level must be debug, info, warn or error, got '\(logLevel)'")
    }
    guard LogFormat(rawValue: logFormat) != nil else {
      throw ValidationError("--log-format must be text or json, got '\(logFormat)'")
    }
    guard AccessLogFormat(rawValue: accessLogFormat) != nil else {
      throw ValidationError(
        "--access-log-format must be combined or json, got '\(accessLogFormat)'")
    }
    if !inline {
      guard app != nil || worker != nil || workers == 0 else {
        throw ValidationError(
          "no app: give APP.lua, or --worker COMMAND, or --inline (or --workers 0 to serve attached workers only)"
        )
      }
      guard app == nil || worker == nil else {
        throw ValidationError("give either APP.lua or --worker, not both")
      }
      if let app, access(app, R_OK) != 0 { throw ValidationError("cannot read app '\(app)'") }
    }
    if let workers, !(0...4096).contains(workers) {
      throw ValidationError("--workers must be between 0 and 4096")
    }
    guard timeout >= 0, timeout <= 86_400 else {
      throw ValidationError("--timeout must be between 0 and 86400 seconds")
    }
    guard maxRequests >= 0 else { throw ValidationError("--max-requests must not be negative") }
    guard (1...1024).contains(workerDepth) else {
      throw ValidationError("--worker-depth must be between 1 and 1024")
    }
    guard stallTimeout > 0, stallTimeout <= 3600 else {
      throw ValidationError("--stall-timeout must be between 0 and 3600 seconds")
    }
    guard queueTimeout > 0, queueTimeout <= 3600 else {
      throw ValidationError("--queue-timeout must be between 0 and 3600 seconds")
    }
    guard ListenAddress(parsing: listen) != nil else {
      throw ValidationError("--listen expects HOST:PORT, got '\(listen)'")
    }
    if let threads, !(1...256).contains(threads) {
      throw ValidationError("--threads must be between 1 and 256")
    }
    for (name, value) in [
      ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
      ("--idle-timeout", idleTimeout),
      ("--drain-timeout", drainTimeout),
    ] {
      guard value > 0, value <= 86_400 else {
        throw ValidationError("\(name) must be between 0 and 86400 seconds")
      }
    }
    guard maxBody >= 0 else {
      throw ValidationError("--max-body must be 0 (no limit) or a positive number of bytes")
    }
    guard maxConnections >= 1, maxConnections <= 1_000_000 else {
      throw ValidationError("--max-connections must be between 1 and 1000000")
    }
    guard zeroCopyThreshold >= 0 else {
      throw ValidationError("--zero-copy-threshold must not be negative")
    }
    if let size = inlineBodySize {
      guard inline else { throw ValidationError("--inline-body-size needs --inline") }
      guard size >= 0, size <= 1 << 30 else {
        throw ValidationError("--inline-body-size must be between 0 and 1073741824")
      }
    }
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
      requestTimeoutSeconds: timeout,
      maxRequestsPerWorker: maxRequests,
      controlPath: control,
      logLevel: LogLevel(name: logLevel)!,
      logFormat: LogFormat(rawValue: logFormat)!,
      logFile: logFile,
      accessLog: accessLog,
      accessLogFormat: AccessLogFormat(rawValue: accessLogFormat)!)
  }
}
