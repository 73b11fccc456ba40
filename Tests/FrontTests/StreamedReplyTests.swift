import Foundation
import Synchronization
import TestSupport
import XCTest

/// Streamed replies (ringabi.h, "Streamed replies") end to end: a real broker, the C worker
/// writing with rw_reply_write / rw_reply_end, clients that check every byte as it arrives.
final class StreamedReplyTests: XCTestCase {

  private func broker(_ extra: [String] = [], workers: Int = 1) throws -> BrokerProcess {
    try BrokerProcess(["--workers", String(workers), "--worker", Products.cWorker] + extra)
  }

  /// Waits until two workers serve at once (a worker starts serving once it attached): two
  /// streams started together both get their heads at once.
  private func waitForTwoServingWorkers(_ port: UInt16) throws {
    for _ in 0..<40 {
      let a = try StreamingHTTPClient(port: port, timeout: 10)
      let b = try StreamingHTTPClient(port: port, timeout: 10)
      let start = Date()
      try a.send(Requests.get("/events?n=2&ms=400"))
      try b.send(Requests.get("/events?n=2&ms=400"))
      _ = try a.readHead()
      _ = try b.readHead()
      if Date().timeIntervalSince(start) < 0.3 { return }
      usleep(200_000)
    }
    XCTFail("two workers never served at once")
  }

  /// One streamed reply read and checked byte by byte, then (unless close-delimited) a
  /// keep-alive request on the same connection.
  private func checkBytes(
    _ port: UInt16, size: Int, chunked: Bool, http10: Bool, file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    let label = "\(size) bytes, \(chunked ? "no length" : "declared"), HTTP/1.\(http10 ? 0 : 1)"
    let client = try StreamingHTTPClient(port: port, timeout: 60)
    let path = "/bytes?n=\(size)" + (chunked ? "&chunked=1" : "")
    let keepAlive = http10 ? "Connection: keep-alive\r\n" : ""
    try client.send("GET \(path) HTTP/1.\(http10 ? 0 : 1)\r\nHost: t\r\n\(keepAlive)\r\n")
    let head = try client.readHead()
    XCTAssertEqual(head.status, 200, label, file: file, line: line)
    switch (chunked, http10) {
    case (false, _):
      XCTAssertEqual(head.header("Content-Length"), String(size), label, file: file, line: line)
    case (true, false):
      XCTAssertEqual(head.header("Transfer-Encoding"), "chunked", label, file: file, line: line)
      XCTAssertNil(head.header("Content-Length"), label, file: file, line: line)
    case (true, true):
      XCTAssertNil(head.header("Content-Length"), label, file: file, line: line)
      XCTAssertNil(head.header("Transfer-Encoding"), label, file: file, line: line)
      XCTAssertEqual(head.header("Connection"), "close", label, file: file, line: line)
    }
    var pattern = BytePattern()
    let length = try client.readBody(of: head) { pattern.check($0) }
    XCTAssertEqual(length, size, label, file: file, line: line)
    XCTAssertNil(pattern.firstMismatch, label, file: file, line: line)
    if chunked && http10 {
      XCTAssertEqual(client.waitForClose(), 0, "close-delimited: \(label)", file: file, line: line)
      return
    }
    try client.send("GET / HTTP/1.\(http10 ? 0 : 1)\r\nHost: t\r\n\(keepAlive)\r\n")
    let next = try client.readHead()
    var text = ""
    try client.readBody(of: next) { text += String(decoding: $0, as: UTF8.self) }
    XCTAssertEqual(next.status, 200, "keep-alive after \(label)", file: file, line: line)
    XCTAssertEqual(text, "hello world\n", "keep-alive after \(label)", file: file, line: line)
  }

