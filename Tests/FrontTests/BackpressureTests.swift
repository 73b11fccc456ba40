import Foundation
import TestSupport
import XCTest

@testable import RingFront

/// A client that pipelines without reading its replies is held to a bounded share: the broker
/// stops reading it, and every other client is served as if it were not there.
final class BackpressureTests: XCTestCase {
  static let idleTimeout = 8.0

  /// A worker slowed down by a loaded machine must not count as stalled here
  /// (--stall-timeout): the tests place requests by the fewest-in-flight rule alone.
  private func startBroker() throws -> BrokerProcess {
    try BrokerProcess([
      "--workers", "2", "--worker", Products.testWorker,
      "--idle-timeout", String(Self.idleTimeout), "--stall-timeout", "60",
    ])
  }

  /// A connection that pipelines `count` requests for 60 KB replies from a thread and never
  /// reads; with a small receive buffer, its replies back up in the broker at once.
  private final class GreedyClient {
    let client: RawHTTPClient
    let sender: Thread

    init(port: UInt16, count: Int) throws {
      let client = try RawHTTPClient(port: port, receiveBufferSize: 4096)
      let bytes = Array(String(repeating: Requests.get("/bytes/60000"), count: count).utf8)
      // Blocks once the broker stops reading; ends when the broker closes the connection.
      sender = Thread { try? client.send(bytes) }
      self.client = client
      sender.start()
    }

    /// Bytes of replies that arrived and are not read: the broker served this client.
    var unreadBytes: Int32 {
      var count: Int32 = 0
      _ = ioctl(client.fd, UInt(FIONREAD), &count)
      return count
    }

    /// The broker closed (or reset) the connection; looks without reading, since reading would
    /// let the stalled replies move again.
    var isClosedByPeer: Bool {
      let readHangUp: Int16 = 0x2000  // POLLRDHUP, which needs _GNU_SOURCE in C
      var poller = pollfd(fd: client.fd, events: readHangUp, revents: 0)
      return poll(&poller, 1, 0) > 0
        && poller.revents & (readHangUp | Int16(POLLHUP | POLLERR)) != 0
    }

    func finish() {
      shutdown(client.fd, Int32(SHUT_RDWR))
      _ = waitUntil(timeout: 10) { sender.isFinished }
    }
  }

