import Foundation
import TestSupport
import XCTest

/// `ringbroker -t`: what a start would stop at, found without starting, one line per problem.
final class ConfigurationTestTests: XCTestCase {
  private let directory = NSTemporaryDirectory() + "rbtest-config-\(getpid())"

  override func setUpWithError() throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: directory)
  }

  private var hello: String { Products.luaExamples + "/hello.lua" }

  /// Runs `ringbroker -t` with `arguments`; asserts exit 1 and exactly one line on stderr, which
  /// starts with `ringbroker: ` and contains every one of `expected`.
  private func assertOneProblem(
    _ arguments: [String], _ expected: String..., file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    let result = try BrokerProcess.runToExit(["-t"] + arguments)
    XCTAssertEqual(result.status, 1, "\(arguments): \(result.stderr)", file: file, line: line)
    XCTAssertEqual(
      result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)",
      file: file, line: line)
    XCTAssertTrue(result.stderr.hasPrefix("ringbroker: "), result.stderr, file: file, line: line)
    for text in expected {
      XCTAssertTrue(
        result.stderr.contains(text), "\(text): \(result.stderr)", file: file, line: line)
    }
    XCTAssertFalse(result.stdout.contains("configuration ok"), file: file, line: line)
  }

  func testAGoodConfigurationIsOKAndStartsNothing() throws {
    let port = try FreePort.find()
    let control = directory + "/ok.sock"
    let logFile = directory + "/broker.log"
    for arguments in [
      ["--workers", "2", hello], ["--worker", Products.cWorker], ["--workers", "0"], ["--inline"],
      ["--worker", "RINGWORKER_SPIN_NS=0 sh -c true"],
    ] {
      let result = try BrokerProcess.runToExit(
        ["-t", "--listen", "127.0.0.1:\(port)", "--control", control, "--log-file", logFile]
          + arguments)
      XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
      XCTAssertEqual(result.stdout, "ringbroker: configuration ok\n", "\(arguments)")
      XCTAssertEqual(result.stderr, "", "\(arguments)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: control), "-t left a control socket")
    XCTAssertFalse(FileManager.default.fileExists(atPath: logFile), "-t left a log file")
    // The port is still free: a broker can start on it.
    let broker = try BrokerProcess(["--inline", "--listen", "127.0.0.1:\(port)"])
    XCTAssertEqual(broker.port, port)
    XCTAssertEqual(broker.stop(), 0)
  }

  func testAnExistingLogFileIsLeftAsItWas() throws {
    let logFile = directory + "/kept.log"
    try "earlier lines\n".write(toFile: logFile, atomically: false, encoding: .utf8)
    let result = try BrokerProcess.runToExit(["-t", "--inline", "--log-file", logFile])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertEqual(try String(contentsOfFile: logFile, encoding: .utf8), "earlier lines\n")
  }

  func testAPortInUse() throws {
    let port = try FreePort.find()
    let holder = try FreePort.occupy(port)
    defer { close(holder) }
    try assertOneProblem(
      ["--inline", "--listen", "127.0.0.1:\(port)"],
      "ringbroker: --listen: address already in use: 127.0.0.1:\(port)")
  }

  func testAnAdminAddressInUseOrNoSocket() throws {
    let port = try FreePort.find()
    let holder = try FreePort.occupy(port)
    defer { close(holder) }
    try assertOneProblem(
      ["--inline", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:\(port)"],
      "ringbroker: --admin: address already in use: 127.0.0.1:\(port)")
    let file = directory + "/not-a-socket"
    FileManager.default.createFile(atPath: file, contents: Data())
    try assertOneProblem(
      ["--inline", "--listen", "127.0.0.1:0", "--admin", "unix:\(file)"],
      "ringbroker: --admin: unix:\(file) exists and is not a socket")
  }

  func testAHostThatDoesNotResolve() throws {
    try assertOneProblem(
      ["--inline", "--listen", "no-such-host.invalid:8080"],
      "ringbroker: --listen: cannot resolve no-such-host.invalid:8080")
  }

  func testAnAppThatDoesNotLoad() throws {
    let app = directory + "/broken.lua"
    try "local x = \nreturn function(req) return 200 end end\n".write(
      toFile: app, atomically: false, encoding: .utf8)
    try assertOneProblem(
      ["--workers", "2", app], "ringbroker: app: the app \(app) failed to load: \(app):2:")
  }

  func testAWorkerProgramNotInPath() throws {
    try assertOneProblem(
      ["--worker", "rbtest-no-such-program --flag"],
      "ringbroker: --worker: 'rbtest-no-such-program' is no executable file in any PATH directory")
  }

  func testAWorkerProgramThatIsNotExecutable() throws {
    let program = directory + "/not-executable"
    FileManager.default.createFile(atPath: program, contents: Data("#!/bin/sh\n".utf8))
    try assertOneProblem(
      ["--worker", program], "ringbroker: --worker: \(program) is not executable")
    try assertOneProblem(
      ["--worker", directory + "/missing"],
      "ringbroker: --worker: \(directory)/missing: No such file or directory")
  }

  func testAControlPathThatIsNoSocket() throws {
    let path = directory + "/file.sock"
    FileManager.default.createFile(atPath: path, contents: Data("keep me".utf8))
    try assertOneProblem(
      ["--workers", "0", "--control", path],
      "ringbroker: --control: control socket path \(path) exists and is not a socket")
    XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "keep me")
  }

  func testAControlSocketALiveBrokerHolds() throws {
    let path = directory + "/live.sock"
    let live = try BrokerProcess(["--workers", "0", "--control", path])
    defer { XCTAssertEqual(live.stop(), 0) }
    try assertOneProblem(
      ["--workers", "0", "--control", path],
      "ringbroker: --control: control socket \(path) is in use by a running broker")
    // Checking it took nothing from the live broker.
    XCTAssertTrue(live.process.isRunning)
    XCTAssertEqual(try get(live.port, "/").status, 503, "the live broker still serves")
  }

  func testAControlSocketDirectoryThatIsMissing() throws {
    try assertOneProblem(
      ["--workers", "0", "--control", directory + "/missing/x.sock"],
      "ringbroker: --control: control socket directory \(directory)/missing: "
        + "No such file or directory")
  }

  func testALogFileThatCannotBeOpened() throws {
    try assertOneProblem(
      ["--inline", "--log-file", directory + "/missing/broker.log"],
      "ringbroker: --log-file: cannot open log file \(directory)/missing/broker.log")
  }

  /// Every check runs: several problems give one line each.
  func testEveryProblemIsALineOfItsOwn() throws {
    let port = try FreePort.find()
    let holder = try FreePort.occupy(port)
    defer { close(holder) }
    let result = try BrokerProcess.runToExit([
      "-t", "--listen", "127.0.0.1:\(port)", "--worker", "rbtest-no-such-program",
      "--control", directory + "/missing/x.sock", "--log-file", directory + "/missing/log",
    ])
    XCTAssertEqual(result.status, 1, result.stderr)
    let lines = result.stderr.split(separator: "\n").map(String.init)
    XCTAssertEqual(
      lines.map { $0.split(separator: ":").prefix(2).joined(separator: ":") },
      [
        "ringbroker: --listen", "ringbroker: --worker", "ringbroker: --control",
        "ringbroker: --log-file",
      ], result.stderr)
  }
}
