import XCTest

@testable import RingPool

final class OperationTableTests: XCTestCase {
  func testEachTokenNamesItsOperationUntilItsOneCompletion() {
    var table = OperationTable()
    let exit = table.insert(.workerExit, worker: 4095, generation: 65_536)
    let release = table.insert(.replyRelease, worker: 4096, generation: UInt64.max, slot: 1 << 24)
    XCTAssertNotEqual(exit, 0)
    XCTAssertNotEqual(exit, release)
    XCTAssertEqual(table.count, 2)
    XCTAssertNil(table.remove(release, arrivingAs: .completion), "not a completion's token")
    XCTAssertNil(table.remove(exit, arrivingAs: .release), "not a release's token")
    XCTAssertEqual(
      table.remove(release, arrivingAs: .release),
      OperationTable.Operation(
        kind: .replyRelease, worker: 4096, generation: UInt64.max, slot: 1 << 24))
    XCTAssertNil(table.remove(release, arrivingAs: .release), "a token is released once")
    XCTAssertEqual(table.remove(exit, arrivingAs: .completion)?.generation, 65_536)
    XCTAssertNil(table.remove(0, arrivingAs: .completion))
    XCTAssertNil(table.remove(1 << 40, arrivingAs: .completion))
    XCTAssertEqual(table.count, 0)
  }

  func testTokensStayWithinThePeakOutstandingAndFitUserData() {
    var table = OperationTable()
    var outstanding: [UInt64] = []
    for round in 0..<100_000 {
      outstanding.append(table.insert(.futexWait, worker: round % 7, generation: UInt64(round)))
      if outstanding.count == 64 {
        for token in outstanding.shuffled() {
          XCTAssertNotNil(table.remove(token, arrivingAs: .completion))
        }
        outstanding.removeAll()
      }
    }
    // Indices are reused: no token beyond the 64 ever outstanding at once.
    XCTAssertLessThanOrEqual(outstanding.max() ?? 0, 64)
    XCTAssertEqual(table.count, outstanding.count)
  }
}
