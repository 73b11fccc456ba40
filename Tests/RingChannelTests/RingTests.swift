import CRingABI
import RingChannel
import RingWorker
import XCTest

final class RingTests: XCTestCase {
  private func makeSegment() throws -> ChannelSegment {
    try ChannelSegment.create(
      name: "ring-test",
      parameters: ChannelParameters(slotClasses: [SlotClassSpec(slotSize: 4096, slotCount: 8)]))
  }

  func testRingWrapsAroundManyTimesInOrder() throws {
    let segment = try makeSegment()
    var producer = RingProducer<rb_request_descriptor>(segment.requestRing)
    var consumer = RingConsumer<rb_request_descriptor>(segment.requestRing)
    let capacity = segment.layout.ringCapacity
    var next: UInt64 = 0
    var expected: UInt64 = 0
    for round in 0..<(capacity * 20) {
      // Vary the batch so that batches straddle the wrap point.
      let batch = 1 + round % capacity
      var pushed = 0
      while pushed < batch {
        var descriptor = rb_request_descriptor()
        descriptor.request_id = next
        guard case .pushed = producer.push(descriptor) else { break }
        next += 1
        pushed += 1
      }
      producer.publish()
      while case .entry(let entry) = consumer.pop() {
        XCTAssertEqual(entry.request_id, expected)
        expected += 1
      }
      consumer.release()
    }
    XCTAssertEqual(expected, next)
    XCTAssertGreaterThan(next, UInt64(capacity * 10))
  }

  func testFullRingRefusesUntilTheConsumerReleases() throws {
    let segment = try makeSegment()
    var producer = RingProducer<rb_request_descriptor>(segment.requestRing)
    var consumer = RingConsumer<rb_request_descriptor>(segment.requestRing)
    for _ in 0..<segment.layout.ringCapacity {
      guard case .pushed = producer.push(rb_request_descriptor()) else {
        return XCTFail("early full")
      }
    }
    guard case .full = producer.push(rb_request_descriptor()) else { return XCTFail("not full") }
    producer.publish()
    guard case .entry = consumer.pop() else { return XCTFail("empty") }
    guard case .full = producer.push(rb_request_descriptor()) else {
      return XCTFail("a popped but unreleased entry must not be reused")
    }
    consumer.release()
    guard case .pushed = producer.push(rb_request_descriptor()) else {
      return XCTFail("still full")
    }
  }

  func testSlotExhaustionAndReuse() throws {
    let segment = try makeSegment()
    let front = FrontChannel(segment: segment)
    var slots: [Int] = []
    while let (index, _) = front.acquireSlot(requestBytes: 100) { slots.append(index) }
    XCTAssertEqual(slots.count, 8)
    XCTAssertEqual(Set(slots).count, 8)
    XCTAssertNil(front.acquireSlot(requestBytes: 100))
    front.abandonSlot(slots[3])
    XCTAssertEqual(front.acquireSlot(requestBytes: 100)?.index, slots[3])
  }

  func testSizeClassesChooseTheSmallestSlotThatFits() throws {
    // The standard layout may have a single class, so the choice between classes is proven on
    // two classes built from it: its slot size, and a class four times larger.
    let standard = ChannelParameters.standard.slotClasses
    let smallSize = try XCTUnwrap(standard.map(\.slotSize).min())
    let largeSize = 4 * smallSize
    let segment = try ChannelSegment.create(
      name: "class-test",
      parameters: ChannelParameters(slotClasses: [
        SlotClassSpec(slotSize: smallSize, slotCount: 2),
        SlotClassSpec(slotSize: largeSize, slotCount: 2),
      ]))
    let front = FrontChannel(segment: segment)
    let small = try XCTUnwrap(front.acquireSlot(requestBytes: 1000))
    XCTAssertEqual(small.memory.count, smallSize)
    // Too large for the small class with its reply room: the large class.
    let large = try XCTUnwrap(front.acquireSlot(requestBytes: 2 * smallSize))
    XCTAssertEqual(large.memory.count, largeSize)
    XCTAssertNil(front.acquireSlot(requestBytes: largeSize), "larger than any slot")

    // The standard layout: a small request gets its smallest slot, and a request larger than
    // its largest slot gets none.
    let standardFront = FrontChannel(
      segment: try ChannelSegment.create(name: "class-test-standard", parameters: .standard))
    let ordinary = try XCTUnwrap(standardFront.acquireSlot(requestBytes: 1000))
    XCTAssertEqual(ordinary.memory.count, smallSize)
    let largest = try XCTUnwrap(standard.map(\.slotSize).max())
    XCTAssertNil(standardFront.acquireSlot(requestBytes: largest), "larger than any slot")
  }

