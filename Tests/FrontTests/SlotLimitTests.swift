import Foundation
import XCTest

/// --max-body may allow requests larger than any worker slot holds. Those get 413 at once:
/// queued, they would wait for a slot that never comes and hold up every request behind them.
final class SlotLimitTests: XCTestCase {
  func testRequestLargerThanAnySlotGets413AtOnceAndHoldsUpNoOne() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", FailedReplyTests.cWorker, "--max-body", "4000000",
    ])
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/").status, 200)

    let large = try RawHTTPClient(port: broker.port, timeout: 10)
    let start = Date()
    try large.send(Requests.post("/echo", body: String(repeating: "x", count: 2_000_000)))
    // Give the front time to take the whole request in: before the fix it sat in the queue
    // now, and the small request below waited behind it for the queue timeout (5 s).
    usleep(300_000)
    let small = try RawHTTPClient(port: broker.port, timeout: 10)
    let smallStart = Date()
    try small.send(Requests.get("/"))
    let smallResponse = try small.readResponse()
    XCTAssertEqual(smallResponse.status, 200)
    XCTAssertEqual(smallResponse.bodyText, "hello world\n")
    XCTAssertLessThan(Date().timeIntervalSince(smallStart), 2, "the small request was held up")

    let refused = try large.readResponse()
    XCTAssertEqual(refused.status, 413)
    XCTAssertEqual(
      refused.bodyText,
      "request too large for the workers: head and body must fit in 1114096 bytes\n")
    XCTAssertLessThan(Date().timeIntervalSince(start), 3, "the 413 waited for the queue timeout")
    // The body was read to its end, so the connection is still in step.
    try large.send(Requests.post("/echo", body: "after"))
    let after = try large.readResponse()
    XCTAssertEqual(after.status, 200)
    XCTAssertTrue(after.bodyText.hasSuffix("\n\nafter"), after.bodyText)
  }
}
