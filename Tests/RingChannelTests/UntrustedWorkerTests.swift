import CRingABI
import Glibc
import RingChannel
import XCTest

/// A worker process that writes nonsense into its channel: the front rejects it, marks the
/// channel broken, and carries on (this process is the front: reaching the assertions at all
/// means it did not crash).
final class UntrustedWorkerTests: XCTestCase {
  private func runGarbage(_ kind: String) throws -> String? {
    let segment = try ChannelSegment.create(name: "garbage-test", parameters: .standard)
    let front = FrontChannel(segment: segment)
    let child = try ChildProcess.spawn(
      executable: childExecutable, arguments: ["garbage", kind],
      environment: ["RINGWORKER_FD": "100"],
      inherit: [(segment.fd, 100)])
    defer {
      child.signal(SIGKILL)
      child.wait()
    }
    dispatchRequest(front, id: 5)
    dispatchRequest(front, id: 6)
    _ = front.publish()
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
}
