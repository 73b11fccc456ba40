import CRingABI
import RingChannel
import XCTest

/// The front writes each request into its own copy of the slot and copies it into shared
/// memory at dispatch; what it reads back for a re-dispatch comes from its copy.
final class RequestCopyTests: XCTestCase {
  func testTheSlotGetsTheRequestAndTheFrontKeepsItsOwnCopy() throws {
    let segment = try ChannelSegment.create(name: "copy-test", parameters: .standard)
    let front = FrontChannel(segment: segment)
    let body = Array("the body".utf8)
    let slot = try XCTUnwrap(dispatchRequest(front, id: 41, body: body))
    let shared = try XCTUnwrap(segment.slot(slot))
    let head = shared.baseAddress!.load(as: rb_request_head.self)
    XCTAssertEqual(head.request_id, 41)
    let size = Int(head.request_size)
    let sent = Array(UnsafeRawBufferPointer(rebasing: shared[0..<size]))
    XCTAssertEqual(
      Array(sent[Int(head.body.offset)..<Int(head.body.offset + head.body.length)]), body)

    // The worker rewrites the whole request in its slot: the front's copy is unchanged.
    memset(shared.baseAddress!, 0x5A, size)
    XCTAssertEqual(Array(front.requestBytes(slot: slot, length: size)), sent)
  }

  /// Each slot has a copy of its own: filling one leaves the others' copies alone.
  func testEachSlotHasItsOwnCopy() throws {
    let segment = try ChannelSegment.create(name: "copy-test", parameters: .standard)
    let front = FrontChannel(segment: segment)
    let first = try XCTUnwrap(
      dispatchRequest(front, id: 1, body: Array(repeating: 0x31, count: 64)))
    let firstBytes = Array(front.requestBytes(slot: first, length: 4096))
    for id in 2...4 {
      XCTAssertNotNil(
        dispatchRequest(front, id: UInt64(id), body: Array(repeating: 0x32, count: 64)))
    }
    XCTAssertEqual(Array(front.requestBytes(slot: first, length: 4096)), firstBytes)
  }
}
