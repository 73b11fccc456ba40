import Foundation
import TestSupport
import XCTest

/// A rogue worker rewrites the requests waiting in its ring (their target and offsets), never
/// takes them, and exits: the front moves them to another worker from its own copy of each
/// request, never from the slot. Every client gets the reply to the request it sent, and the
/// innocent worker never sees a poisoned one (it would exit on the impossible offsets).
final class PoisonedRedispatchTests: XCTestCase {
  func testRequestsARogueRewroteInItsRingRunElsewhereAsTheClientSentThem() throws {
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
    for (index, client) in clients.enumerated() {
      let response = try client.readResponse()
      XCTAssertEqual(response.status, 200, "client \(index)\n\(broker.stderr)")
      XCTAssertEqual(response.bodyText, "ok /sleep/\(400 + index)", "client \(index)")
    }
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("rewrote") },
      "the rogue did not run\n\(broker.stderr)"
    )
    // The innocent worker never exited: no exit line for worker 1.
    XCTAssertFalse(broker.stderr.contains("]: worker 1 (pid"), broker.stderr)
    for index in 0..<4 {
      XCTAssertEqual(try get(broker.port, "/after/\(index)").bodyText, "ok /after/\(index)")
    }
  }
}
