import CRingABI
import HTTP1
import RingChannel
import RingFront
import XCTest

@testable import RingPool

/// The front's queue of requests that found no worker with room: bounded in count and bytes,
/// in order, and a pass over it may stop early without losing or reordering anything.
final class RequestQueueTests: XCTestCase {
  /// Queues a moved request of `size` bytes, each byte its serial's low byte.
  @discardableResult
  private func append(_ serial: UInt32, size: Int = 10, to queue: inout RequestQueue) -> Bool {
    let image = [UInt8](repeating: UInt8(truncatingIfNeeded: serial), count: size)
    return image.withUnsafeBytes {
      queue.appendSlotImage(
        $0, replyOffset: 0,
        ticket: ReplyTicket(connection: 0, generation: 0, serial: serial), deadline: 0)
    }
  }

  private func serials(_ queue: inout RequestQueue) -> [UInt32] {
    var seen: [UInt32] = []
    queue.visit { entry, _ in
      seen.append(entry.ticket.serial)
      return .keep
    }
    return seen
  }

  func testBoundsInCountAndBytes() {
    var queue = RequestQueue(maxCount: 3, maxBytes: 25)
    XCTAssertTrue(append(1, to: &queue))
    XCTAssertTrue(append(2, to: &queue))
    XCTAssertFalse(append(3, size: 6, to: &queue), "over the byte bound")
    XCTAssertTrue(append(3, size: 5, to: &queue))
    XCTAssertFalse(append(4, size: 0, to: &queue), "over the count bound")
    XCTAssertEqual(queue.count, 3)
    XCTAssertEqual(queue.bytes, 25)
  }

  func testVisitRemovesSomeAndKeepsTheOrderOfTheRest() {
    var queue = RequestQueue(maxCount: 100, maxBytes: 1 << 20)
    for serial: UInt32 in 1...6 { XCTAssertTrue(append(serial, to: &queue)) }
    queue.visit { entry, _ in entry.ticket.serial % 2 == 0 ? .remove : .keep }
    XCTAssertEqual(serials(&queue), [1, 3, 5])
    XCTAssertEqual(queue.bytes, 30)
  }

  /// Stopping keeps the stopping entry and everything unvisited, in order; removed entries
  /// before it are gone, also when kept ones sit between them.
  func testVisitThatStopsEarlyLosesAndReordersNothing() {
    var queue = RequestQueue(maxCount: 100, maxBytes: 1 << 20)
    for serial: UInt32 in 1...8 { XCTAssertTrue(append(serial, to: &queue)) }
    queue.visit { entry, _ in
      switch entry.ticket.serial {
      case 1, 3: return .remove
      case 2: return .keep
      case 4: return .keepAndStop
      default:
        XCTFail("visited \(entry.ticket.serial) after the stop")
        return .remove
      }
    }
    XCTAssertEqual(serials(&queue), [2, 4, 5, 6, 7, 8])
    XCTAssertEqual(queue.count, 6)
    XCTAssertEqual(queue.bytes, 60)
    queue.visit { _, _ in .remove }
    XCTAssertTrue(queue.isEmpty)
    XCTAssertEqual(queue.bytes, 0)
  }

  /// Many passes that each take the head (the overload pattern: one slot frees, one request
  /// leaves) keep every entry exactly once.
  func testRepeatedEarlyStopsDrainInOrder() {
    var queue = RequestQueue(maxCount: 1000, maxBytes: 1 << 20)
    for serial in 1...500 { XCTAssertTrue(append(UInt32(serial), to: &queue)) }
    var drained: [UInt32] = []
    while !queue.isEmpty {
      var first = true
      queue.visit { entry, _ in
        if first {
          first = false
          drained.append(entry.ticket.serial)
          return .remove
        }
        return .keepAndStop
      }
    }
    XCTAssertEqual(drained, Array(1...UInt32(500)))
  }

