import Foundation
import XCTest

/// A client that pipelines without reading its replies is held to a bounded share: the broker
/// stops reading it, and every other client is served as if it were not there.
final class BackpressureTests: XCTestCase {
  static let idleTimeout = 8.0

  private func startBroker() throws -> BrokerProcess {
    try BrokerProcess([
      "--workers", "2", "--worker", try WorkerModeTests.testWorker(),
      "--idle-timeout", String(Self.idleTimeout),
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

  /// Five such connections pin up to 80 replies (16 each): more than the 68 slots of a worker.
  /// Started one at a time, each sends its requests to worker 0 (fewest in flight, first
  /// position) until worker 0's slots all hold unsent replies. Worker 0 then still has the
  /// fewest requests in flight, but no room: requests must go to a worker that has a free slot
  /// instead of queueing for worker 0.
  func testWorkerWhoseSlotsAllHoldUnsentRepliesIsPassedOver() throws {
    let broker = try startBroker()
    defer { _ = broker.stop() }
    var greedy: [GreedyClient] = []
    defer { greedy.forEach { $0.finish() } }
    func pinned() -> [Int: Int] { (try? slotsInUse(brokerPid: broker.pid)) ?? [:] }
    for count in 1...4 {
      greedy.append(try GreedyClient(port: broker.port, count: 20_000))
      XCTAssertTrue(
        waitUntil(timeout: 20) { pinned().values.reduce(0, +) >= count * 16 }, "\(pinned())")
    }
    greedy.append(try GreedyClient(port: broker.port, count: 20_000))
    XCTAssertTrue(waitUntil(timeout: 20) { pinned()[0] == 68 }, "\(pinned())")
    assertOthersAreServedPromptly(port: broker.port, for: 3)
  }
  /// A client pins every large slot with replies it does not read; its next large upload then
  /// waits in the front's queue for a large slot. Small requests of other clients must not
  /// wait behind it (the queue used to be strictly first in, first out: they waited for the
  /// upload's queue deadline, --queue-timeout 20 here).
  func testLargeUploadWaitingForALargeSlotDoesNotHoldUpSmallRequests() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", try WorkerModeTests.testWorker(), "--queue-timeout", "20",
    ])
    defer { _ = broker.stop() }
    let client = try RawHTTPClient(port: broker.port, receiveBufferSize: 4096)
    // 100 KB bodies need large slots (one worker has 4); the 900 KB replies fill the kernel's
    // buffers after a few, then stay in their slots.
    let upload = Requests.post("/bytes/900000", body: String(repeating: "u", count: 100_000))
    let bytes = Array(String(repeating: upload, count: 16).utf8)
    let sender = Thread { try? client.send(bytes) }
    sender.start()
    defer {
      shutdown(client.fd, Int32(SHUT_RDWR))
      _ = waitUntil(timeout: 10) { sender.isFinished }
    }
    XCTAssertTrue(
      waitUntil(timeout: 20) { ((try? slotsInUse(brokerPid: broker.pid))?[0] ?? 0) >= 4 },
      "the large slots never filled up")
    usleep(300_000)  // the client's next upload reaches the queue (nothing observable marks it)
    for index in 0..<5 {
      let start = Date()
      let response = try RawHTTPClient(port: broker.port, timeout: 10).get("/small")
      XCTAssertEqual(response.status, 200, "small request \(index)")
      XCTAssertLessThan(Date().timeIntervalSince(start), 4, "small request \(index)")
    }
  }
}
