import HTTP1

/// Everything a front loop needs to know besides its handler. Times are nanoseconds.
public struct FrontConfig {
  public var listen: ListenAddress
  public var limits: HTTPLimits
  /// A client that began a request (or connected) must finish its head within this, else 408.
  public var headerTimeoutNs: UInt64
  /// A request body must make progress (bytes arrive) at least this often, else 408.
  public var bodyTimeoutNs: UInt64
  /// An idle keep-alive connection is closed silently after this. Also bounds a stalled send.
  public var idleTimeoutNs: UInt64
  /// After stop(): how long in-flight requests may take before the loop quits anyway.
  public var drainTimeoutNs: UInt64
  /// After the last reply of a closing connection: how long to read and discard what the client
  /// still sends, so the kernel does not answer unread data with a reset that destroys the reply.
  public var lingerTimeoutNs: UInt64
  /// Open connections; an accepted connection beyond this is closed at once. For the whole
  /// server: FrontServer gives each loop its share (SO_REUSEPORT spreads clients evenly).
  public var maxConnections: Int
  /// Replies whose body bytes in one send reach this go out with SENDMSG_ZC.
  public var zeroCopyThreshold: Int
  /// Zero-copy also for clients on this host (benchmarks only: it halves throughput there).
  public var zeroCopyForLocalClients: Bool
  /// Upper bound of one wait in io_uring, so timers and `poll` run even when nothing happens.
  public var tickNs: UInt64
  /// Submission queue entries per ring; the completion queue gets four times as many.
  public var ringEntries: UInt32
  public var listenBacklog: Int32
  /// Where each request's access log line goes, and in which format; nil: no access log.
  public var accessLog: AccessLogConfig? = nil

  /// Measured with bench/zero-copy-threshold.sh (wrk, 50 connections, 1 front thread, loopback,
  /// 2 vCPUs shared with other builds, kernel 6.18), copy vs SENDMSG_ZC, median req/s:
  ///   64 KiB body: copy 26,400 vs zero-copy 12,500; under load 17,400 vs 8,100
  ///    1 MiB body: copy  2,400 vs zero-copy  1,100; under load    990 vs   560
  /// Zero-copy halves throughput on loopback: the kernel copies zero-copy pages anyway when it
  /// delivers them to a local socket, so pinning and the notification are pure cost. Hence
  /// clients on this host never get it (PeerLocality), and for remote clients the threshold
  /// stays at 16 KiB, where pinning usually gets cheaper than copying on a real NIC (not
  /// measurable on this machine: re-run the script from another host before relying on it).
  /// A client in another network namespace over a veth pair (REMOTE=1, 2026-12-01, wrk -c50,
  /// 3 alternating rounds, median req/s copy vs zero-copy): 16 KiB 115,900 vs 91,000; 64 KiB
  /// 45,100 vs 33,600; 1 MiB 4,920 vs 3,500. Zero-copy loses 21-29% there as on loopback: a
  /// veth peer is delivered locally, so its pages are copied anyway. Clients in containers on
  /// the broker's host are such peers; give them --zero-copy-threshold 0.
  public static let defaultZeroCopyThreshold = 16 * 1024

  public init(
    listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 8080),
    limits: HTTPLimits = HTTPLimits(),
    headerTimeoutNs: UInt64 = 10 * 1_000_000_000,
    bodyTimeoutNs: UInt64 = 10 * 1_000_000_000,
    idleTimeoutNs: UInt64 = 60 * 1_000_000_000,
    drainTimeoutNs: UInt64 = 10 * 1_000_000_000,
    lingerTimeoutNs: UInt64 = 2 * 1_000_000_000,
    maxConnections: Int = 10_000,
    zeroCopyThreshold: Int = FrontConfig.defaultZeroCopyThreshold,
    zeroCopyForLocalClients: Bool = false,
    tickNs: UInt64 = 50_000_000,
    ringEntries: UInt32 = 4096,
    listenBacklog: Int32 = 4096
  ) {
    self.listen = listen
    self.limits = limits
    self.headerTimeoutNs = headerTimeoutNs
    self.bodyTimeoutNs = bodyTimeoutNs
    self.idleTimeoutNs = idleTimeoutNs
    self.drainTimeoutNs = drainTimeoutNs
    self.lingerTimeoutNs = lingerTimeoutNs
    self.maxConnections = maxConnections
    self.zeroCopyThreshold = zeroCopyThreshold
    self.zeroCopyForLocalClients = zeroCopyForLocalClients
    self.tickNs = min(tickNs, 50_000_000)
    self.ringEntries = ringEntries
    self.listenBacklog = listenBacklog
  }
}
