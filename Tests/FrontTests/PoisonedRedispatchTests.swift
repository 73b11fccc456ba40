import Foundation
import TestSupport
import XCTest

/// A rogue worker rewrites the requests waiting in its ring, never takes them, and exits: the
/// front must not hand the rewritten requests to another worker. Each client gets the reply to
/// its own request, or 502; the innocent worker never sees a poisoned request.
final class PoisonedRedispatchTests: XCTestCase {
  func testRequestsARogueRewroteInItsRingGet502AndTheOtherWorkerServesOn() throws {
    let rogueMode = try Products.url("ringchannel-child").path + " rewrite-queued"
    let broker = try BrokerProcess(["--workers", "2", "--worker", rogueMode, "--timeout", "20"])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitUntil(timeout: 20) { WorkerProcesses.running(of: broker.pid).count == 2 })
    // Ties go to worker 0 (the rogue), and the innocent worker 1 holds each request for
    // ~400 ms: requests alternate, and four end up waiting in the rogue's ring.
    let clients = try (0..<8).map { index -> RawHTTPClient in
      let client = try RawHTTPClient(port: broker.port, timeout: 30)
      try client.send(Requests.get("/sleep/\(400 + index)"))
      return client
    }
    var refused = 0
    for (index, client) in clients.enumerated() {
      let response = try client.readResponse()
      if response.status == 502 {
        refused += 1
      } else {
        XCTAssertEqual(response.status, 200, "client \(index)")
        XCTAssertEqual(response.bodyText, "ok /sleep/\(400 + index)", "client \(index)")
      }
    }
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("rewrote") },
      "the rogue did not run\n\(broker.stderr)"
    )
    XCTAssertGreaterThan(refused, 0, broker.stderr)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("changed in its slot") }, broker.stderr)
    // The innocent worker never exited: no exit line for worker 1.
    XCTAssertFalse(broker.stderr.contains("]: worker 1 (pid"), broker.stderr)
    for index in 0..<4 {
      XCTAssertEqual(try get(broker.port, "/after/\(index)").bodyText, "ok /after/\(index)")
    }
  }
}