  /// Every entry's bytes come back as they went in, in chunks (small) or blocks of their own
  /// (larger than a chunk, or with every chunk taken), and every chunk is given back.
  func testBytesSurviveInChunksAndOwnBlocksAndChunksComeBack() {
    var queue = RequestQueue(maxCount: 4, maxBytes: 1 << 20)
    XCTAssertTrue(append(1, size: 100, to: &queue))
    XCTAssertTrue(append(2, size: QueueChunks.chunkSize + 1, to: &queue), "its own block")
    XCTAssertTrue(append(3, size: QueueChunks.chunkSize, to: &queue))
    XCTAssertEqual(queue.chunksInUse, 2)
    var checked = 0
    queue.visit { entry, stored in
      let bytes = stored.bytes
      let expected = [100, QueueChunks.chunkSize + 1, QueueChunks.chunkSize][
        Int(entry.ticket.serial) - 1]
      XCTAssertEqual(bytes.count, expected)
      XCTAssertTrue(
        bytes.allSatisfy { $0 == UInt8(entry.ticket.serial) }, "serial \(entry.ticket.serial)")
      checked += 1
      return entry.ticket.serial == 1 ? .remove : .keep
    }
    XCTAssertEqual(checked, 3)
    XCTAssertEqual(queue.chunksInUse, 1, "the removed one's chunk is free again")
    queue.visit { _, _ in .remove }
    XCTAssertEqual(queue.chunksInUse, 0)
    XCTAssertEqual(queue.bytes, 0)
  }

  /// Under the overload pattern (one leaves, one arrives) the chunks recycle: the queue never
  /// holds more chunks than entries, whatever the number of requests that passed.
  func testChunksRecycleUnderSteadyTurnover() {
    var queue = RequestQueue(maxCount: 8, maxBytes: 1 << 20)
    for serial: UInt32 in 1...8 { append(serial, size: 300, to: &queue) }
    for serial: UInt32 in 9...5000 {
      var first = true
      queue.visit { entry, stored in
        defer { first = false }
        guard first else { return .keepAndStop }
        XCTAssertEqual(stored.bytes.first, UInt8(truncatingIfNeeded: entry.ticket.serial))
        return .remove
      }
      XCTAssertTrue(append(serial, size: 300, to: &queue))
      XCTAssertEqual(queue.chunksInUse, 8)
    }
    XCTAssertEqual(serials(&queue), Array(4993...5000))
  }

  /// A parsed request leaves the queue with what the slot writer needs and no parse: its
  /// bytes, its header ranges and its parts, as they were when it came.
  func testAParsedRequestKeepsItsHeaderRangesAndParts() throws {
    let raw = Array(
      "HEAD /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Long: \(String(repeating: "v", count: 300))\r\n\r\n"
        .utf8)
    let body = Array("body".utf8)
    var parsed = RequestHead()
    let result = raw.withUnsafeBytes { parseRequestHead($0, into: &parsed, limits: HTTPLimits()) }
    guard case .complete = result else { return XCTFail("\(result)") }
    var queue = RequestQueue(maxCount: 2, maxBytes: 1 << 20)
    let appended = raw.withUnsafeBytes { head in
      body.withUnsafeBytes {
        queue.append(
          IncomingRequest(
            head: head, parsed: parsed, body: $0,
            origin: RequestOrigin(
              remote: rb_endpoint(ipv4: (192, 0, 2, 1), port: 1),
              local: rb_endpoint(ipv4: (127, 0, 0, 1), port: 2), receivedUnixNanoseconds: 3)),
          ticket: ReplyTicket(connection: 0, generation: 0, serial: 9), deadline: 0)
      }
    }
    XCTAssertTrue(appended)
    let tableBytes = parsed.headers.count * HeaderTable.entrySize
    XCTAssertEqual(queue.bytes, tableBytes + raw.count + body.count, "the table counts too")
    var visited = false
    queue.visit { entry, stored in
      visited = true
      XCTAssertEqual(Array(stored.bytes), raw + body)
      XCTAssertEqual(entry.headLength, raw.count)
      XCTAssertEqual(stored.headers.map(\.name), parsed.headers.map(\.name))
      XCTAssertEqual(stored.headers.map(\.value), parsed.headers.map(\.value))
      let parts = try? XCTUnwrap(entry.parts)
      XCTAssertEqual(parts?.method, parsed.method)
      XCTAssertEqual(parts?.target, parsed.target)
      XCTAssertEqual(parts?.path, parsed.path)
      XCTAssertEqual(parts?.query, parsed.query)
      XCTAssertEqual(parts?.httpVersion, 11)
      XCTAssertEqual(parts?.flags, UInt32(RB_REQ_KEEP_ALIVE | RB_REQ_HEAD))
      return .remove
    }
    XCTAssertTrue(visited)
    XCTAssertEqual(queue.bytes, 0)
  }
}
