import BrokerLog
import RingFront

/// What the command line asked for, independent of how it was parsed: `runBroker` takes this.
struct BrokerOptions {
  var listen = ListenAddress(host: "127.0.0.1", port: 8080)
  /// Front threads; nil means one per NUMA node.
  var threads: Int?
  /// Answer every request in the front (no workers): the baseline for the worker hop.
  var inline = false
  var headerTimeoutSeconds = 10.0
  var bodyTimeoutSeconds = 10.0
  var idleTimeoutSeconds = 60.0
  var drainTimeoutSeconds = 10.0
  /// 0: no limit.
  var maxBodyBytes = 100 << 20
  var maxConnections = 10_000
  /// Benchmarks only: the inline reply body size instead of "hello world\n".
  var inlineBodyBytes: Int?
  var zeroCopyThreshold = FrontConfig.defaultZeroCopyThreshold
  var zeroCopyForLocalClients = false
  /// The Lua app (worker mode), or a custom worker command line.
  var app: String?
  var workerCommand: String?
  /// Workers to keep alive; nil means one per CPU.
  var workerCount: Int?
  var queueTimeoutSeconds = 5.0
  /// How ringstat and the logs call this broker.
  var name = "ringbroker"
  /// Requests one worker may hold at once.
  var workerDepth = 64
  /// Seconds without a reply after which a worker holding requests counts as stalled.
  var stallTimeoutSeconds = 0.005
  /// Seconds a started worker has to attach.
  var attachTimeoutSeconds = 10.0
  /// Seconds a worker may take per request (0: no limit).
  var requestTimeoutSeconds = 60.0
  /// Replies after which a worker is replaced by a fresh one (0: never).
  var maxRequestsPerWorker = 0
  /// The control socket's path; nil: the default for the broker's name.
  var controlPath: String?
  /// Where /metrics, /status and /healthz are served; nil: nowhere.
  var admin: ListenAddress?
  var logLevel = LogLevel.info
  var logFormat = LogFormat.text
  /// Where the broker log goes instead of stderr (reopened on SIGUSR1); nil: stderr.
  var logFile: String?
  /// Where each request's access log line goes (reopened on SIGUSR1); "-": stdout; nil: none.
  var accessLog: String?
  var accessLogFormat = AccessLogFormat.combined

  func frontConfig() -> FrontConfig {
    var config = FrontConfig(
      listen: listen,
      headerTimeoutNs: Self.nanoseconds(headerTimeoutSeconds),
      bodyTimeoutNs: Self.nanoseconds(bodyTimeoutSeconds),
      idleTimeoutNs: Self.nanoseconds(idleTimeoutSeconds),
      drainTimeoutNs: Self.nanoseconds(drainTimeoutSeconds),
      maxConnections: maxConnections,
      zeroCopyThreshold: zeroCopyThreshold,
      zeroCopyForLocalClients: zeroCopyForLocalClients)
    config.limits.maxBodyLength = maxBodyBytes == 0 ? Int.max : maxBodyBytes
    return config
  }

  private static func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(seconds * 1_000_000_000) }
}
