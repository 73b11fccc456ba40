import CURing
import Glibc
import TestSupport
import XCTest

@testable import RingFront

/// The handler side of the loop, in process: replies that come later than `handle` (after an
/// SQE of the handler's own completes), release tokens, and replies for vanished connections.
final class AsyncHandlerTests: XCTestCase {
  func testRepliesAfterHandlerOperationsComplete() throws {
    let handlers = HandlerRegistry()
    let server = try startServer(threads: 2, delayNs: 0, handlers: handlers)
    defer { stopServer(server) }

    let client = try RawHTTPClient(port: server.boundAddress.port)
    // Pipelined: each reply waits for a handler-submitted NOP, and order must still hold.
    try client.send((0..<10).map { Requests.get("/\($0)") }.joined())
    for i in 0..<10 {
      let response = try client.readResponse()
      XCTAssertEqual(response.status, 200)
      XCTAssertEqual(response.bodyText, "deferred /\(i)\n")
      XCTAssertEqual(response.header("X-Handler"), "deferred")
    }
    stopServer(server)
    let totals = handlers.totals
    XCTAssertEqual(totals.handled, 10)
    XCTAssertEqual(totals.released, 10, "every reply's memory must come back exactly once")
    XCTAssertEqual(totals.completions, 10)
  }

  func testReplyForClosedConnectionIsOnlyReleased() throws {
    let handlers = HandlerRegistry()
    let server = try startServer(threads: 1, delayNs: 1_000_000_000, handlers: handlers)
    defer { stopServer(server) }

    let client = try RawHTTPClient(port: server.boundAddress.port)
    try client.send(Requests.get("/gone"))
    XCTAssertTrue(waitUntil(timeout: 10) { handlers.requestsSeen.value == 1 }, "never handled")
    client.closeConnection()  // gone long before the handler's 1 s timeout fires and it replies
    // A second client still works meanwhile.
    let other = try RawHTTPClient(port: server.boundAddress.port)
    try other.send(Requests.get("/other"))
    XCTAssertEqual(try other.readResponse().bodyText, "deferred /other\n")
    stopServer(server)  // drains: waits for the handler's late reply to the vanished client
    let totals = handlers.totals
    XCTAssertEqual(totals.handled, 2)
    XCTAssertEqual(totals.released, 2)
    XCTAssertEqual(totals.deadAtReply, 1, "isConnectionAlive must report the closed client")
  }

  func testHalfClosedClientStillGetsLateReply() throws {
    let handlers = HandlerRegistry()
    let server = try startServer(threads: 1, delayNs: 1_000_000_000, handlers: handlers)
    defer { stopServer(server) }

    let client = try RawHTTPClient(port: server.boundAddress.port)
    try client.send(Requests.get("/half"))
    client.finishSending()
    let response = try client.readResponse()
    XCTAssertEqual(response.bodyText, "deferred /half\n")
    XCTAssertEqual(client.waitForClose(), [])
  }

  // MARK: - Helpers

  private var stopped = Set<ObjectIdentifier>()

  private func startServer(threads: Int, delayNs: Int64, handlers: HandlerRegistry) throws
    -> FrontServer
  {
    let config = FrontConfig(listen: ListenAddress(host: "127.0.0.1", port: 0))
    let server = FrontServer(config: config, threads: threads) { _ in
      handlers.make(delayNs: delayNs)
    }
    try server.start()
    return server
  }

  private func stopServer(_ server: FrontServer) {
    guard stopped.insert(ObjectIdentifier(server)).inserted else { return }
    server.stop()
    server.wait()
  }
}

/// Collects the per-thread handlers so the test can add up their counters after the loops ended.
final class HandlerRegistry {
  private let lock = NSLock()
  private var handlers: [DeferredResponder] = []
  /// Requests handed to any handler so far: readable while the server runs.
  let requestsSeen = Counter()

  func make(delayNs: Int64) -> FrontHandler {
    let handler = DeferredResponder(delayNs: delayNs, seen: requestsSeen)
    lock.lock()
    handlers.append(handler)
    lock.unlock()
    return handler
  }

  /// Read only after the server's threads were joined.
  var totals: (handled: Int, released: Int, completions: Int, deadAtReply: Int) {
    lock.lock()
    defer { lock.unlock() }
    return handlers.reduce((0, 0, 0, 0)) {
      ($0.0 + $1.handled, $0.1 + $1.released, $0.2 + $1.completions, $0.3 + $1.deadAtReply)
    }
  }
}

/// Answers each request only after an SQE of its own completes: a NOP, or a timeout of
/// `delayNs`. The reply body lives in handler memory until `released`.
final class DeferredResponder: FrontHandler {
  private struct Pending {
    var ticket: ReplyTicket
    var body: UnsafeMutableRawBufferPointer
    var timeout: UnsafeMutablePointer<__kernel_timespec>
  }

  private let delayNs: Int64
  private var pending: [UInt64: Pending] = [:]
  private var nextToken: UInt64 = 1
  private static let headers: StaticString = "X-Handler: deferred\r\n"
  var handled = 0
  var released = 0
  var completions = 0
  var deadAtReply = 0

  private let seen: Counter

  init(delayNs: Int64, seen: Counter) {
    self.delayNs = delayNs
    self.seen = seen
  }

  func handle(_ request: IncomingRequest, ticket: ReplyTicket, loop: FrontLoop) {
    handled += 1
    seen.increment()
    let path = String(
      decoding: UnsafeRawBufferPointer(rebasing: request.head[request.parsed.path]), as: UTF8.self)
    let text = Array("deferred \(path)\n".utf8)
    let body = UnsafeMutableRawBufferPointer.allocate(byteCount: text.count, alignment: 1)
    body.copyBytes(from: text)
    let timeout = UnsafeMutablePointer<__kernel_timespec>.allocate(capacity: 1)
    timeout.pointee = __kernel_timespec(
      tv_sec: delayNs / 1_000_000_000, tv_nsec: delayNs % 1_000_000_000)
    let token = nextToken
    nextToken += 1
    pending[token] = Pending(ticket: ticket, body: body, timeout: timeout)
    loop.submit(token: token) { sqe in
      if delayNs == 0 {
        io_uring_prep_nop(sqe)
      } else {
        io_uring_prep_timeout(sqe, timeout, 0, 0)
      }
    }
  }

  func completed(token: UInt64, result: Int32, flags: UInt32, loop: FrontLoop) {
    completions += 1
    guard let entry = pending[token] else { return }
    if !loop.isConnectionAlive(entry.ticket) { deadAtReply += 1 }
    let headers = UnsafeRawBufferPointer(
      start: Self.headers.utf8Start, count: Self.headers.utf8CodeUnitCount)
    loop.reply(
      entry.ticket, status: 200, headerBlock: headers, body: UnsafeRawBufferPointer(entry.body),
      releaseToken: token)
  }

  func released(token: UInt64) {
    guard let entry = pending.removeValue(forKey: token) else { return }
    released += 1
    entry.body.deallocate()
    entry.timeout.deallocate()
  }

  func poll(loop: FrontLoop, now: UInt64) {}

  var hasWork: Bool { !pending.isEmpty }
}
