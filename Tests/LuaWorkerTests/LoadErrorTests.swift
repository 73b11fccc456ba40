import Foundation
import XCTest

/// `ringworker-lua --check APP.lua`, and serving an app that does not load: one line
/// `file:line: message` on stderr, exit code 78 (the broker's "do not respawn").
final class LoadErrorTests: XCTestCase {
  // Made per test and dropped after it: XCTest keeps every test case instance until the run ends,
  // so a directory made at init would outlive the run.
  private var directory: TemporaryDirectory!

  override func setUp() { directory = TemporaryDirectory() }
  override func tearDown() { directory = nil }

  /// Runs the worker on `app`, with and without --check; both must fail the same way.
  private func assertDoesNotLoad(
    _ app: String, lineStartsWith prefix: String, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    for arguments in [["--check", app], [app]] {
      let result = try runToExit(luaWorkerExecutable, arguments)
      XCTAssertEqual(result.status, 78, "\(arguments): \(result.stderr)", file: file, line: line)
      XCTAssertTrue(
        result.stderr.hasPrefix(prefix), "\(arguments): \(result.stderr)", file: file, line: line)
      XCTAssertTrue(result.stderr.hasSuffix("\n"), file: file, line: line)
      XCTAssertEqual(
        result.stderr.filter { $0 == "\n" }.count, 1, "one line: \(result.stderr)", file: file,
        line: line)
    }
  }

  func testExamplesPassTheCheck() throws {
    for example in ["hello.lua", "api.lua", "echo.lua"] {
      let result = try runToExit(
        luaWorkerExecutable, ["--check", examplesDirectory + "/" + example])
      XCTAssertEqual(result.status, 0, "\(example): \(result.stderr)")
      XCTAssertEqual(result.stderr, "")
    }
  }

  func testSyntaxError() throws {
    let app = try directory.write(
      "syntax.lua", "local ok = 1\n\nlocal x = = 2\nreturn function() end\n")
    try assertDoesNotLoad(app, lineStartsWith: app + ":3: unexpected symbol near '='")
  }

  func testMissingFile() throws {
    let app = directory.path + "/missing.lua"
    try assertDoesNotLoad(
      app, lineStartsWith: app + ":1: cannot open the app: No such file or directory")
  }

  func testAppThatReturnsNoHandler() throws {
    let app = try directory.write("nothing.lua", "local x = 1\n\nprint(x)\n")
    try assertDoesNotLoad(
      app, lineStartsWith: app + ":3: the app returned nothing (nil); it must return a handler")
    let table = try directory.write("table.lua", "local t = {}\nreturn t\n")
    try assertDoesNotLoad(
      table, lineStartsWith: table + ":2: the app returned a table that is not callable")
    let string = try directory.write("string.lua", "return 'hello'\n")
    try assertDoesNotLoad(
      string, lineStartsWith: string + ":1: the app returned the string 'hello'")
  }

  func testRuntimeErrorWhileLoading() throws {
    let app = try directory.write("runtime.lua", "local t = nil\n\nt.field = 1\n")
    try assertDoesNotLoad(app, lineStartsWith: app + ":3: attempt to index local 't' (a nil value)")
  }

  func testErrorWithoutPositionGetsTheAppLine() throws {
    let app = try directory.write("plain.lua", "\nerror('no position', 0)\n")
    try assertDoesNotLoad(app, lineStartsWith: app + ":2: no position")
  }

  func testMissingModuleIsOneLine() throws {
    let app = try directory.write(
      "needs.lua", "local m = require('not_there')\nreturn function() end\n")
    try assertDoesNotLoad(
      app, lineStartsWith: app + ":1: module 'not_there' not found: no field package.preload")
  }

  func testErrorInsideAModuleNamesTheModule() throws {
    try directory.write("broken_module.lua", "local M = {}\nM.x = nil + 1\nreturn M\n")
    let app = try directory.write(
      "uses.lua", "local m = require('broken_module')\nreturn function() end\n")
    try assertDoesNotLoad(
      app,
      lineStartsWith: directory.path
        + "/broken_module.lua:2: attempt to perform arithmetic on a nil value")
  }

  /// A bad command line is one line naming what is wrong, exit 64; only --help prints usage.
  func testUsageErrors() throws {
    for (arguments, message) in [
      ([], "expected one APP.lua, got 0 (try --help)"),
      (["--check"], "expected one APP.lua, got 0 (try --help)"),
      (["a.lua", "b.lua"], "expected one APP.lua, got 2 (try --help)"),
      (["--bogus", "a.lua"], "unknown option '--bogus'"),
      (["a.lua", "--check"], "'--check' must be the first argument (try --help)"),
    ] {
      let result = try runToExit(luaWorkerExecutable, arguments)
      XCTAssertEqual(result.status, 64, "\(arguments)")
      XCTAssertEqual(result.stderr, "ringworker-lua: \(message)\n", "\(arguments)")
    }
    let help = try runToExit(luaWorkerExecutable, ["--help"])
    XCTAssertEqual(help.status, 0)
    XCTAssertTrue(help.stdout.hasPrefix("usage: ringworker-lua APP.lua"), help.stdout)
  }

  func testServingWithoutAChannelFailsWithoutCode78() throws {
    let result = try runToExit(luaWorkerExecutable, [examplesDirectory + "/hello.lua"])
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(
      result.stderr.contains("neither RINGWORKER_FD nor RINGWORKER_ENDPOINT is set"), result.stderr)
  }
}
