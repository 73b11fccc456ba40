import Foundation
import RingChannel
import TestSupport
import XCTest

/// A worker that breaks its channel while nothing is in flight (an impossible request-ring
/// tail, found by the front's next push) is killed and replaced, and the request whose push
/// found the break is served by its successor.
final class BrokenChannelTests: XCTestCase {
  func testWorkerThatBreaksItsIdleChannelIsReplacedAndTheRequestServed() throws {
    let mode = try Products.url("ringchannel-child").path + " break-tail"
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", mode, "--queue-timeout", "10",
    ])
    defer { _ = broker.stop() }
    var rogue: Int32 = 0
    XCTAssertTrue(
      waitUntil(timeout: 20) {
        let running = WorkerProcesses.running(of: broker.pid)
        rogue = running.first ?? 0
        return running.count == 1
      })
    // One ring's worth of requests (its capacity follows the slot count), so the front's next
    // push re-reads the tail the worker wrote.
    let capacity = try ChannelLayout(.standard).ringCapacity
    let client = try RawHTTPClient(port: broker.port, timeout: 10)
    for index in 0..<capacity {
      try client.send(Requests.get("/n/\(index)"))
      XCTAssertEqual(try client.readResponse().bodyText, "ok /n/\(index)")
    }
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("wrote an impossible request-ring tail") },
      broker.stderr)
    let start = Date()
    try client.send(Requests.get("/after"))
    let after = try client.readResponse()
    XCTAssertEqual(after.status, 200, broker.stderr)
    XCTAssertEqual(after.bodyText, "ok /after")
    XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("broke its channel") }, broker.stderr)
    XCTAssertTrue(
      waitUntil(timeout: 10) {
        let running = WorkerProcesses.running(of: broker.pid)
        return running.count == 1 && !running.contains(rogue)
      })
    XCTAssertEqual(try get(broker.port, "/later").bodyText, "ok /later")
  }
}
