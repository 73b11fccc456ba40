import Foundation
import RingChannel
import TestSupport
import XCTest

/// A reply call that fails (bad header, bad status, body too large, calls out of order) leaves
/// the request answered with 502 at once, and the worker serves on.
final class FailedReplyTests: XCTestCase {

  func testCWorkerEchoTooLargeForItsSlotGets502AtOnceAndTheWorkerServesOn() throws {
    let broker = try BrokerProcess(["--workers", "1", "--worker", Products.cWorker])
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    let workers = WorkerProcesses.running(of: broker.pid)
    let client = try RawHTTPClient(port: broker.port, timeout: 10)
    let start = Date()
    // A body that goes whole into the slot of the standard layout (no streaming: it leaves
    // more than the minimum reply room) but takes more than half of it, so that its echo
    // (rw_reply_body, in-slot) cannot fit the reply room the body leaves.
    let slotSize = try XCTUnwrap(ChannelParameters.standard.slotClasses.map(\.slotSize).max())
    let bodyLength = slotSize / 2 + 4096
    XCTAssertLessThan(bodyLength + 4096 + FrontChannel.minimumReplyRoom, slotSize, "in the slot")
    try client.send(Requests.post("/echo", body: String(repeating: "x", count: bodyLength)))
    let echo = try client.readResponse()
    XCTAssertEqual(echo.status, 502)
    XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    try client.send(Requests.get("/"))
    let next = try client.readResponse()
    XCTAssertEqual(next.status, 200)
    XCTAssertEqual(next.bodyText, "hello world\n")
    XCTAssertEqual(WorkerProcesses.running(of: broker.pid), workers, "the same worker served")
  }

  func testEachFailedReplyCallGets502AtOnce() throws {
    let worker = try Products.url("ringchannel-child").path + " http"
    let broker = try BrokerProcess(["--workers", "1", "--worker", worker])
    defer { _ = broker.stop() }
    let pid = try get(broker.port, "/pid").bodyText
    let client = try RawHTTPClient(port: broker.port, timeout: 10)
    for path in ["/bad-header", "/bad-status", "/bad-body"] {
      let start = Date()
      try client.send(Requests.get(path))
      let response = try client.readResponse()
      XCTAssertEqual(response.status, 502, path)
      XCTAssertNil(response.header("Injected"), path)
      XCTAssertLessThan(Date().timeIntervalSince(start), 5, path)
    }
    try client.send(Requests.get("/pid"))
    XCTAssertEqual(try client.readResponse().bodyText, pid, "the same worker serves on")
  }

  /// rw_reply_abort / `abort(status:)`: the client gets that status at once, without what the
  /// handler had written, and the worker serves on.
  func testAbortAnswersAtOnceWithItsStatus() throws {
    let worker = try Products.url("ringchannel-child").path + " http"
    let broker = try BrokerProcess(["--workers", "1", "--worker", worker])
    defer { _ = broker.stop() }
    let client = try RawHTTPClient(port: broker.port, timeout: 10)
    try client.send(Requests.get("/abort"))
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 503)
    XCTAssertNil(response.header("X-Half"))
    XCTAssertEqual(response.bodyText, "the worker could not complete this request\n")
    try client.send(Requests.get("/after"))
    XCTAssertEqual(try client.readResponse().bodyText, "ok /after")
    XCTAssertTrue(
      waitUntil(timeout: 10) {
        broker.stderr.contains("/abort: this request was already answered")
      },
      broker.stderr)
  }
}
