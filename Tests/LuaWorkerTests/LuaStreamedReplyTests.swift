import CRingABI
import Foundation
import TestSupport
import XCTest

/// Lua bodies of any size: a string larger than the reply room is streamed with its length
/// declared, a function body is called until it returns nil and each piece goes out at once.
final class LuaStreamedReplyTests: XCTestCase {
  func testTenMiBStringIsStreamedWithItsLength() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      "return function(req) return 200, {['Content-Type'] = 'text/plain'}, string.rep('abcdefghij', 1048576) end"
    )
    let worker = try WorkerFixture(app: app)
    let reply = try worker.request("GET", "/")
    XCTAssertEqual(reply.status, 200)
    XCTAssertTrue(reply.streamed)
    XCTAssertEqual(reply.declaredLength, 10 << 20)
    XCTAssertEqual(reply.header("Content-Type"), "text/plain")
    XCTAssertEqual(reply.body.count, 10 << 20)
    let period = Array("abcdefghij".utf8)
    XCTAssertTrue(reply.body.enumerated().allSatisfy { $0.element == period[$0.offset % 10] })
    XCTAssertEqual(try worker.request("GET", "/").body.count, 10 << 20, "and again")
    XCTAssertEqual(try worker.stop(), 0)
  }

  func testFunctionBodyFromACoroutineStreamsEachPiece() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      """
      return function(req)
        local n = tonumber(req.query.n)
        return 200, {['Content-Type'] = 'text/event-stream'}, coroutine.wrap(function()
          for i = 1, n do coroutine.yield('data: ' .. i .. '\\n\\n') end
        end)
      end
      """)
    let worker = try WorkerFixture(app: app)
    let reply = try worker.request("GET", "/?n=500")
    XCTAssertEqual(reply.status, 200)
    XCTAssertTrue(reply.streamed)
    XCTAssertNil(reply.declaredLength)
    XCTAssertFalse(reply.aborted)
    XCTAssertEqual(reply.text, (1...500).map { "data: \($0)\n\n" }.joined())
    XCTAssertEqual(try worker.request("GET", "/?n=0").text, "")
    XCTAssertEqual(try worker.stop(), 0)
  }

  func testFailingBodyFunctionAnswers500OrAbortsTheStream() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      """
      return function(req)
        local calls = 0
        return 200, nil, function()
          calls = calls + 1
          if calls > tonumber(req.query.ok) then error('boom') end
          return 'piece'
        end
      end
      """)
    let worker = try WorkerFixture(app: app)
    let early = try worker.request("GET", "/?ok=0")
    XCTAssertEqual(early.status, 500, "nothing went out: still a 500")
    let late = try worker.request("GET", "/?ok=3")
    XCTAssertEqual(late.status, 200)
    XCTAssertTrue(late.aborted, "the connection is closed: the client sees a cut body")
    XCTAssertEqual(late.text, "piecepiecepiece")
    XCTAssertEqual(try worker.stop(), 0)
    XCTAssertTrue(worker.log.contains("body function failed"), worker.log)
    XCTAssertTrue(worker.log.contains("boom"), worker.log)
  }

  /// A shutdown that arrives while a streamed reply waits for credits lets the reply finish:
  /// it is work in hand. The worker exits after it.
  func testShutdownDuringAStreamedReplyLetsItFinish() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua", "return function(req) return 200, nil, string.rep('s', 300000) end")
    let worker = try WorkerFixture(app: app)
    let slot = try XCTUnwrap(worker.dispatch("GET", "/", id: 7))
    worker.wake()
    var received = 0
    var parts = 0
    var last = false
    while !last {
      guard case .reply(let part) = awaitReply(worker.front) else {
        return XCTFail("no part; log:\n\(worker.log)")
      }
      XCTAssertEqual(part.slot, slot)
      received += part.body.count
      parts += 1
      last = part.isLast
      XCTAssertFalse(part.isAborted, worker.log)
      worker.front.releaseResponses()
      if parts == 1 { worker.front.sendControl(flags: UInt32(RB_REQ_SHUTDOWN)) }
      if !last { worker.front.partSent(slot: part.slot, clientGone: false) }
      worker.wake()
    }
    XCTAssertEqual(received, 300000)
    worker.front.releaseSlot(slot)
    XCTAssertEqual(try worker.waitForExit(), 0)
  }
}
