import Foundation
import TestSupport
import XCTest

@testable import RingFront

/// What a client receives is what the front checked, whatever the worker writes afterwards.
final class ReplyIntegrityTests: XCTestCase {
  /// The rogue worker (ringchannel-child rewrite-headers) answers each request with
  /// "X-A: aaa…" and a 60 KB body, then rewrites that header line in shared memory 150 ms later
  /// into one that ends the head early and, together with the body's last bytes, forms a second
  /// response "299 Evil". The client pipelines many requests and reads nothing until the worker
  /// rewrote replies the front still holds; if the front sent header bytes from shared memory,
  /// the client would parse more responses than it sent requests.
  func testWorkerRewritingHeadersAfterReplyingCannotSplitTheResponse() throws {
    let worker = Products.path("ringchannel-child") + " rewrite-headers"
    let broker = try BrokerProcess(["--workers", "1", "--worker", worker])
    defer { _ = broker.stop() }
    let count = 150
    let client = try RawHTTPClient(port: broker.port, receiveBufferSize: 4096)
    try client.send(String(repeating: Requests.get("/pipelined"), count: count))
    // The front holds at most FrontLoop.maxRepliesAhead replies of a client that does not
    // read; the worker rewrites every one of them while they wait.
    let held = FrontLoop.maxRepliesAhead
    XCTAssertTrue(
      waitUntil(timeout: 20) { broker.stderr.contains("rewrote \(held) header lines") },
      broker.stderr)

    var statuses: [Int: Int] = [:]
    var smuggledHeaders = 0
    var intact = 0
    for _ in 0..<count {
      let response = try client.readResponse()
      statuses[response.status, default: 0] += 1
      if response.header("X-Evil") != nil || response.header("X") != nil { smuggledHeaders += 1 }
      if response.status == 200, response.header("X-A") == String(repeating: "a", count: 50),
        response.body.count == 60_000
      {
        intact += 1
      }
    }
    XCTAssertEqual(statuses, [200: count], "one 200 per request, nothing smuggled")
    XCTAssertEqual(smuggledHeaders, 0)
    XCTAssertEqual(intact, count, "every reply carries the header line the worker first wrote")
    XCTAssertEqual(client.bufferedBytes, 0, "no bytes beyond the last response")
    XCTAssertTrue(client.staysSilent(for: 0.5), "no response beyond one per request")
  }

  /// A short body is copied when the front takes the reply: the rogue worker rewrites it in
  /// the slot 150 ms later, while the reply still waits among the replies the front holds for
  /// a client that reads nothing (every fourth reply is a short one, so those held include
  /// one), and the client gets every short body as first written.
  func testWorkerRewritingASmallBodyAfterReplyingChangesNothingSent() throws {
    let worker = Products.path("ringchannel-child") + " rewrite-headers"
    let broker = try BrokerProcess(["--workers", "1", "--worker", worker])
    defer { _ = broker.stop() }
    let client = try RawHTTPClient(port: broker.port, receiveBufferSize: 4096)
    let paths = Array(repeating: ["/pipelined", "/pipelined", "/pipelined", "/small"], count: 40)
      .joined()
    try client.send(paths.map { Requests.get($0) }.joined())
    XCTAssertTrue(
      waitUntil(timeout: 20) {
        broker.stderr.contains("rewrote 1 small bodies")
          && broker.stderr.contains("every reply rewritten")
      }, broker.stderr)
    for path in paths {
      let response = try client.readResponse()
      XCTAssertEqual(response.status, 200, path)
      if path == "/small" { XCTAssertEqual(response.bodyText, "the body the worker first wrote") }
    }
  }

  /// A header block that is invalid when the front takes the reply is refused with 502, counted
  /// against the worker, and the connection stays usable.
  func testInvalidReplyHeadersAreAnswered502() throws {
    let worker = Products.path("ringchannel-child") + " rewrite-headers"
    let broker = try BrokerProcess(["--workers", "1", "--worker", worker])
    defer { _ = broker.stop() }
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get("/invalid"))
    let refused = try client.readResponse()
    XCTAssertEqual(refused.status, 502)
    XCTAssertNil(refused.header("X"))
    XCTAssertTrue(
      waitUntil(timeout: 10) {
        broker.stderr.contains("worker 0 wrote invalid reply headers; answered 502")
      }, broker.stderr)
    try client.send(Requests.get("/valid"))
    let next = try client.readResponse()
    XCTAssertEqual(next.status, 200)
    XCTAssertEqual(next.header("X-A"), String(repeating: "a", count: 50))
  }
}