  func testCWorkerStreamsEveryByteWithAndWithoutLengthOverHTTP11AndHTTP10() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    try checkAllModes(broker.port)
  }

  func testSwiftWorkerStreamsEveryByteWithAndWithoutLengthOverHTTP11AndHTTP10() throws {
    let worker = try Products.url("swift-hello-worker").path
    let broker = try BrokerProcess(["--workers", "1", "--worker", worker])
    defer { _ = broker.stop() }
    try checkAllModes(broker.port)
  }

  /// The Lua app's body: a string (declared length) or a function returning 65,511-byte
  /// pieces, a multiple of the pattern's period (no length).
  static let luaBytesApp = """
    local period = {}
    for i = 0, 250 do period[#period + 1] = string.char(i) end
    period = table.concat(period)
    local block = string.rep(period, 261)
    return function(req)
      local n = tonumber(req.query.n)
      if not n then return 200, nil, "hello world\\n" end
      if req.query.chunked then
        local sent = 0
        return 200, nil, function()
          if sent >= n then return nil end
          local k = math.min(#block, n - sent)
          sent = sent + k
          return block:sub(1, k)
        end
      end
      return 200, nil, string.rep(period, math.ceil(n / 251)):sub(1, n)
    end
    """

  func testLuaWorkerStreamsEveryByteWithAndWithoutLengthOverHTTP11AndHTTP10() throws {
    let app = NSTemporaryDirectory() + "bytes-\(getpid()).lua"
    try Self.luaBytesApp.write(toFile: app, atomically: true, encoding: .utf8)
    defer { unlink(app) }
    let broker = try BrokerProcess(["--workers", "1", app])
    defer { _ = broker.stop() }
    try checkAllModes(broker.port)
  }

  /// 64 KiB, 1 MiB and 64 MiB, with and without a declared length, over HTTP/1.1 and 1.0.
  private func checkAllModes(_ port: UInt16, file: StaticString = #filePath, line: UInt = #line)
    throws
  {
    for size in [64 * 1024, 1 << 20, 64 << 20] {
      for chunked in [false, true] {
        for http10 in [false, true] {
          try checkBytes(port, size: size, chunked: chunked, http10: http10, file: file, line: line)
        }
      }
    }
  }

  func testCWorkerStreamsOneGiBWithAndWithoutLength() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    try checkBytes(broker.port, size: 1 << 30, chunked: false, http10: false)
    try checkBytes(broker.port, size: 1 << 30, chunked: true, http10: false)
  }

  /// One worker, so its replies share one stream window (ringabi.h, "Stream window"), for
  /// clients that read at different speeds: every client gets its own reply's bytes (each
  /// its own seed), so no reply's window parts were overwritten by the next reply before they
  /// were sent. Declared and chunked, window-sized writes and writes too small for it.
  func testRepliesSharingTheStreamWindowKeepTheirOwnBytes() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    let size = 2_500_000
    let variants = ["part=1048576", "part=65536", "part=1048576&chunked=1", "part=16384&chunked=1"]
    let failures = Mutex<[String]>([])
    DispatchQueue.concurrentPerform(iterations: 6) { client in
      do {
        for round in 0..<3 {
          let seed = (client * 3 + round) * 17 % 251
          let query = "n=\(size)&seed=\(seed)&\(variants[(client + round) % variants.count])"
          let connection = try StreamingHTTPClient(port: broker.port, timeout: 60)
          try connection.send(Requests.get("/bytes?\(query)"))
          let head = try connection.readHead()
          var pattern = BytePattern(seed: seed)
          let slow = client % 2 == 0
          let length = try connection.readBody(of: head) {
            pattern.check($0)
            if slow { usleep(200) }  // a slow reader: its parts are still out when the next reply starts
          }
          if head.status != 200 || length != size || pattern.firstMismatch != nil {
            failures.withLock {
              $0.append(
                "\(query): status \(head.status), \(length) bytes, first mismatch \(String(describing: pattern.firstMismatch))"
              )
            }
          }
        }
      } catch {
        failures.withLock { $0.append("client \(client): \(error)") }
      }
    }
    XCTAssertEqual(failures.withLock { $0 }, [])
    XCTAssertEqual(try get(broker.port, "/").bodyText, "hello world\n")
  }

  /// A client that stops reading a 1 GiB reply: the worker blocks on credits (and is not taken
  /// for stuck by --timeout), the broker holds no more than the parts in flight, the other
  /// worker serves, and --idle-timeout ends the request: the worker hears its client is gone
  /// and serves on.
  func testStalledClientBlocksOnlyItsWorkerWithBoundedMemoryUntilTheIdleTimeout() throws {
    let broker = try broker(["--idle-timeout", "3", "--timeout", "1"], workers: 2)
    defer { _ = broker.stop() }
    try waitForTwoServingWorkers(broker.port)
    let workers = WorkerProcesses.running(of: broker.pid)
    let before = residentMemoryKiB(broker.pid)
    let stalled = try StreamingHTTPClient(port: broker.port, timeout: 10, receiveBufferSize: 4096)
    try stalled.send(Requests.get("/bytes?n=\(1 << 30)"))
    let head = try stalled.readHead()
    XCTAssertEqual(head.status, 200)
    // Past --timeout (1 s), and past --idle-timeout (3 s) without a byte read: a worker
    // waiting for its client is not stuck, and the client is closed for making no progress.
    for _ in 0..<16 {
      usleep(250_000)  // time passing beyond both timeouts is what is under test
      XCTAssertEqual(try get(broker.port, "/").bodyText, "hello world\n")
    }
    let grown = residentMemoryKiB(broker.pid) - before
    XCTAssertLessThan(grown, 32 * 1024, "broker RSS grew by \(grown) KiB")
    // What still comes before the close is the rest of that reply, byte for byte (the bytes
    // the broker had sent before --idle-timeout closed the client).
    var pattern = BytePattern()
    XCTAssertNotNil(
      stalled.waitForClose { pattern.check($0) }, "--idle-timeout closes the stalled client")
    XCTAssertLessThan(pattern.offset, 1 << 30, "the whole reply came: no idle close")
    XCTAssertNil(pattern.firstMismatch, "the bytes before the close are not the reply's")
    // Both workers serve again: two streams at once start at once.
    let first = try StreamingHTTPClient(port: broker.port, timeout: 10)
    let second = try StreamingHTTPClient(port: broker.port, timeout: 10)
    let start = Date()
    try first.send(Requests.get("/events?n=2&ms=500"))
    try second.send(Requests.get("/events?n=2&ms=500"))
    XCTAssertEqual(try first.readHead().status, 200)
    XCTAssertEqual(try second.readHead().status, 200)
    XCTAssertLessThan(Date().timeIntervalSince(start), 0.4, "both workers took a request")
    XCTAssertEqual(WorkerProcesses.running(of: broker.pid), workers, "no worker was replaced")
    XCTAssertFalse(broker.stderr.contains("504"), broker.stderr)
  }

  /// A client that closes mid-stream: the worker's writes end with client-gone and it serves on.
  func testClientClosingMidStreamFreesTheWorker() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    let workers = WorkerProcesses.running(of: broker.pid)
    for _ in 0..<3 {
      let client = try StreamingHTTPClient(port: broker.port, timeout: 10)
      try client.send(Requests.get("/bytes?n=\(1 << 30)"))
      XCTAssertEqual(try client.readHead().status, 200)
      client.connection.closeConnection()
      let start = Date()
      XCTAssertEqual(try get(broker.port, "/").bodyText, "hello world\n")
      XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }
    XCTAssertEqual(WorkerProcesses.running(of: broker.pid), workers)
  }

  /// Server-sent events: each reaches the client within 50 ms of being written.
  func testServerSentEventsArriveAsTheyAreWritten() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    let client = try StreamingHTTPClient(port: broker.port, timeout: 10)
    try client.send(Requests.get("/events?n=5&ms=200"))
    let head = try client.readHead()
    XCTAssertEqual(head.status, 200)
    XCTAssertEqual(head.header("Content-Type"), "text/event-stream")
    XCTAssertEqual(head.header("Transfer-Encoding"), "chunked")
    var pending = ""
    var events: [(index: Int, writtenNs: UInt64, arrivedNs: UInt64)] = []
    try client.readBody(of: head) { piece in
      let arrived = UInt64(Date().timeIntervalSince1970 * 1e9)
      pending += String(decoding: piece, as: UTF8.self)
      while let end = pending.range(of: "\n\n") {
        let fields = pending[..<end.lowerBound].split(separator: " ")
        pending = String(pending[end.upperBound...])
        guard fields.count == 3, let index = Int(fields[1]), let written = UInt64(fields[2])
        else { continue }
        events.append((index, written, arrived))
      }
    }
    XCTAssertEqual(events.map(\.index), [0, 1, 2, 3, 4])
    for event in events {
      let lag = Double(Int64(bitPattern: event.arrivedNs &- event.writtenNs)) / 1e6
      XCTAssertLessThan(lag, 50, "event \(event.index) took \(lag) ms")
    }
    for (a, b) in zip(events, events.dropFirst()) {
      XCTAssertGreaterThan(b.arrivedNs - a.arrivedNs, 150_000_000, "events arrive as written")
    }
  }

  /// --timeout counts from a streamed reply's last part: a worker that stops writing has its
  /// client closed (the head is out: no 504), and once it writes again it hears the client is
  /// gone and serves on; it is not replaced.
  func testStreamThatStopsProducingIsClosedByTheRequestTimeout() throws {
    let broker = try broker(["--timeout", "2"])
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    let workers = WorkerProcesses.running(of: broker.pid)
    let client = try StreamingHTTPClient(port: broker.port, timeout: 10)
    let start = Date()
    try client.send(Requests.get("/events?n=3&ms=2600"))
    let head = try client.readHead()
    XCTAssertEqual(head.status, 200)
    var text = ""
    XCTAssertThrowsError(
      try client.readBody(of: head) { text += String(decoding: $0, as: UTF8.self) })
    let closedAfter = Date().timeIntervalSince(start)
    XCTAssertTrue(client.closed)
    XCTAssertTrue(text.hasPrefix("data: 0 "), text)
    XCTAssertFalse(text.contains("data: 1 "), text)
    XCTAssertGreaterThan(closedAfter, 1.9)
    XCTAssertLessThan(closedAfter, 2.55, "closed before the worker wrote again")
    XCTAssertTrue(broker.stderr.contains("sent no reply part"), broker.stderr)
    // The worker writes its next event at 2.6 s (its credit says the client is gone) and
    // the one after at 5.2 s, which fails at once: it ends the reply and serves on.
    // The worker's own schedule is under test: wait past its write at 5.2 s.
    usleep(UInt32(max(0, 5.6 - Date().timeIntervalSince(start)) * 1_000_000))
    XCTAssertEqual(try get(broker.port, "/").bodyText, "hello world\n")
    XCTAssertEqual(WorkerProcesses.running(of: broker.pid), workers, "the worker was not replaced")
  }

  /// The worker of a streamed reply is killed: its client's connection closes (its head was
  /// out: no 502), the log names the request, and a stream on the other worker completes.
  func testWorkerKilledMidStreamClosesOnlyItsClient() throws {
    let broker = try broker(workers: 2)
    defer { _ = broker.stop() }
    try waitForTwoServingWorkers(broker.port)
    let victim = try StreamingHTTPClient(port: broker.port, timeout: 10, receiveBufferSize: 4096)
    try victim.send(Requests.get("/bytes?n=\(1 << 30)"))
    let head = try victim.readHead()
    XCTAssertEqual(head.status, 200)
    guard let pid = head.header("X-Worker-Pid").flatMap(Int32.init) else {
      return XCTFail("no X-Worker-Pid")
    }
    let other = try StreamingHTTPClient(port: broker.port, timeout: 10)
    try other.send(Requests.get("/events?n=4&ms=250"))
    let otherHead = try other.readHead()
    XCTAssertEqual(otherHead.status, 200)
    kill(pid, SIGKILL)
    var pattern = BytePattern()
    XCTAssertThrowsError(try victim.readBody(of: head) { pattern.check($0) })
    XCTAssertTrue(victim.closed)
    XCTAssertLessThan(pattern.offset, 1 << 30)
    XCTAssertNil(pattern.firstMismatch)
    var text = ""
    try other.readBody(of: otherHead) { text += String(decoding: $0, as: UTF8.self) }
    XCTAssertEqual(text.components(separatedBy: "\n\n").count, 5, text)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("GET /bytes?n=\(1 << 30)") },
      broker.stderr)
    XCTAssertTrue(broker.stderr.contains("exited mid-reply"), broker.stderr)
    XCTAssertEqual(try get(broker.port, "/").status, 200)
  }

  func testHEADOfAStreamedReplyGetsItsHeadersAndNoBody() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    let client = try StreamingHTTPClient(port: broker.port, timeout: 10)
    try client.send("HEAD /bytes?n=300000 HTTP/1.1\r\nHost: t\r\n\r\n")
    let declared = try client.readHead()
    XCTAssertEqual(declared.status, 200)
    XCTAssertEqual(declared.header("Content-Length"), "300000")
    try client.send("HEAD /bytes?n=300000&chunked=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    let chunked = try client.readHead()
    XCTAssertEqual(chunked.header("Transfer-Encoding"), "chunked")
    XCTAssertNil(chunked.header("Content-Length"))
    // No body bytes came: the next reply follows the heads directly.
    try client.send(Requests.get("/"))
    let next = try client.readHead()
    var text = ""
    try client.readBody(of: next) { text += String(decoding: $0, as: UTF8.self) }
    XCTAssertEqual(text, "hello world\n")
  }

  func testStatus204And304DropAStreamedBody() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    let client = try StreamingHTTPClient(port: broker.port, timeout: 10)
    for status in [204, 304] {
      for chunked in ["", "&chunked=1"] {
        try client.send(Requests.get("/bytes?n=200000&status=\(status)\(chunked)"))
        let head = try client.readHead()
        XCTAssertEqual(head.status, status)
        XCTAssertNil(head.header("Content-Length"))
        XCTAssertNil(head.header("Transfer-Encoding"))
      }
    }
    try client.send(Requests.get("/"))
    let next = try client.readHead()
    XCTAssertEqual(next.status, 200)
    var text = ""
    try client.readBody(of: next) { text += String(decoding: $0, as: UTF8.self) }
    XCTAssertEqual(text, "hello world\n")
  }
}

