import Foundation
import TestSupport
import XCTest

/// Many clients at once, and clients that misbehave, must not disturb each other.
final class ConcurrencyTests: XCTestCase {
  func testManyConcurrentKeepAliveClients() throws {
    let broker = try BrokerProcess(["--inline", "--threads", "2"])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let connections = 200
    let requestsEach = 20
    let workers = 8
    let failures = Failures()
    let group = DispatchGroup()
    for worker in 0..<workers {
      group.enter()
      Thread {
        defer { group.leave() }
        do {
          // Each thread drives its share of connections in lock step: one request on each,
          // then one reply from each, so all 200 connections stay open together.
          let clients = try (0..<(connections / workers)).map { _ in
            try RawHTTPClient(port: broker.port)
          }
          for round in 0..<requestsEach {
            for client in clients { try client.send(Requests.get("/w\(worker)/r\(round)")) }
            for client in clients {
              let response = try client.readResponse()
              if response.status != 200 || response.bodyText != "hello world\n" {
                failures.add("unexpected reply \(response)")
              }
            }
          }
        } catch {
          failures.add("\(error)")
        }
      }.start()
    }
    XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "clients did not finish")
    XCTAssertEqual(failures.all, [])
  }

  func testSilentClientDoesNotBlockOthersAndTimesOut() throws {
    let broker = try BrokerProcess(["--inline", "--header-timeout", "1"])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let silent = try RawHTTPClient(port: broker.port)
    let slow = try RawHTTPClient(port: broker.port)
    try slow.send("GET /slow HTTP/1.1\r\nHost: t\r\n")  // never finishes its head

    // Others are served while those two hang.
    for _ in 0..<20 {
      let client = try RawHTTPClient(port: broker.port)
      try client.send(Requests.get())
      XCTAssertEqual(try client.readResponse().status, 200)
    }

    // Both get 408 and are closed once the header timeout (1 s) passes.
    for client in [silent, slow] {
      let response = try client.readResponse()
      XCTAssertEqual(response.status, 408)
      XCTAssertTrue(response.closesConnection)
      XCTAssertEqual(client.waitForClose(), [])
    }
  }

  func testIdleKeepAliveConnectionIsClosedSilently() throws {
    let broker = try BrokerProcess(["--inline", "--idle-timeout", "1"])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get())
    XCTAssertEqual(try client.readResponse().status, 200)
    XCTAssertEqual(client.waitForClose(), [])
    XCTAssertEqual(client.bufferedBytes, 0, "idle close sends nothing")
  }

  func testConnectionLimit() throws {
    let broker = try BrokerProcess(["--inline", "--threads", "1", "--max-connections", "5"])
    defer { XCTAssertEqual(broker.stop(), 0) }
    // Each is in the middle of a request (the 100 Continue shows the broker read its head), so
    // none is idle and none can be reclaimed for a new client (ConnectionLimitTests).
    let held = try (0..<5).map { _ -> RawHTTPClient in
      let client = try RawHTTPClient(port: broker.port)
      try client.send(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
      XCTAssertEqual(try client.readResponse().status, 100)
      return client
    }
    let extra = try RawHTTPClient(port: broker.port, timeout: 5)
    XCTAssertEqual(extra.waitForClose(), [], "a connection beyond the limit is closed")
    // Freeing one slot lets the next client in.
    held[0].finishSending()
    XCTAssertEqual(held[0].waitForClose(), [])
    var served = false
    for _ in 0..<50 where !served {
      let client = try RawHTTPClient(port: broker.port)
      if (try? client.send(Requests.get())) != nil, let response = try? client.readResponse() {
        served = response.status == 200
      } else {
        usleep(100_000)  // a pause between attempts, not a stand-in for the slot coming free
      }
    }
    XCTAssertTrue(served)
  }
}

/// Failures collected from client threads.
final class Failures {
  private let lock = NSLock()
  private var items: [String] = []

  func add(_ failure: String) {
    lock.lock()
    items.append(failure)
    lock.unlock()
  }

  var all: [String] {
    lock.lock()
    defer { lock.unlock() }
    return Array(items.prefix(10))
  }
}
