import Foundation
import RingChannel
import TestSupport
import XCTest

/// rw_reply_capacity: what a reply may take, known before it starts (Request.replyCapacity, which
/// it returns, is what the Lua worker checks replies against: ErrorTests.testReplyRoomIsExact).
final class ReplyCapacityTests: XCTestCase {

  /// The C worker sends a body of rw_reply_capacity bytes: all of it arrives (not a byte more
  /// was claimed than the slot holds, nor less), and it follows each request's own size.
  func testCWorkerFillsExactlyItsReplyCapacity() throws {
    let worker = try WorkerFixture(executable: Products.cWorker, arguments: [])
    // Small requests land in the smallest slot of the standard layout.
    let slotSize = try XCTUnwrap(ChannelParameters.standard.slotClasses.map(\.slotSize).min())
    let long = [("X-Padding", String(repeating: "p", count: 3000))]
    for headers in [[], long] {
      let reply = try worker.request("GET", "/capacity", headers: headers)
      XCTAssertEqual(reply.status, 200, worker.log)
      XCTAssertEqual(
        reply.body.count, slotSize - worker.lastReplyOffset, "\(headers.count) headers")
      XCTAssertEqual(reply.body.first, UInt8(ascii: "c"))
    }
    XCTAssertEqual(try worker.request("GET", "/").text, "hello world\n")
    XCTAssertEqual(try worker.stop(), 0)
  }
}
