import Foundation
import TestSupport
import XCTest

/// Request bodies larger than a slot stream through the worker's slot (ringabi.h, "Streamed
/// request bodies"): the C worker reads them with rw_body_read and answers with their length
/// and FNV-1a 64, so every byte is checked, while the broker's memory stays bounded.
final class StreamedBodyTests: XCTestCase {
  private var broker: BrokerProcess!

  override func setUpWithError() throws {
    broker = try BrokerProcess(["--workers", "1", "--worker", Products.cWorker])
  }

  override func tearDown() {
    XCTAssertEqual(broker.stop(), 0)
    broker = nil
  }

  private func warmUp() throws {
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.post("/sum", body: "warm"))
    XCTAssertEqual(
      try client.readResponse().bodyText, Uploads.sumLine(Array("warm".utf8), streamed: false))
  }

  func testContentLength64MiBUploadIsByteExactInBoundedMemory() throws {
    try warmUp()
    let before = peakResidentMemoryKiB(broker.pid)
    let body = Uploads.body(count: 64 << 20)
    let client = try RawHTTPClient(port: broker.port, timeout: 120)
    try Uploads.sendContentLength(client, path: "/sum", body: body)
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 200, broker.stderr)
    XCTAssertEqual(response.bodyText, Uploads.sumLine(body, streamed: true))
    let growth = peakResidentMemoryKiB(broker.pid) - before
    XCTAssertGreaterThan(before, 0)
    XCTAssertLessThan(growth, 32 * 1024, "broker VmHWM grew by \(growth) KiB")
    // The connection stays in sync: the body was consumed exactly.
    try client.send(Requests.post("/sum", body: "after"))
    XCTAssertEqual(
      try client.readResponse().bodyText, Uploads.sumLine(Array("after".utf8), streamed: false))
  }

  func testChunked64MiBUploadIsByteExactInBoundedMemory() throws {
    try warmUp()
    let before = peakResidentMemoryKiB(broker.pid)
    let body = Uploads.body(count: (64 << 20) + 7, seed: 7)
    let client = try RawHTTPClient(port: broker.port, timeout: 120)
    try Uploads.sendChunked(client, path: "/sum", body: body, chunkSize: 300_001)
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 200, broker.stderr)
    XCTAssertEqual(response.bodyText, Uploads.sumLine(body, streamed: true))
    let growth = peakResidentMemoryKiB(broker.pid) - before
    XCTAssertLessThan(growth, 32 * 1024, "broker VmHWM grew by \(growth) KiB")
    try client.send(Requests.get("/sum"))
    XCTAssertEqual(try client.readResponse().bodyText, Uploads.sumLine([], streamed: false))
  }

  /// Bodies just around the point where streaming starts, in both framings, pipelined with a
  /// request behind each: every size arrives whole and the connection stays in sync.
  func testBodiesAroundTheStreamingThreshold() throws {
    let client = try RawHTTPClient(port: broker.port, timeout: 30)
    for size in [40_000, 48_000, 49_000, 60_000, 70_000, 200_000] {
      let body = Uploads.body(count: size, seed: UInt64(size))
      try Uploads.sendContentLength(client, path: "/sum", body: body)
      try Uploads.sendChunked(client, path: "/sum", body: body, chunkSize: 7_000)
      let first = try client.readResponse()
      let second = try client.readResponse()
      XCTAssertEqual(first.status, 200, "\(size)")
      // Whether it streamed depends on the slot layout; the bytes must not.
      XCTAssertTrue(
        first.bodyText.hasPrefix(String(Uploads.sumLine(body, streamed: true).dropLast(2))),
        "\(size): \(first.bodyText)")
      XCTAssertTrue(
        second.bodyText.hasPrefix(String(Uploads.sumLine(body, streamed: true).dropLast(2))),
        "\(size): \(second.bodyText)")
    }
    try client.send(Requests.get("/"))
    XCTAssertEqual(try client.readResponse().bodyText, "hello world\n")
  }

  func testExpectContinueStillWorksForAStreamedBody() throws {
    let body = Uploads.body(count: 300_000, seed: 3)
    let client = try RawHTTPClient(port: broker.port)
    try client.send(
      "POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\nExpect: 100-continue\r\n\r\n"
    )
    XCTAssertEqual(try client.readResponse().status, 100)
    try client.send(body)
    XCTAssertEqual(try client.readResponse().bodyText, Uploads.sumLine(body, streamed: true))
  }

  /// A worker that answers without reading the body: the reply goes out with
  /// `Connection: close`, the rest of the body is never read, and the connection closes.
  func testReplyBeforeTheBodyClosesTheConnectionAfterTheReply() throws {
    let client = try RawHTTPClient(port: broker.port, timeout: 10)
    try client.send("POST /unread HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n")
    try client.send(Uploads.body(count: 100_000))
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.bodyText, "hello world\n")
    XCTAssertEqual(response.header("Connection"), "close")
    XCTAssertEqual(client.waitForClose(), [])
    XCTAssertEqual(try get(broker.port, "/").status, 200)
  }

  /// A 1 MB upload at about 80 KB/s takes ~13 s, longer than the header and body timeouts
  /// (10 s each): it completes, because only time without progress counts.
  func testSlowUploadThatKeepsComingCompletes() throws {
    let body = Uploads.body(count: 1_000_000, seed: 80)
    let client = try RawHTTPClient(port: broker.port, timeout: 60)
    try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n")
    let start = Date()
    var offset = 0
    while offset < body.count {
      let end = min(offset + 8_000, body.count)
      try client.send(Array(body[offset..<end]))
      offset = end
      usleep(100_000)  // the client's pace (about 80 KB/s) is what is under test
    }
    let response = try client.readResponse()
    XCTAssertGreaterThan(Date().timeIntervalSince(start), 10)
    XCTAssertEqual(response.status, 200, broker.stderr)
    XCTAssertEqual(response.bodyText, Uploads.sumLine(body, streamed: true))
  }

  /// A client that leaves mid-upload: rw_body_read fails in the worker (RB_REQ_BODY_ABORTED),
  /// which then serves the next request.
  func testClientLeavingMidUploadFailsTheWorkersReadAndTheWorkerServesOn() throws {
    let taken = try XCTUnwrap(requestsTaken(byWorkersOf: broker.pid), "ringstat failed")
    let client = try RawHTTPClient(port: broker.port)
    try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n")
    try client.send(Uploads.body(count: 200_000))
    // The client leaves once a worker is reading its body (took the request).
    XCTAssertTrue(waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: taken + 1))
    client.closeConnection()
    XCTAssertTrue(
      waitUntil(timeout: 10) { (try? get(broker.port, "/stats").bodyText) == "body_errors 1\n" },
      broker.stderr)
    let body = Uploads.body(count: 500_000, seed: 5)
    let next = try RawHTTPClient(port: broker.port)
    try Uploads.sendContentLength(next, path: "/sum", body: body)
    XCTAssertEqual(try next.readResponse().bodyText, Uploads.sumLine(body, streamed: true))
  }

  /// A body that stops arriving gets 408 after --body-timeout, and the worker's read fails.
  func testStalledUploadTimesOutAndTheWorkersReadFails() throws {
    let stalled = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--body-timeout", "1",
    ])
    defer { XCTAssertEqual(stalled.stop(), 0) }
    let client = try RawHTTPClient(port: stalled.port, timeout: 10)
    try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n")
    try client.send(Uploads.body(count: 100_000))
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 408)
    XCTAssertEqual(client.waitForClose(), [])
    XCTAssertTrue(
      waitUntil(timeout: 10) { (try? get(stalled.port, "/stats").bodyText) == "body_errors 1\n" })
  }
}

