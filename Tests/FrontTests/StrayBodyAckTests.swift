import Foundation
import TestSupport
import XCTest

/// A worker that acknowledges a body part it was never given (RB_RESP_BODY_TAKEN on a request
/// that streams no body) breaks its own channel only: its request gets 502, it is replaced, and
/// the other worker serves on meanwhile.
final class StrayBodyAckTests: XCTestCase {
  func testStrayBodyAcknowledgementBreaksOnlyThatChannel() throws {
    let mode = try Products.url("ringchannel-child").path + " stray-body-ack"
    let broker = try BrokerProcess(["--workers", "2", "--worker", mode])
    defer { _ = broker.stop() }
    XCTAssertTrue(waitUntil(timeout: 20) { WorkerProcesses.running(of: broker.pid).count == 2 })
    let first = WorkerProcesses.running(of: broker.pid)
    // Worker 0 (fewest in flight, lowest position) takes the first request.
    let victim = try RawHTTPClient(port: broker.port, timeout: 20)
    try victim.send(Requests.get("/first"))
    XCTAssertEqual(try victim.readResponse().status, 502, broker.stderr)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("body acknowledgement") }, broker.stderr)
    XCTAssertTrue(broker.stderr.contains("broke its channel"), broker.stderr)
    for index in 0..<10 {
      XCTAssertEqual(try get(broker.port, "/n/\(index)").bodyText, "ok /n/\(index)")
    }
    XCTAssertTrue(
      waitUntil(timeout: 20) {
        let running = WorkerProcesses.running(of: broker.pid)
        return running.count == 2 && running != first && !running.isDisjoint(with: first)
      })
  }
}
