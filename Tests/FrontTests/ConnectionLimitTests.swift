import TestSupport
import XCTest

/// At --max-connections, idle keep-alive connections make room for new clients, oldest first
/// (that busy connections never do is ConcurrencyTests.testConnectionLimit).
final class ConnectionLimitTests: XCTestCase {
  func testOldestIdleConnectionMakesRoomForANewClientAtTheLimit() throws {
    let broker = try BrokerProcess(["--inline", "--threads", "1", "--max-connections", "4"])
    defer { _ = broker.stop() }
    // One request each, in order: idle keep-alive connections, the first the least recent.
    let idle = try (0..<4).map { index -> RawHTTPClient in
      let client = try RawHTTPClient(port: broker.port, timeout: 5)
      XCTAssertEqual(try client.get("/idle/\(index)").status, 200)
      return client
    }
    let newcomer = try RawHTTPClient(port: broker.port, timeout: 5)
    XCTAssertEqual(try newcomer.get("/new").status, 200, "a new client is served at the limit")
    XCTAssertEqual(idle[0].waitForClose(), [], "the oldest idle connection was closed for it")
    for (index, client) in idle.enumerated().dropFirst() {
      XCTAssertEqual(try client.get("/again").status, 200, "connection \(index) stays open")
    }
  }
}
