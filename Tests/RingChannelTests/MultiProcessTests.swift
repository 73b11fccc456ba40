import CRingABI
import Glibc
import RingChannel
import TestSupport
import XCTest

/// Real processes on both ends of a real channel.
final class MultiProcessTests: XCTestCase {
  /// Millions of messages through a spawned worker, each checked byte for byte: the reply holds
  /// the worker's FNV-1a of the body it read in place, then the body echoed.
  func testMillionsOfMessagesArriveIntactAndInOrderOfCompletion() throws {
    let fixture = try EchoWorkerFixture(spinNanoseconds: 20_000)
    let total = 2_000_000
    var sent = 0
    var received = 0
    var bodies: [Int: [UInt8]] = [:]
    // Every slot of the channel in flight (a request is dispatched only into a free slot, and
    // a slot is free again only once its reply is taken), so that both rings run at the depth
    // the layout allows, whatever it is.
    let depth = ChannelParameters.standard.totalSlots
    while received < total {
      while sent < total, fixture.front.inFlight < depth {
        sent += 1
        // Bodies of varying length and content, so that a misplaced byte changes the sum.
        let body = (0..<(sent % 61)).map { UInt8(truncatingIfNeeded: sent &* 31 &+ $0) }
        guard dispatchRequest(fixture.front, id: UInt64(sent), body: body) != nil else {
          return XCTFail("no free slot with \(fixture.front.inFlight) of \(depth) in flight")
        }
        bodies[sent] = body
      }
      fixture.wake()
      switch awaitReply(fixture.front) {
      case .reply(let reply):
        let body = try XCTUnwrap(bodies.removeValue(forKey: Int(reply.requestID)))
        XCTAssertEqual(reply.body.count, 8 + body.count)
        XCTAssertEqual(reply.body.load(as: UInt64.self), fnv1a64(body))
        XCTAssertTrue(reply.body.dropFirst(8).elementsEqual(body))
        fixture.front.releaseSlot(reply.slot)
        received += 1
        while case .reply(let more) = fixture.front.nextReply(now: 0) {
          let expected = try XCTUnwrap(bodies.removeValue(forKey: Int(more.requestID)))
          XCTAssertEqual(more.body.load(as: UInt64.self), fnv1a64(expected))
          fixture.front.releaseSlot(more.slot)
          received += 1
        }
        fixture.front.releaseResponses()
      case .broken(let reason): return XCTFail(reason)
      case .bodyTaken: return XCTFail("a body acknowledgement for a request without a body")
      case .none: return XCTFail("no reply within the timeout after \(received) replies")
      }
    }
    XCTAssertTrue(bodies.isEmpty)
    XCTAssertEqual(fixture.segment.header.pointee.front.replies_completed, UInt64(total))
    XCTAssertEqual(fixture.segment.header.pointee.worker.replies_published, UInt64(total))
    XCTAssertEqual(try fixture.stop(), 0)
  }

  /// Both sides sleep between every message (no spinning at all), so every single hop goes
  /// through the sleeping-flag handshake and a futex wake. A lost wake-up shows as a sleep that
  /// ran out while a message was already waiting; there must be none, on either side.
  func testSleepWakeHandshakeLosesNoWakeUps() throws {
    let fixture = try EchoWorkerFixture(spinNanoseconds: 0)
    var lostByFront = 0
    for id in 1...100_000 {
      dispatchRequest(fixture.front, id: UInt64(id))
      fixture.wake()
      while true {
        if case .reply(let reply) = fixture.front.nextReply(now: 0) {
          fixture.front.releaseResponses()
          fixture.front.releaseSlot(reply.slot)
          break
        }
        if !fixture.front.sleepUntilReplyPending(timeoutNanoseconds: 2_000_000_000) {
          lostByFront += 1
        }
      }
    }
    XCTAssertEqual(lostByFront, 0)
    XCTAssertEqual(fixture.segment.header.pointee.worker.late_wakeups, 0)
    XCTAssertGreaterThan(
      fixture.segment.header.pointee.worker.wakeups, 1000, "the worker did sleep")
    XCTAssertEqual(try fixture.stop(), 0)
  }

  func testWorkerExitsWhenTheChannelIsMarkedDead() throws {
    let fixture = try EchoWorkerFixture(spinNanoseconds: 0)
    fixture.segment.header.pointee.state = UInt32(RB_STATE_DEAD)
    let status = try fixture.child.wait(timeout: 20, "echo worker on a dead channel")
    XCTAssertEqual(status, 0, "the worker noticed within its sleep slice and exited cleanly")
  }
}