  /// Fresh connections, one after another for `seconds`: each must get its 200 within 4 s
  /// (below the 5 s queue timeout a stalled request would wait for; loose for a loaded VM).
  private func assertOthersAreServedPromptly(
    port: UInt16, for seconds: Double, file: StaticString = #filePath, line: UInt = #line
  ) {
    let end = Date().addingTimeInterval(seconds)
    var served = 0
    while Date() < end {
      let start = Date()
      do {
        let client = try RawHTTPClient(port: port, timeout: 4)
        try client.send(Requests.get("/other"))
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200, "request \(served + 1)", file: file, line: line)
        XCTAssertEqual(response.bodyText, "ok /other", file: file, line: line)
      } catch {
        XCTFail("request \(served + 1) of another client: \(error)", file: file, line: line)
        return
      }
      XCTAssertLessThan(Date().timeIntervalSince(start), 4, file: file, line: line)
      served += 1
      usleep(100_000)  // pacing, so the checks spread over the whole period
    }
    XCTAssertGreaterThan(served, 5, file: file, line: line)
  }

  func testClientThatPipelinesAndNeverReadsDoesNotMakeOthersWait() throws {
    let broker = try startBroker()
    defer { _ = broker.stop() }
    XCTAssertEqual(try RawHTTPClient(port: broker.port).get("/warm").status, 200)
    let memoryBefore = residentMemoryKiB(broker.pid)
    // 150k requests (6.6 MB) are more than the kernel buffers between it and the broker hold
    // (a 4 MiB send buffer at most, plus the broker's receive buffer): its sends block as soon
    // as the broker stops reading it.
    let greedy = try GreedyClient(port: broker.port, count: 150_000)
    defer { greedy.finish() }
    XCTAssertTrue(waitUntil(timeout: 10) { greedy.unreadBytes > 0 }, "the greedy client is served")

    // Old failure: after ~2 s every slot of the worker it used held one of its replies, and
    // everyone's requests queued behind its own until they got 503.
    assertOthersAreServedPromptly(port: broker.port, for: 4)
    XCTAssertFalse(
      greedy.sender.isFinished, "the broker stopped reading: its requests wait in the kernel")

    let growth = residentMemoryKiB(broker.pid) - memoryBefore
    XCTAssertLessThan(growth, 64 * 1024, "broker RSS grew by \(growth) KiB")
    // Its sends make no progress: the idle timeout closes the connection.
    XCTAssertTrue(
      waitUntil(timeout: Self.idleTimeout + 6) { greedy.isClosedByPeer },
      "a connection whose sends stall is closed after the idle timeout")
  }

  /// Such connections pin up to FrontLoop.maxRepliesAhead replies each; enough of them pin
  /// more than the slots of a worker (ringstat's slotsTotal: whatever the layout). Started one
  /// at a time, each sends its requests to worker 0 (fewest in flight, first position) until
  /// worker 0's slots all hold unsent replies. Worker 0 then still has the fewest requests in
  /// flight, but no room: requests must go to a worker that has a free slot instead of
  /// queueing for worker 0.
  func testWorkerWhoseSlotsAllHoldUnsentRepliesIsPassedOver() throws {
    let broker = try startBroker()
    defer { _ = broker.stop() }
    var greedy: [GreedyClient] = []
    defer { greedy.forEach { $0.finish() } }
    func pinned() -> [Int: Int] { (try? slotsInUse(brokerPid: broker.pid)) ?? [:] }
    let slots = try XCTUnwrap(try slotsTotal(brokerPid: broker.pid)[0])
    let ahead = FrontLoop.maxRepliesAhead
    // One connection more than worker 0's slots hold: the last one fills them and spills over.
    let connections = slots / ahead + 1
    XCTAssertLessThanOrEqual(connections * ahead, 2 * slots, "the two workers hold them all")
    for count in 1..<connections {
      greedy.append(try GreedyClient(port: broker.port, count: 20_000))
      XCTAssertTrue(
        waitUntil(timeout: 20) { pinned().values.reduce(0, +) >= count * ahead }, "\(pinned())")
    }
    greedy.append(try GreedyClient(port: broker.port, count: 20_000))
    XCTAssertTrue(
      waitUntil(timeout: 20) {
        let now = pinned()
        return now[0] == slots && now.values.reduce(0, +) == connections * ahead
      }, "\(pinned()) of \(slots) slots per worker")
    assertOthersAreServedPromptly(port: broker.port, for: 3)
  }

  /// A worker reads one streamed body at a time and uploads never hold every worker: an
  /// upload that must wait for a worker waits with only its head queued, and small requests
  /// behind it are not held up (they go to the worker that reads no body).
  func testUploadWaitingForAWorkerDoesNotHoldUpSmallRequests() throws {
    let broker = try BrokerProcess([
      "--workers", "2", "--worker", Products.cWorker, "--queue-timeout", "20",
      "--body-timeout", "30",
    ])
    defer { _ = broker.stop() }
    // Two uploads that stall midway: the first is being read by a worker, the second waits.
    var uploads: [RawHTTPClient] = []
    for _ in 0..<2 {
      let client = try RawHTTPClient(port: broker.port, timeout: 30)
      try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
      try client.send(String(repeating: "u", count: 100_000))
      uploads.append(client)
    }
    // The first upload is with a worker (taken), the second waits in the front.
    XCTAssertTrue(
      waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: 1), "no worker took an upload")
    for index in 0..<5 {
      let start = Date()
      let response = try RawHTTPClient(port: broker.port, timeout: 10).get("/small")
      XCTAssertEqual(response.status, 200, "small request \(index)")
      XCTAssertEqual(response.bodyText, "hello world\n")
      XCTAssertLessThan(Date().timeIntervalSince(start), 4, "small request \(index)")
    }
    // Both uploads still complete once their clients go on.
    for client in uploads { try client.send(String(repeating: "u", count: 900_000)) }
    let expected = Uploads.sumLine(
      Array(repeating: UInt8(ascii: "u"), count: 1_000_000), streamed: true)
    for client in uploads { XCTAssertEqual(try client.readResponse().bodyText, expected) }
  }

}
