import Glibc
import HTTP1
import RingFront
import RingStatus

/// The admin endpoint's handler (`--admin`): answers in its own front loop, apart from the
/// public listener, without touching any worker.
///   GET /metrics   Prometheus text exposition (MetricsExposition)
///   GET /status    the JSON `ringstat --json NAME` prints (RingStatus.JSONView)
///   GET /healthz   200 while a worker serves, 503 while draining or with none (HealthCheck)
/// Each answer is rendered from a fresh BrokerReport of this very process. Control plane: a
/// reply's body is malloc'ed and freed once sent.
public final class AdminResponder: FrontHandler {
  /// The broker's current report; nil when its info cannot be read (never, short of a bug).
  private let report: () -> BrokerReport?
  private let stuckAfterNs: UInt64
  /// A report serves every request for this long: reading /proc and mapping every channel per
  /// request would let a client in a loop keep a core busy.
  static let reportLifetimeNs: UInt64 = 250_000_000
  private var cached: (report: BrokerReport, takenAt: UInt64)?

  public init(stuckAfterNs: UInt64 = 1_000_000_000, report: @escaping () -> BrokerReport?) {
    self.report = report
    self.stuckAfterNs = stuckAfterNs
  }

  /// This process's report, found through /proc/self like ringstat finds any broker.
  public static func ownReport(stuckAfterNs: UInt64) -> BrokerReport? {
    guard let broker = try? BrokerDiscovery.broker(pid: getpid()) else { return nil }
    return BrokerReport.take(broker, previous: [:], stuckAfterNs: stuckAfterNs)
  }

  public func handle(_ request: IncomingRequest, ticket: ReplyTicket, loop: FrontLoop) {
    let method = Self.text(request.head, request.parsed.method)
    let path = Self.text(request.head, request.parsed.path)
    guard method == "GET" || method == "HEAD" else {
      loop.replyError(
        ticket, status: 405, body: "the admin endpoint only answers GET\n",
        extraHeaders: "Allow: GET, HEAD\r\n")
      return
    }
    guard ["/metrics", "/status", "/healthz"].contains(path) else {
      loop.replyError(ticket, status: 404, body: "not found: try /metrics, /status or /healthz\n")
      return
    }
    if cached == nil || loop.now &- cached!.takenAt >= Self.reportLifetimeNs {
      cached = report().map { ($0, loop.now) }
    }
    guard let report = cached?.report else {
      loop.replyError(ticket, status: 500, body: "cannot read the broker's own state\n")
      return
    }
    switch path {
    case "/metrics":
      send(MetricsExposition.render(report), type: PrometheusText.contentType, to: ticket, loop)
    case "/status":
      send(JSONView.broker(report), type: "application/json", to: ticket, loop)
    default:
      let verdict = HealthCheck.serving(report, stuckAfterNs: stuckAfterNs)
      send(
        verdict.line + "\n", type: "text/plain; charset=utf-8", status: verdict.healthy ? 200 : 503,
        to: ticket, loop)
    }
  }

  private func send(
    _ body: String, type: String, status: Int = 200, to ticket: ReplyTicket, _ loop: FrontLoop
  ) {
    let headers = Self.copy("Content-Type: \(type)\r\nCache-Control: no-store\r\n")
    let bytes = Self.copy(body)
    // One allocation holds both; its address is the release token.
    let storage = malloc(headers.count + bytes.count + 1)!
    storage.copyMemory(from: headers, byteCount: headers.count)
    (storage + headers.count).copyMemory(from: bytes, byteCount: bytes.count)
    loop.reply(
      ticket, status: status,
      headerBlock: UnsafeRawBufferPointer(start: storage, count: headers.count),
      body: UnsafeRawBufferPointer(start: storage + headers.count, count: bytes.count),
      releaseToken: UInt64(UInt(bitPattern: storage)))
  }

  private static func copy(_ text: String) -> [UInt8] { Array(text.utf8) }

  private static func text(_ head: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
    String(decoding: UnsafeRawBufferPointer(rebasing: head[range]), as: UTF8.self)
  }

  public func released(token: UInt64) {
    if token != 0 { free(UnsafeMutableRawPointer(bitPattern: UInt(token))) }
  }

  public func poll(loop: FrontLoop, now: UInt64) {}
  public func completed(token: UInt64, result: Int32, flags: UInt32, loop: FrontLoop) {}
  public var hasWork: Bool { false }
}
