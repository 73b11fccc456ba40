import XCTest

@testable import RingPool

/// The numbers the README promises for worker supervision, checked as numbers: the respawn
/// backoff of a crash loop and the random extra of `--max-requests`.
final class WorkerSchedulingNumbersTests: XCTestCase {
  func testRespawnBackoffDoublesFrom100MsAndIsCappedAt10Seconds() {
    let ms: UInt64 = 1_000_000
    // The first exit (and a worker that lived long, which resets the count) respawns at once.
    XCTAssertEqual(Dispatcher.respawnDelayNs(consecutiveFastExits: 0), 0)
    XCTAssertEqual(Dispatcher.respawnDelayNs(consecutiveFastExits: 1), 0)
    let expected: [UInt64] = [
      100 * ms, 200 * ms, 400 * ms, 800 * ms, 1_600 * ms, 3_200 * ms, 6_400 * ms, 10_000 * ms,
      10_000 * ms,
    ]
    for (index, delay) in expected.enumerated() {
      XCTAssertEqual(
        Dispatcher.respawnDelayNs(consecutiveFastExits: index + 2), delay,
        "after \(index + 2) fast exits in a row")
    }
    // However long the loop, never more than 10 s (and no overflow of the shift).
    for exits in [20, 21, 22, 64, 1_000, Int(Int32.max)] {
      XCTAssertEqual(Dispatcher.respawnDelayNs(consecutiveFastExits: exits), 10_000 * ms)
    }
    XCTAssertEqual(Dispatcher.maxBackoffNs, 10_000 * ms)
  }

  func testMaxRequestsLimitGetsUpToTenPercentExtraOverManyDraws() {
    var config = DispatchConfig()
    XCTAssertNil(config.recycleLimit(), "no --max-requests: never recycled")
    config.maxRequestsPerWorker = 500
    var seen = Set<UInt64>()
    for _ in 0..<20_000 {
      guard let limit = config.recycleLimit() else { return XCTFail("no limit for 500") }
      seen.insert(limit)
    }
    XCTAssertEqual(seen.min(), 500, "never below the limit")
    XCTAssertEqual(seen.max(), 550, "at most 10% extra")
    // Spread over the whole range (51 values, 20,000 draws: missing one is a ~1e-85 event).
    XCTAssertEqual(seen.count, 51)
    // Below 10 requests there is no room for 10%: the limit is exact.
    config.maxRequestsPerWorker = 9
    XCTAssertEqual(Set((0..<1_000).compactMap { _ in config.recycleLimit() }), [9])
  }
}
