import CRingABI
import Foundation
import TestSupport
import XCTest

/// The tools' command lines, as a user meets them: `--version`, one-line usage errors that name
/// the option (exit 64, never a usage page), and the start-up line.
final class CommandLineTests: XCTestCase {
  private let tools = ["ringbroker", "ringstat", "ringworker-lua", "ringbench"]

  /// A run of `tool` (a broker gets its own --name and --control, as every test broker does).
  private func run(_ tool: String, _ arguments: [String]) throws -> Spawn.Result {
    tool == "ringbroker"
      ? try BrokerProcess.runToExit(arguments)
      : try Spawn.run(Products.path(tool), arguments)
  }

  func testEveryToolPrintsTheSameVersionAndTheChannelABI() throws {
    var numbers: Set<String> = []
    for tool in tools {
      let result = try run(tool, ["--version"])
      XCTAssertEqual(result.status, 0, "\(tool): \(result.stderr)")
      let words = result.stdout.split(separator: " ")
      XCTAssertEqual(words.first, Substring(tool), result.stdout)
      XCTAssertTrue(
        result.stdout.hasSuffix(" (channel ABI \(RB_ABI_VERSION))\n"), "\(tool): \(result.stdout)")
      let number = words.count > 1 ? String(words[1]) : ""
      XCTAssertEqual(number.split(separator: ".").compactMap { Int($0) }.count, 3, result.stdout)
      numbers.insert(number)
    }
    XCTAssertEqual(numbers.count, 1, "the tools disagree on their version: \(numbers)")
  }

  func testAnUnknownOptionIsOneLineNamingItAndExit64InEveryTool() throws {
    for tool in tools {
      let result = try run(tool, ["--bogus"])
      XCTAssertEqual(result.status, 64, "\(tool): \(result.stderr)")
      XCTAssertEqual(result.stderr, "\(tool): unknown option '--bogus'\n", tool)
      XCTAssertEqual(result.stdout, "", "\(tool) printed a usage page")
    }
  }

  /// Each bad value is named before anything else is judged: ringbroker without an app used to
  /// answer `--bogus` with "no app", and read `--workers -1` as a missing value.
  func testRingbrokerNamesTheOptionOfEveryBadValue() throws {
    var cases: [([String], String)] = [
      (["--bogus"], "unknown option '--bogus'"),
      (["--workers", "-1"], "--workers must be between 0 and 4096, got '-1'"),
      (["--inline", "--threads", "abc"], "the value 'abc' is invalid for '--threads <n>'"),
      (["--inline", "--listen", "nonsense"], "--listen expects HOST:PORT, got 'nonsense'"),
      (["--inline-body-size", "10"], "--inline-body-size needs --inline"),
      (["a.lua", "b.lua"], "unexpected argument 'b.lua'"),
    ]
    // "OPTION must be WHAT, got 'VALUE'".
    let outOfRange: [(option: String, value: String, what: String)] = [
      ("--threads", "0", "between 1 and 256"),
      ("--timeout", "-1", "between 0 and 86400 seconds"),
      ("--queue-timeout", "0", "between 0 and 3600 seconds (0 excluded)"),
      ("--idle-timeout", "-2.5", "between 0 and 86400 seconds (0 excluded)"),
      ("--worker-depth", "2000", "between 1 and 1024"),
      ("--max-requests", "-5", "0 or more"),
      ("--max-connections", "0", "between 1 and 1000000"),
      ("--log-level", "loud", "debug, info, warn or error"),
      ("--name", "a/b", "a name without '/' (the control socket is NAME.sock)"),
      ("--worker", " ", "a command line"),
    ]
    cases += outOfRange.map {
      (["--inline", $0.option, $0.value], "\($0.option) must be \($0.what), got '\($0.value)'")
    }
    for (arguments, message) in cases {
      let result = try BrokerProcess.runToExit(arguments)
      XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
      XCTAssertEqual(result.stderr, "ringbroker: \(message)\n", "\(arguments)")
    }
    // Last on the line (runToExit would add --name after it, which it would take as its value).
    let missing = try Spawn.run(Products.path("ringbroker"), ["--inline", "--workers"])
    XCTAssertEqual(missing.status, 64, missing.stderr)
    XCTAssertEqual(missing.stderr, "ringbroker: missing value for '--workers <n>'\n")
  }

  func testRingstatBadValuesAreOneLineExit64() throws {
    let cases: [([String], String)] = [
      (["--count"], "missing value for '--count <n>'"),
      (["--watch", "-1"], "--watch needs a positive interval, got '-1.0'"),
      (["--watch", "1", "--count", "-2"], "--count needs a positive number, got '-2'"),
      (["--count", "2"], "--count goes with --watch"),
    ]
    for (arguments, message) in cases {
      let result = try Spawn.run(Products.path("ringstat"), arguments)
      XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
      XCTAssertEqual(result.stderr, "ringstat: \(message)\n", "\(arguments)")
    }
  }

  /// Help is still there when asked for: on stdout, exit 0.
  func testHelpPrintsUsageInEveryTool() throws {
    for tool in tools {
      let result = try run(tool, ["--help"])
      XCTAssertEqual(result.status, 0, "\(tool): \(result.stderr)")
      XCTAssertTrue(result.stdout.lowercased().contains("usage"), "\(tool): \(result.stdout)")
    }
  }

  /// "listening on HOST:PORT" first (scripts read the port after it), then the workers and the
  /// control socket.
  func testStartUpLineNamesTheAddressTheWorkersAndTheControlSocket() throws {
    let app = Products.luaExamples + "/hello.lua"
    let broker = try BrokerProcess(["--workers", "2", app])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let line = try XCTUnwrap(broker.waitForLogLine(containing: "listening on"))
    let controlPath = try XCTUnwrap(broker.controlPath)
    XCTAssertTrue(
      line.hasSuffix(
        "listening on 127.0.0.1:\(broker.port) (2 workers: ringworker-lua \(app)), "
          + "control socket \(controlPath)"), line)
  }
}