/// The Swift module's body reader (`request.bodyChunks`, workers/swift-hello /sum) on the same
/// uploads: in the slot and streamed, both framings, byte-exact.
final class SwiftWorkerBodyTests: XCTestCase {
  func testBodyChunksReadsSmallAndStreamedBodiesByteExact() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.path("swift-hello-worker"),
    ])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let client = try RawHTTPClient(port: broker.port, timeout: 60)
    let small = Uploads.body(count: 1_000, seed: 11)
    try Uploads.sendContentLength(client, path: "/sum", body: small)
    XCTAssertEqual(try client.readResponse().bodyText, Uploads.sumLine(small, streamed: false))
    let large = Uploads.body(count: 9 << 20, seed: 12)
    try Uploads.sendContentLength(client, path: "/sum", body: large)
    XCTAssertEqual(try client.readResponse().bodyText, Uploads.sumLine(large, streamed: true))
    try Uploads.sendChunked(client, path: "/sum", body: large, chunkSize: 65_537)
    XCTAssertEqual(try client.readResponse().bodyText, Uploads.sumLine(large, streamed: true))
  }

  func testClientLeavingMidUploadEndsBodyChunksWithAnError() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.path("swift-hello-worker"),
    ])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let client = try RawHTTPClient(port: broker.port)
    try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n")
    try client.send(Uploads.body(count: 300_000))
    // The client leaves once the worker is reading its body (took the request).
    XCTAssertTrue(waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: 1))
    client.closeConnection()
    // The worker's iteration ended (RB_REQ_BODY_ABORTED) instead of waiting for the rest: it
    // serves the next request at once (its only worker; a hang would time this out).
    let start = Date()
    let next = try RawHTTPClient(port: broker.port, timeout: 5)
    try next.send(Requests.get("/"))
    XCTAssertEqual(try next.readResponse().bodyText, "hello world\n")
    XCTAssertLessThan(Date().timeIntervalSince(start), 3)
  }
}
