import Foundation
import Glibc
import TestSupport
import XCTest

/// A worker that ignores the claim protocol cannot answer a request twice: the front took the
/// request back (the worker had stalled on it without claiming it) and ran it on the other
/// worker, so the rogue's late reply breaks only its own channel, and the client gets one
/// reply, the honest worker's.
final class RogueClaimTests: XCTestCase {
  func testReplyToARevokedRequestBreaksOnlyTheRoguesChannel() throws {
    let worker = Products.path("ringchannel-child") + " ignore-claims"
    let broker = try BrokerProcess([
      "--workers", "2", "--worker", worker, "--stall-timeout", "0.02",
    ])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitForAttachedWorkers(brokerPid: broker.pid, count: 2), broker.stderr)
    // The request must reach worker 0 (the rogue), the first of two idle workers. The front's
    // own turn (making an attached worker active) shows in no counter or log line: this sleep
    // stands for it, as in RogueReplyPartTests.
    usleep(300_000)
    let client = try RawHTTPClient(port: broker.port, timeout: 10)
    try client.send(Requests.get("/moved"))
    let reply = try client.readResponse()
    XCTAssertEqual(reply.status, 200)
    XCTAssertEqual(reply.bodyText, "ok /moved", "answered by the honest worker, once")
    XCTAssertTrue(
      waitUntil(timeout: 10) {
        broker.stderr.contains("child: answered a request the front took back")
      }, broker.stderr)
    // Nothing more arrives on that connection: the late reply never reaches a client.
    XCTAssertEqual(client.staysSilent(for: 0.5), true)
    // The front reads the rogue's ring again once it gives it a request: the late reply breaks
    // its channel then, and that request too is served elsewhere.
    for index in 0..<6 {
      XCTAssertEqual(try get(broker.port, "/n\(index)").bodyText, "ok /n\(index)")
    }
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("broke its channel") }, broker.stderr)
  }
}
