import CRingABI
import Glibc
import RingChannel
import TestSupport
import XCTest

let childExecutable = Products.path("ringchannel-child")

/// What the front would write for a client at 192.0.2.7:40000 talking to 127.0.0.1:8080.
func testOrigin() -> RequestOrigin {
  RequestOrigin(
    remote: rb_endpoint(ipv4: (192, 0, 2, 7), port: 40000),
    local: rb_endpoint(ipv4: (127, 0, 0, 1), port: 8080), receivedUnixNanoseconds: rb_realtime_ns())
}

/// "GET / HTTP/1.1" with no headers, written by RequestSlotWriter into `slot` (at least 4 KiB):
/// the smallest real request image, for tests of what the writer produces or a reader checks.
func writeMinimalGet(
  into slot: UnsafeMutableRawBufferPointer, requestID: UInt64 = 1,
  origin: RequestOrigin = testOrigin()
) -> RequestSlotWriter.Written {
  let raw = Array("GET / HTTP/1.1\r\n\r\n".utf8)
  let parts = RequestSlotWriter.Parts(
    method: 0..<3, target: 4..<5, path: 4..<5, query: 5..<5, httpVersion: 11, flags: 0)
  return raw.withUnsafeBytes {
    RequestSlotWriter.write(
      into: slot, rawHead: $0, parts: parts, headers: [(name: Range<Int>, value: Range<Int>)](),
      body: UnsafeRawBufferPointer(start: nil, count: 0), requestID: requestID, origin: origin)!
  }
}

/// A request "POST /t HTTP/1.1" with one header and `body`, written into a free slot and
/// dispatched. Returns the slot, or nil when no slot is free.
@discardableResult
func dispatchRequest(
  _ front: FrontChannel, id: UInt64, body: [UInt8] = [], now: UInt64 = rb_monotonic_ns()
) -> Int? {
  let raw = Array("POST /t?q=1 HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
  let parts = RequestSlotWriter.Parts(
    method: 0..<4, target: 5..<11, path: 5..<7, query: 8..<11, httpVersion: 11, flags: 0)
  let headers = [(name: 22..<26, value: 28..<32)]
  let needed = RequestSlotWriter.requiredBytes(
    headerCount: 1, rawHeadLength: raw.count, bodyLength: body.count)
  guard let (slot, memory) = front.acquireSlot(requestBytes: needed) else { return nil }
  let written = raw.withUnsafeBytes { rawHead in
    body.withUnsafeBytes {
      RequestSlotWriter.write(
        into: memory, rawHead: rawHead, parts: parts, headers: headers, body: $0, requestID: id,
        origin: testOrigin())!
    }
  }
  XCTAssertTrue(
    front.dispatch(
      slot: slot, length: written.length, requestID: id, replyOffset: written.replyOffset,
      flags: 0, now: now))
  return slot
}

/// A segment plus an echo worker child attached to it.
final class EchoWorkerFixture {
  let segment: ChannelSegment
  let front: FrontChannel
  let child: ChildProcess

  init(spinNanoseconds: Int = 0, parameters: ChannelParameters = .standard) throws {
    segment = try ChannelSegment.create(name: "ringbroker-test", parameters: parameters)
    segment.header.pointee.state = UInt32(RB_STATE_RUNNING)
    front = FrontChannel(segment: segment)
    child = try ChildProcess.spawn(
      executable: childExecutable, arguments: ["echo"],
      environment: ["RINGWORKER_FD": "100", "RINGWORKER_SPIN_NS": String(spinNanoseconds)],
      inherit: [(segment.fd, 100)])
  }

  func wake() {
    front.publishAndWake()
  }

  /// Asks the worker to stop and returns its wait status; throws (the worker killed) when it
  /// has not exited within 30 s.
  func stop() throws -> Int32 {
    front.sendControl(flags: UInt32(RB_REQ_SHUTDOWN))
    wake()
    return try child.wait(timeout: 30, "echo worker")
  }
}
