import Foundation
import TestSupport
import XCTest

/// --max-body may allow requests larger than any worker slot holds. Their bodies stream
/// through a slot as the worker reads them (ringabi.h, "Streamed request bodies"): they are
/// served whole, and they hold up no one meanwhile.
final class SlotLimitTests: XCTestCase {
  func testRequestLargerThanAnySlotStreamsAndHoldsUpNoOne() throws {
    let broker = try BrokerProcess([
      "--workers", "2", "--worker", Products.cWorker, "--max-body", "4000000",
    ])
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/").status, 200)

    let body = Uploads.body(count: 2_000_000)
    let large = try RawHTTPClient(port: broker.port, timeout: 10)
    try large.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n")
    try large.send(Array(body[0..<1_000_000]))
    // A worker took the upload (after the first GET) and reads it; half of it is sent.
    XCTAssertTrue(
      waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: 2), "no worker took the upload")
    // Another client is served meanwhile, at once.
    let small = try RawHTTPClient(port: broker.port, timeout: 10)
    let smallStart = Date()
    try small.send(Requests.get("/"))
    let smallResponse = try small.readResponse()
    XCTAssertEqual(smallResponse.status, 200)
    XCTAssertEqual(smallResponse.bodyText, "hello world\n")
    XCTAssertLessThan(Date().timeIntervalSince(smallStart), 2, "the small request was held up")

    try large.send(Array(body[1_000_000...]))
    let summed = try large.readResponse()
    XCTAssertEqual(summed.status, 200)
    XCTAssertEqual(summed.bodyText, Uploads.sumLine(body, streamed: true))
    // The body was read to its end, so the connection is still in step.
    try large.send(Requests.post("/echo", body: "after"))
    let after = try large.readResponse()
    XCTAssertEqual(after.status, 200)
    XCTAssertTrue(after.bodyText.hasSuffix("\n\nafter"), after.bodyText)
  }
}
