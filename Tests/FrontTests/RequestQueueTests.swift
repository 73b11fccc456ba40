import RingFront
import XCTest

@testable import RingPool

/// The front's queue of requests that found no worker with room: bounded in count and bytes,
/// in order, and a pass over it may stop early without losing or reordering anything.
final class RequestQueueTests: XCTestCase {
  private func entry(_ serial: UInt32, size: Int = 10) -> RequestQueue.Entry {
    RequestQueue.Entry(
      ticket: ReplyTicket(connection: 0, generation: 0, serial: serial),
      payload: .slotImage(bytes: [UInt8](repeating: 0, count: size), replyOffset: 0, checksum: 0),
      deadline: 0)
  }

  private func serials(_ queue: inout RequestQueue) -> [UInt32] {
    var seen: [UInt32] = []
    queue.visit {
      seen.append($0.ticket.serial)
      return .keep
    }
    return seen
  }

  func testBoundsInCountAndBytes() {
    var queue = RequestQueue(maxCount: 3, maxBytes: 25)
    XCTAssertTrue(queue.append(entry(1)))
    XCTAssertTrue(queue.append(entry(2)))
    XCTAssertFalse(queue.append(entry(3, size: 6)), "over the byte bound")
    XCTAssertTrue(queue.append(entry(3, size: 5)))
    XCTAssertFalse(queue.append(entry(4, size: 0)), "over the count bound")
    XCTAssertEqual(queue.count, 3)
    XCTAssertEqual(queue.bytes, 25)
  }

  func testVisitRemovesSomeAndKeepsTheOrderOfTheRest() {
    var queue = RequestQueue(maxCount: 100, maxBytes: 1 << 20)
    for serial: UInt32 in 1...6 { XCTAssertTrue(queue.append(entry(serial))) }
    queue.visit { $0.ticket.serial % 2 == 0 ? .remove : .keep }
    XCTAssertEqual(serials(&queue), [1, 3, 5])
    XCTAssertEqual(queue.bytes, 30)
  }

  /// Stopping keeps the stopping entry and everything unvisited, in order; removed entries
  /// before it are gone, also when kept ones sit between them.
  func testVisitThatStopsEarlyLosesAndReordersNothing() {
    var queue = RequestQueue(maxCount: 100, maxBytes: 1 << 20)
    for serial: UInt32 in 1...8 { XCTAssertTrue(queue.append(entry(serial))) }
    queue.visit { entry in
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
    queue.visit { _ in .remove }
    XCTAssertTrue(queue.isEmpty)
    XCTAssertEqual(queue.bytes, 0)
  }

  /// Many passes that each take the head (the overload pattern: one slot frees, one request
  /// leaves) keep every entry exactly once.
  func testRepeatedEarlyStopsDrainInOrder() {
    var queue = RequestQueue(maxCount: 1000, maxBytes: 1 << 20)
    for serial in 1...500 { XCTAssertTrue(queue.append(entry(UInt32(serial)))) }
    var drained: [UInt32] = []
    while !queue.isEmpty {
      var first = true
      queue.visit { entry in
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
}
