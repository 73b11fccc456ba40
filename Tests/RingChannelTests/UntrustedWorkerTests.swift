import CRingABI
import Glibc
import RingChannel
import TestSupport
import XCTest

/// A worker process that writes nonsense into its channel: the front rejects it, marks the
/// channel broken, and carries on (this process is the front: reaching the assertions at all
/// means it did not crash).
final class UntrustedWorkerTests: XCTestCase {
  /// A channel with `ringchannel-child garbage KIND` attached and requests 5 and 6 dispatched
  /// to it; the worker is killed when `body` returns.
  private func withGarbageWorker<T>(
    _ kind: String, _ body: (ChannelSegment, FrontChannel) throws -> T
  ) throws -> T {
    let segment = try ChannelSegment.create(name: "garbage-test", parameters: .standard)
    let front = FrontChannel(segment: segment)
    let child = try ChildProcess.spawn(
      executable: childExecutable, arguments: ["garbage", kind],
      environment: ["RINGWORKER_FD": "100"],
      inherit: [(segment.fd, 100)])
    defer { child.killAndReap() }
    dispatchRequest(front, id: 5)
    dispatchRequest(front, id: 6)
    _ = front.publish()
    return try body(segment, front)
  }

  private func runGarbage(_ kind: String) throws -> String? {
    try withGarbageWorker(kind) { segment, front in try verdict(kind, segment, front) }
  }

  /// Polls until the channel is found broken (its reason) or a reply is accepted (nil, and
  /// the test fails).
  private func verdict(_ kind: String, _ segment: ChannelSegment, _ front: FrontChannel) throws
    -> String?
  {
    let deadline = rb_monotonic_ns() + 20_000_000_000
    while rb_monotonic_ns() < deadline {
      switch front.nextReply(now: 0) {
      case .broken(let reason):
        XCTAssertTrue(front.isBroken)
        XCTAssertEqual(segment.header.pointee.state, UInt32(RB_STATE_BROKEN))
        XCTAssertEqual(segment.header.pointee.front.errors, 1)
        // Still broken, still no crash, on every later poll.
        guard case .broken = front.nextReply(now: 0) else {
          XCTFail("recovered")
          return nil
        }
        return reason
      case .reply, .bodyTaken:
        XCTFail("\(kind): accepted an invalid reply")
        return nil
      case .none: usleep(1000)
      }
    }
    XCTFail("\(kind): no verdict")
    return nil
  }

  func testEachKindOfGarbageBreaksTheChannel() throws {
    let expectations = [
      "slot": "not with the worker",
      "other-slot": "request id",  // a slot that is with the worker, but for another request
      "request-id": "request id",
      "status": "status 999",
      "body-length": "outside slot",
      "body-offset": "outside slot",
      "header-length": "outside slot",
      "flags": "flags",
      "head-jump": "impossible response-ring head",
    ]
    for (kind, phrase) in expectations.sorted(by: { $0.key < $1.key }) {
      let reason = try runGarbage(kind)
      XCTAssertTrue(reason?.contains(phrase) == true, "\(kind): \(reason ?? "nil")")
    }
  }

  /// A worker that publishes one valid reply, waits until the front has taken it (released
  /// its ring entry), then moves the response-ring head back to 0 (behind the front's tail): the valid reply is accepted,
  /// and the impossible head breaks the channel.
  func testHeadMovedBackwardsBreaksTheChannelAfterAValidReply() throws {
    try withGarbageWorker("head-backwards") { segment, front in
      guard case .reply(let reply) = awaitReply(front) else {
        return XCTFail("head-backwards: the valid reply before the garbage was not accepted")
      }
      XCTAssertEqual(reply.requestID, 5)
      XCTAssertEqual(reply.status, 200)
      front.releaseResponses()
      let reason = try verdict("head-backwards", segment, front)
      XCTAssertEqual(reason, "worker wrote an impossible response-ring head")
    }
  }
}
