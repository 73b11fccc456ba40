import CRingABI
import Glibc
import RingChannel
import TestSupport
import XCTest

@testable import RingWorker

/// The worker library checks every span of a request head before using it: a request whose
/// sizes or offsets point outside its bytes, or whose metadata no front writes (an unknown
/// address family or scheme), makes the worker report its channel broken and exit cleanly,
/// never crash and never answer.
final class BadRequestSpanTests: XCTestCase {
  /// One request dispatched to an echo worker child, with `damage` applied to its head in the
  /// slot before the worker sees it. Returns the child's wait status.
  private func runEcho(damage: (UnsafeMutablePointer<rb_request_head>) -> Void) throws -> Int32 {
    let fixture = try EchoWorkerFixture()
    let slot = try XCTUnwrap(dispatchRequest(fixture.front, id: 1, body: Array("body".utf8)))
    damage(fixture.segment.slot(slot)!.baseAddress!.assumingMemoryBound(to: rb_request_head.self))
    fixture.wake()
    let deadline = rb_monotonic_ns() + 20_000_000_000
    var status: Int32 = 0
    while rb_monotonic_ns() < deadline {
      if waitpid(fixture.child.pid, &status, WNOHANG) == fixture.child.pid { return status }
      if case .reply = fixture.front.nextReply(now: 0) { break }
      usleep(2_000)
    }
    fixture.child.signal(SIGKILL)
    status = try fixture.child.wait(timeout: 10, "echo worker")
    XCTFail("the worker answered a request with impossible spans, or hung")
    return status
  }

  func testEveryBadSpanMakesTheWorkerExitCleanly() throws {
    let cases: [(String, (UnsafeMutablePointer<rb_request_head>) -> Void)] = [
      ("request size", { $0.pointee.request_size = 1 << 30 }),
      ("request size below the head", { $0.pointee.request_size = 8 }),
      ("header count", { $0.pointee.header_count = 1_000_000 }),
      ("method", { $0.pointee.method = rb_span(offset: 0xFFFF_0000, length: 4) }),
      ("target", { $0.pointee.target.length = 0xFFFF_FFFF }),
      ("path", { $0.pointee.path = rb_span(offset: 0x7FFF_FFF0, length: 0x100) }),
      ("query", { $0.pointee.query.offset = 1 << 20 }),
      ("body", { $0.pointee.body = rb_span(offset: 60, length: 1 << 20) }),
      (
        "header name",
        {
          let table = UnsafeMutableRawPointer($0 + 1).assumingMemoryBound(to: rb_header.self)
          table[0].name.offset = 0xFFFF_FF00
        }
      ),
      (
        "header value",
        {
          let table = UnsafeMutableRawPointer($0 + 1).assumingMemoryBound(to: rb_header.self)
          table[0].value.length = 1 << 16
        }
      ),
      // The metadata (ABI version 2): an address family or scheme no front writes.
      ("remote address family", { $0.pointee.remote.family = 5 }),
      ("local address family", { $0.pointee.local.family = 0 }),
      (
        "IPv4 address not in its mapped form",
        { head in withUnsafeMutableBytes(of: &head.pointee.remote.address) { $0[10] = 0 } }
      ),
      ("scheme", { $0.pointee.scheme = 9 }),
    ]
    for (name, damage) in cases {
      let status = try runEcho(damage: damage)
      XCTAssertEqual(status & 0x7F, 0, "\(name): the worker was killed by signal \(status & 0x7F)")
      XCTAssertEqual((status >> 8) & 0xFF, 0, "\(name): exit status")
    }
  }

  /// The check itself names what is wrong: metadata apart from spans.
  func testTheCheckTellsBadMetadataFromBadSpans() {
    let slot = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    defer { slot.deallocate() }
    let written = writeMinimalGet(into: slot)
    let head = slot.baseAddress!.assumingMemoryBound(to: rb_request_head.self)
    XCTAssertNil(RequestHeadCheck.problem(slot.baseAddress!, length: written.length))
    head.pointee.remote.family = UInt16(AF_INET)  // the platform's number, not RB_FAMILY_IPV4
    XCTAssertEqual(
      RequestHeadCheck.problem(slot.baseAddress!, length: written.length), .badMetadata)
    head.pointee.remote.family = UInt16(RB_FAMILY_IPV6)
    XCTAssertNil(RequestHeadCheck.problem(slot.baseAddress!, length: written.length))
    head.pointee.scheme = 0
    XCTAssertEqual(
      RequestHeadCheck.problem(slot.baseAddress!, length: written.length), .badMetadata)
    head.pointee.scheme = UInt32(RB_SCHEME_HTTP)
    head.pointee.method.length = 4096
    XCTAssertEqual(
      RequestHeadCheck.problem(slot.baseAddress!, length: written.length), .spanOutside)
  }

  func testAnIntactRequestIsStillServed() throws {
    let fixture = try EchoWorkerFixture()
    dispatchRequest(fixture.front, id: 1, body: Array("body".utf8))
    fixture.wake()
    guard case .reply(let reply) = awaitReply(fixture.front) else {
      return XCTFail("no reply")
    }
    XCTAssertEqual(Array(reply.body.dropFirst(8)), Array("body".utf8))
    fixture.front.releaseSlot(reply.slot)
    XCTAssertEqual(try fixture.stop(), 0)
  }
}
