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
        $0, replyOffset: 0, checksum: 0,
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
    queue.visit { entry, bytes in
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
      queue.visit { entry, bytes in
        defer { first = false }
        guard first else { return .keepAndStop }
        XCTAssertEqual(bytes.first, UInt8(truncatingIfNeeded: entry.ticket.serial))
        return .remove
      }
      XCTAssertTrue(append(serial, size: 300, to: &queue))
      XCTAssertEqual(queue.chunksInUse, 8)
    }
    XCTAssertEqual(serials(&queue), Array(4993...5000))
  }
}
