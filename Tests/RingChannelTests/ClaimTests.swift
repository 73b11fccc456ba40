import CRingABI
import Glibc
import RingChannel
import RingWorker
import TestSupport
import XCTest

/// The claim protocol (ringabi.h, "Slot claims") on a real segment, with the front's and the
/// worker's side in one process: exactly one side wins each request, a revoked request is never
/// run, and a revoked slot is reused only once the worker's ring tail passed its descriptor.
final class ClaimTests: XCTestCase {
  private func channel() throws -> (ChannelSegment, FrontChannel, Worker) {
    let segment = try ChannelSegment.create(name: "claim-test", parameters: .standard)
    segment.header.pointee.state = UInt32(RB_STATE_RUNNING)
    let front = FrontChannel(segment: segment)
    let worker = try Worker(fd: dup(segment.fd), spin: .never)
    return (segment, front, worker)
  }

  func testFrontRevokesAnUnclaimedRequestAndTheWorkerDropsIt() throws {
    let (_, front, worker) = try channel()
    let slot = try XCTUnwrap(dispatchRequest(front, id: 41))
    front.publishAndWake()
    XCTAssertTrue(front.mayRevoke(slot: slot))
    XCTAssertTrue(front.revoke(slot: slot), "nobody claimed it")
    XCTAssertEqual(front.inFlight, 0)
    XCTAssertFalse(front.revoke(slot: slot), "revoked once")
    guard case .timeout = worker.next(timeoutMilliseconds: 0) else {
      return XCTFail("the worker must not run a revoked request")
    }
  }

  func testAClaimedRequestCannotBeRevoked() throws {
    let (_, front, worker) = try channel()
    let slot = try XCTUnwrap(dispatchRequest(front, id: 42))
    front.publishAndWake()
    guard case .request(let request) = worker.next(timeoutMilliseconds: 0) else {
      return XCTFail("the worker claims and runs it")
    }
    XCTAssertEqual(String(decoding: request.path, as: UTF8.self), "/t")
    XCTAssertFalse(front.revoke(slot: slot), "claimed: the worker's")
    XCTAssertFalse(front.mayRevoke(slot: slot), "a failed revocation is remembered")
    XCTAssertEqual(front.inFlight, 1)
  }

  func testRevokedSlotIsFreeOnlyOnceTheWorkerPassedItsDescriptor() throws {
    let (_, front, worker) = try channel()
    let free = front.freeSlotCount
    let slot = try XCTUnwrap(dispatchRequest(front, id: 43))
    front.publishAndWake()
    XCTAssertTrue(front.revoke(slot: slot))
    front.freeRevokedSlots()
    XCTAssertEqual(front.freeSlotCount, free - 1, "its descriptor is still in the ring")
    guard case .timeout = worker.next(timeoutMilliseconds: 0) else { return XCTFail() }
    worker.flush()
    front.freeRevokedSlots()
    XCTAssertEqual(front.freeSlotCount, free, "the worker took the descriptor and dropped it")
  }

  /// A worker that rewrites a claim word cannot make the front take back a request it holds
  /// under another value: anything but the request id the front stored counts as claimed.
  func testForgedClaimWordCountsAsClaimed() throws {
    let (segment, front, _) = try channel()
    let slot = try XCTUnwrap(dispatchRequest(front, id: 44))
    segment.claimWord(slot).pointee = 12345
    XCTAssertFalse(front.revoke(slot: slot))
    XCTAssertEqual(front.inFlight, 1)
  }

  /// Stalled: requests held and no progress for the threshold; a reply is progress, and a
  /// request given to a worker that held none restarts the clock.
  func testStallNeedsHeldRequestsAndNoProgress() throws {
    let (_, front, worker) = try channel()
    let start: UInt64 = 1_000_000_000
    XCTAssertFalse(front.hasStalled(now: start + 10_000_000_000, thresholdNs: 5_000_000), "idle")
    try XCTUnwrap(dispatchRequest(front, id: 45, now: start))
    front.publishAndWake()
    XCTAssertFalse(front.hasStalled(now: start + 4_000_000, thresholdNs: 5_000_000))
    XCTAssertTrue(front.hasStalled(now: start + 6_000_000, thresholdNs: 5_000_000))
    guard case .request(let request) = worker.next(timeoutMilliseconds: 0) else {
      return XCTFail()
    }
    try Array("ok".utf8).withUnsafeBytes {
      try request.reply.send(status: 200, contentType: nil, body: $0)
    }
    worker.flush()
    guard case .reply = front.nextReply(now: start + 7_000_000) else { return XCTFail() }
    XCTAssertFalse(front.hasStalled(now: start + 8_000_000, thresholdNs: 5_000_000), "answered")
  }
}