/// A worker that writes impossible reply parts breaks only its own channel: its client gets a
/// 502 when no head went out yet, else its connection is closed; the other worker serves on,
/// and the rogue is replaced.
final class RogueReplyPartTests: XCTestCase {
  private func check(_ kind: String, headGoesOut: Bool) throws {
    let worker = try Products.url("ringchannel-child").path + " rogue-parts " + kind
    let broker = try BrokerProcess(["--workers", "2", "--worker", worker])
    defer { _ = broker.stop() }
    // The request must reach worker 0 (the rogue): the front sends none to a worker before it
    // attached, so with worker 1 attached first it went to worker 1 and this test failed now
    // and then. Both attached, and a front loop turn (at most 100 ms) later both serve.
    XCTAssertTrue(waitForAttachedWorkers(brokerPid: broker.pid, count: 2), broker.stderr)
    // The front's own turn (making an attached worker active) shows in no counter, log line
    // or channel field: this sleep stands for it (three times the longest turn).
    usleep(300_000)
    let client = try StreamingHTTPClient(port: broker.port, timeout: 10)
    try client.send(Requests.get("/rogue"))
    let head = try client.readHead()
    if headGoesOut {
      XCTAssertEqual(head.status, 200, kind)
      XCTAssertEqual(head.header("X-Rogue"), "1", kind)
      XCTAssertThrowsError(try client.readBody(of: head), kind)
      XCTAssertTrue(client.closed, kind)
    } else {
      XCTAssertEqual(head.status, 502, kind)
      XCTAssertNil(head.header("X-Rogue"), kind)
    }
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("broke its channel") }, broker.stderr)
    for _ in 0..<4 { XCTAssertEqual(try get(broker.port, "/x").bodyText, "ok /x", kind) }
  }

  func testTooManyPartsInFlight() throws { try check("too-many", headGoesOut: true) }
  func testPartOutsideTheSlot() throws { try check("outside", headGoesOut: true) }
  func testPartOutsideTheStreamWindow() throws { try check("outside-window", headGoesOut: true) }
  func testPartFarBeyondTheStreamWindow() throws { try check("far-window", headGoesOut: true) }
  func testFirstPartBeforeItsHeaderLines() throws { try check("before-reply", headGoesOut: false) }
  func testPartBeyondTheDeclaredLength() throws { try check("beyond-length", headGoesOut: false) }
  func testEndShortOfTheDeclaredLength() throws { try check("short-end", headGoesOut: true) }
  func testLaterPartWithAStatus() throws { try check("later-status", headGoesOut: true) }

  /// A worker cannot escape the request timeout by marking its parts as stream-window parts:
  /// once its one part was sent (the client reads), the clock runs again, the client is closed
  /// after --timeout, and the worker, still silent, is replaced after the next one.
  func testStreamWindowPartDoesNotHideAStuckWorkerFromTheTimeout() throws {
    let worker = try Products.url("ringchannel-child").path + " rogue-parts window-hang"
    let broker = try BrokerProcess(["--workers", "2", "--worker", worker, "--timeout", "1"])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitForAttachedWorkers(brokerPid: broker.pid, count: 2), broker.stderr)
    usleep(300_000)  // as in `check`: both workers serve after one more front loop turn
    let client = try StreamingHTTPClient(port: broker.port, timeout: 10)
    let start = Date()
    try client.send(Requests.get("/rogue"))
    let head = try client.readHead()
    XCTAssertEqual(head.header("X-Rogue"), "1")
    XCTAssertNotNil(client.waitForClose(), "closed by the request timeout")
    XCTAssertLessThan(Date().timeIntervalSince(start), 5, "not held open by the window part")
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("replacing the worker") }, broker.stderr)
    for _ in 0..<4 { XCTAssertEqual(try get(broker.port, "/x").bodyText, "ok /x") }
  }
}
