import Foundation
import TestSupport
import XCTest

/// What ordinary machines impose on the broker: the soft descriptor limit of a login shell or a
/// systemd unit, and the signals operators and their tools send.
final class DeploymentTests: XCTestCase {
  private let prlimit = "/usr/bin/prlimit"

  private func requirePrlimit() throws {
    guard FileManager.default.isExecutableFile(atPath: prlimit) else {
      throw XCTSkip("prlimit (util-linux) is not installed")
    }
  }

  /// The usual soft and hard limit of 1024: workers start (spawning used to stage descriptors
  /// at 1024 and fail), and the connection limit is sized to the descriptors left.
  func testWorkersServeUnderADescriptorLimitOf1024() throws {
    try requirePrlimit()
    let broker = try BrokerProcess(
      ["--workers", "2", "--worker", Products.cWorker, "--queue-timeout", "2"],
      wrapper: [prlimit, "--nofile=1024:1024"])
    defer { _ = broker.stop() }
    for _ in 0..<10 { XCTAssertEqual(try get(broker.port, "/").bodyText, "hello world\n") }
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("--max-connections lowered from 10000 to") },
      broker.stderr)
    XCTAssertFalse(broker.stderr.contains("failed"), broker.stderr)
  }

  /// systemd's default LimitNOFILE=1024:524288: the soft limit is raised to the hard one.
  func testSoftDescriptorLimitIsRaisedToTheHardLimit() throws {
    try requirePrlimit()
    let broker = try BrokerProcess(
      ["--workers", "1", "--worker", Products.cWorker],
      wrapper: [prlimit, "--nofile=1024:4096"])
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("the open-file limit is 4096") },
      broker.stderr)
    let limits = try String(contentsOfFile: "/proc/\(broker.pid)/limits", encoding: .utf8)
    let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
    XCTAssertEqual(line.split(separator: " ").dropFirst(3).first, "4096", String(line))
  }

  /// Below what any broker can work with: a one-line error naming the limit, no half start.
  func testTooLowDescriptorLimitIsAOneLineError() throws {
    try requirePrlimit()
    let result = try BrokerProcess.runToExit(
      ["--workers", "2", "--worker", Products.cWorker],
      wrapper: [prlimit, "--nofile=40:40"])
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(result.stderr.contains("the open-file limit (40) is too low"), result.stderr)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
  }

  /// USR2, ALRM, TTIN and TTOU have no meaning yet: each is logged and the broker serves on
  /// (their default actions kill or stop a process). USR1 reopens the log files
  /// (AccessLogTests).
  func testSignalsWithoutMeaningAreLoggedAndIgnored() throws {
    let broker = try BrokerProcess(["--workers", "1", "--worker", Products.cWorker])
    defer { _ = broker.stop() }
    for (signal, name) in [
      (SIGUSR2, "SIGUSR2"), (SIGALRM, "SIGALRM"), (SIGTTIN, "SIGTTIN"), (SIGTTOU, "SIGTTOU"),
    ] {
      kill(broker.pid, signal)
      XCTAssertTrue(
        waitUntil(timeout: 10) { broker.stderr.contains("\(name) ignored") },
        "\(name): \(broker.stderr)")
      XCTAssertEqual(try get(broker.port, "/").status, 200, name)
      XCTAssertTrue(broker.process.isRunning, name)
    }
  }

  /// QUIT stops like TERM: the request in flight is answered, then the broker exits 0.
  func testQuitStopsGracefully() throws {
    let broker = try BrokerProcess(["--workers", "1", "--worker", Products.testWorker])
    XCTAssertEqual(try get(broker.port, "/warm").status, 200)
    let taken = requestsTaken(byWorkersOf: broker.pid) ?? 0
    let client = try RawHTTPClient(port: broker.port)
    try client.send(Requests.get("/sleep/700"))
    XCTAssertTrue(waitUntil(timeout: 10) { (requestsTaken(byWorkersOf: broker.pid) ?? 0) > taken })
    let status = broker.stop(signal: SIGQUIT)
    XCTAssertEqual(try client.readResponse().status, 200)
    XCTAssertEqual(status, 0, broker.stderr)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("SIGQUIT: stopping") }, broker.stderr)
  }
}