  /// The worker library, driven in-process: request fields read in place, reply built in place,
  /// framing headers refused.
  func testWorkerLibraryReadsRequestsAndBuildsReplies() throws {
    let segment = try makeSegment()
    segment.header.pointee.state = UInt32(RB_STATE_RUNNING)
    let front = FrontChannel(segment: segment)
    let worker = try Worker(fd: dup(segment.fd), spin: .never)
    dispatchRequest(front, id: 42, body: Array("hello".utf8))
    _ = front.publish()
    guard case .request(let request) = worker.next(timeoutMilliseconds: 1000) else {
      return XCTFail("no request")
    }
    XCTAssertEqual(String(decoding: request.method, as: UTF8.self), "POST")
    XCTAssertEqual(String(decoding: request.path, as: UTF8.self), "/t")
    XCTAssertEqual(String(decoding: request.query, as: UTF8.self), "q=1")
    XCTAssertEqual(String(decoding: request.body, as: UTF8.self), "hello")
    XCTAssertEqual(request.header(named: "HOST"), "test")
    XCTAssertNil(request.header(named: "missing"))
    try request.reply.start(status: 201)
    try request.reply.addHeader("X-Answer", "42")
    let body = try request.reply.body()
    body.copyBytes(from: "done".utf8)
    try request.reply.send(bodyLength: 4)
    guard case .reply(let reply) = front.nextReply(now: rb_monotonic_ns()) else {
      return XCTFail("no reply")
    }
    XCTAssertEqual(reply.requestID, 42)
    XCTAssertEqual(reply.status, 201)
    XCTAssertEqual(String(decoding: reply.headerBlock, as: UTF8.self), "X-Answer: 42\r\n")
    XCTAssertEqual(String(decoding: reply.body, as: UTF8.self), "done")
    XCTAssertEqual(worker.next(timeoutMilliseconds: 0).isTimeout, true)
  }

  /// Each failing reply call answers its request with a 502 (no headers) before it throws;
  /// later calls on that request throw and publish nothing.
  func testAFailedReplyCallAnswers502AndLaterCallsDoNothing() throws {
    let segment = try makeSegment()
    segment.header.pointee.state = UInt32(RB_STATE_RUNNING)
    let front = FrontChannel(segment: segment)
    let worker = try Worker(fd: dup(segment.fd), spin: .never)
    let failures: [(String, (ReplyWriter) throws(ReplyError) -> Void)] = [
      (
        "framing header",
        { w throws(ReplyError) in
          try w.start(status: 200)
          try w.addHeader("Content-Length", "5")
        }
      ),
      (
        "header name",
        { w throws(ReplyError) in
          try w.start(status: 200)
          try w.addHeader("Bad Name", "x")
        }
      ),
      (
        "CR/LF in a value",
        { w throws(ReplyError) in
          try w.start(status: 200)
          try w.addHeader("X-Injected", "a\r\nb")
        }
      ),
      ("status", { w throws(ReplyError) in try w.start(status: 1000) }),
      (
        "body too large",
        { w throws(ReplyError) in
          try w.start(status: 200)
          try w.send(bodyLength: try w.body().count + 1)
        }
      ),
      ("body before start", { w throws(ReplyError) in _ = try w.body() }),
      (
        "started twice",
        { w throws(ReplyError) in
          try w.start(status: 200)
          try w.send(
            status: 500, contentType: nil, body: UnsafeRawBufferPointer(start: nil, count: 0))
        }
      ),
    ]
    for (index, (name, fail)) in failures.enumerated() {
      dispatchRequest(front, id: UInt64(index + 1))
      _ = front.publish()
      guard case .request(let request) = worker.next(timeoutMilliseconds: 1000) else {
        return XCTFail("\(name): no request")
      }
      XCTAssertThrowsError(try fail(request.reply), name)
      guard case .reply(let reply) = front.nextReply(now: rb_monotonic_ns()) else {
        return XCTFail("\(name): no 502 published")
      }
      XCTAssertEqual(reply.requestID, UInt64(index + 1), name)
      XCTAssertEqual(reply.status, 502, name)
      XCTAssertEqual(reply.headerBlock.count, 0, name)
      XCTAssertThrowsError(try request.reply.start(status: 200), name)
      XCTAssertThrowsError(try request.reply.send(bodyLength: 0), name)
      worker.flush()
      guard case .none = front.nextReply(now: rb_monotonic_ns()) else {
        return XCTFail("\(name): a later call published again")
      }
      front.releaseResponses()
      front.releaseSlot(reply.slot)
    }
  }

  func testWorkerTimesOutWithoutRequests() throws {
    let segment = try makeSegment()
    let worker = try Worker(fd: dup(segment.fd), spin: .never)
    let start = rb_monotonic_ns()
    XCTAssertTrue(worker.next(timeoutMilliseconds: 50).isTimeout)
    XCTAssertGreaterThanOrEqual(rb_monotonic_ns() - start, 50_000_000)
  }

  func testShutdownDescriptorEndsTheWorker() throws {
    let segment = try makeSegment()
    let front = FrontChannel(segment: segment)
    let worker = try Worker(fd: dup(segment.fd), spin: .never)
    front.sendControl(flags: UInt32(RB_REQ_SHUTDOWN))
    _ = front.publish()
    guard case .exit(let reason) = worker.next(timeoutMilliseconds: 1000) else {
      return XCTFail("worker did not stop")
    }
    XCTAssertTrue(reason.contains("stop"))
  }
}

extension Worker.Next {
  var isTimeout: Bool {
    if case .timeout = self { return true }
    return false
  }
}
