import TestSupport
import XCTest

/// Start-up errors, the ready line, and graceful stop.
final class LifecycleTests: XCTestCase {
  func testReadyLineNamesAddressAndMode() throws {
    let port = try FreePort.find()
    let broker = try BrokerProcess(["--inline", "--listen", "127.0.0.1:\(port)"])
    defer { _ = broker.stop() }
    XCTAssertTrue(
      broker.stderr.contains("ringbroker[\(broker.pid)]: listening on 127.0.0.1:\(port) (inline)"),
      broker.stderr)
    XCTAssertEqual(broker.port, port)
  }

  func testSigtermExitsZeroAndClosesIdleConnections() throws {
    let broker = try BrokerProcess(["--inline"])
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get())
    XCTAssertEqual(try client.readResponse().status, 200)
    XCTAssertEqual(broker.stop(signal: SIGTERM), 0)
    XCTAssertEqual(client.waitForClose(), [])
  }

  func testSigintExitsZero() throws {
    let broker = try BrokerProcess(["--inline", "--threads", "2"])
    XCTAssertEqual(broker.stop(signal: SIGINT), 0)
  }

  func testDrainFinishesRequestInProgress() throws {
    let broker = try BrokerProcess(["--inline", "--drain-timeout", "30"])
    let client = try RawHTTPClient(port: broker.port)
    // The interim 100 proves the broker parsed the head and waits for the body: the request is
    // in progress when the stop arrives, however slow the machine.
    try client.send(
      "POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    XCTAssertEqual(try client.readResponse().status, 100)
    kill(broker.pid, SIGTERM)
    // It stops accepting...
    XCTAssertTrue(eventuallyRefused(port: broker.port), "listening socket must be closed")
    // ...but the request in progress is still served, then its connection closed.
    try client.send("abcde")
    let response = try client.readResponse()
    XCTAssertEqual(response.status, 200)
    XCTAssertTrue(response.closesConnection)
    XCTAssertEqual(client.waitForClose(), [])
    XCTAssertEqual(broker.waitForExit(timeout: 30), 0)
  }

  func testDrainDeadlineEndsStuckClient() throws {
    let broker = try BrokerProcess(["--inline", "--drain-timeout", "1", "--header-timeout", "600"])
    let client = try RawHTTPClient(port: broker.port)
    try client.send(
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    XCTAssertEqual(try client.readResponse().status, 100)
    XCTAssertEqual(broker.stop(signal: SIGTERM, timeout: 30), 0)
    XCTAssertEqual(client.waitForClose(), [])
  }

  /// Connecting fails within 20 s (a stopping broker closes its listening socket).
  private func eventuallyRefused(port: UInt16) -> Bool {
    for _ in 0..<200 {
      guard let probe = try? RawHTTPClient(port: port, timeout: 5) else { return true }
      probe.closeConnection()
      usleep(100_000)
    }
    return false
  }

  func testPortInUseIsOneLineErrorAndExit1() throws {
    let port = try FreePort.find()
    let holder = try FreePort.occupy(port)
    defer { close(holder) }
    let result = try BrokerProcess.runToExit(["--inline", "--listen", "127.0.0.1:\(port)"])
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    XCTAssertTrue(result.stderr.contains("127.0.0.1:\(port)"), result.stderr)
    XCTAssertTrue(result.stderr.contains("in use"), result.stderr)
  }

  func testSecondBrokerOnSamePortFails() throws {
    // SO_REUSEPORT must not let a second broker share the port silently.
    let first = try BrokerProcess(["--inline"])
    defer { XCTAssertEqual(first.stop(), 0) }
    let result = try BrokerProcess.runToExit([
      "--inline", "--listen", "127.0.0.1:\(first.port)",
    ])
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(result.stderr.contains("in use"), result.stderr)
  }

  func testBadFlagsAreOneLineErrors() throws {
    for arguments in [
      ["--inline", "--threads", "abc"], ["--inline", "--bogus"],
      ["--inline", "--listen", "nonsense"],
      ["--inline", "--header-timeout", "-1"],
    ] {
      let result = try BrokerProcess.runToExit(arguments)
      XCTAssertNotEqual(result.status, 0, "\(arguments)")
      XCTAssertEqual(
        result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
      XCTAssertTrue(result.stderr.hasPrefix("ringbroker: "), result.stderr)
    }
  }

  func testHelpDocumentsEveryFlag() throws {
    let result = try BrokerProcess.runToExit(["--help"])
    XCTAssertEqual(result.status, 0)
    let help = result.stdout
    for flag in [
      "--listen", "--threads", "--inline", "--header-timeout", "--idle-timeout", "--max-body",
      "--drain-timeout",
    ] {
      XCTAssertTrue(help.contains(flag), "help lacks \(flag):\n\(help)")
    }
    // The README's figure for a worker's shared memory, which --help computes from the layout.
    let words = help.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    XCTAssertTrue(words.contains("a channel of 1.96 MiB of shared memory"), help)
  }
}
