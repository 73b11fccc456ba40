import CRingABI
import Foundation
import RingChannel
import XCTest

/// Handlers that fail or return what cannot be sent get a 500, the reason is logged, and the
/// worker keeps serving. Apps that cannot load stop the worker with one line and exit code 78.
final class ErrorTests: XCTestCase {
  func testRuntimeErrorGives500AndIsLoggedWithTracebackAndRequestLine() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      """
      local function explode(what)
        error("exploded on " .. what)
      end
      return function(req)
        if req.path == "/boom" then explode(req.query.what) end
        return 200, nil, "fine"
      end
      """)
    let worker = try WorkerFixture(app: app)
    let reply = try worker.request("GET", "/boom?what=purpose")
    XCTAssertEqual(reply.status, 500)
    XCTAssertEqual(reply.header("Content-Type"), "text/plain")
    XCTAssertEqual(reply.text, "internal server error\n")
    for _ in 0..<3 {
      XCTAssertEqual(try worker.request("GET", "/ok").text, "fine", "the worker keeps serving")
    }
    XCTAssertEqual(try worker.request("GET", "/boom?what=again").status, 500)
    XCTAssertEqual(try worker.stop(), 0)
    let log = worker.log
    XCTAssertTrue(log.contains("GET /boom?what=purpose HTTP/1.1: handler failed: "), log)
    XCTAssertTrue(log.contains("app.lua:2: exploded on purpose"), log)
    XCTAssertTrue(log.contains("stack traceback:"), log)
    XCTAssertTrue(
      log.contains("in function 'explode'") || log.contains("in upvalue 'explode'"), log)
    XCTAssertTrue(log.contains("GET /boom?what=again HTTP/1.1"), log)
  }

  func testErrorObjectsThatAreNotStrings() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write("app.lua", "return function(req) error({ code = 7 }) end")
    let worker = try WorkerFixture(app: app)
    XCTAssertEqual(try worker.request("GET", "/").status, 500)
    XCTAssertEqual(try worker.stop(), 0)
    XCTAssertTrue(worker.log.contains("(error object is a table value: table: "), worker.log)
  }

  /// Each case: the handler's return statement, and what the log must say.
  private static let wrongReturns: [(String, String)] = [
    ("return 'abc'", "handler returned status 'abc' (string), expected an integer 200..599"),
    ("return '200'", "handler returned status '200' (string), expected an integer 200..599"),
    ("return", "handler returned status nil, expected an integer 200..599"),
    ("return 99", "handler returned status 99 (number), expected an integer 200..599"),
    ("return 600", "handler returned status 600 (number)"),
    ("return 200.5", "handler returned status 200.5 (number)"),
    ("return {}", "handler returned status a table"),
    (
      "return 200, 'text/plain', 'x'",
      "handler returned headers 'text/plain' (string), expected a table"
    ),
    (
      "return 200, { 'Content-Type: text/plain' }, 'x'",
      "handler returned a header name 1 (number), expected a string"
    ),
    ("return 200, { ['X-Flag'] = true }, 'x'", "header 'X-Flag' has value true (boolean)"),
    ("return 200, { ['X-List'] = { 'a', {} } }, 'x'", "header 'X-List' has a list element a table"),
    ("return 200, { ['Bad Name'] = 'x' }, 'x'", "header name 'Bad Name' is not a token"),
    (
      "return 200, { ['X-Split'] = 'a\\r\\nInjected: yes' }, 'x'",
      "header 'X-Split' has a value with control characters"
    ),
    (
      "return 200, { ['Content-Length'] = '1' }, 'x'",
      "header 'Content-Length' is written by the front"
    ),
    (
      "return 200, { ['transfer-encoding'] = 'chunked' }, 'x'",
      "header 'transfer-encoding' is written by the front"
    ),
    (
      "return 200, { ['Connection'] = 'close' }, 'x'", "header 'Connection' is written by the front"
    ),
    (
      "return 200, nil, { a = 1 }",
      "handler returned body a table, expected a string, a function that returns the body piece by piece, or nil (encode tables with cjson.encode)"
    ),
    (
      "return 200, nil, 42",
      "handler returned body 42 (number), expected a string, a function that returns the body"
    ),
  ]

  func testWrongReturnValuesGive500AndSayWhatWasWrong() throws {
    let directory = TemporaryDirectory()
    var source = "local cases = {\n"
    for (index, (statement, _)) in Self.wrongReturns.enumerated() {
      source += "  [\"/\(index)\"] = function() \(statement) end,\n"
    }
    source += "}\nreturn function(req)\n  local case = cases[req.path]\n"
    source += "  if case then return case() end\n  return 200, { ['X-Ok'] = 1 }, 'ok'\nend\n"
    let worker = try WorkerFixture(app: try directory.write("app.lua", source))
    for index in Self.wrongReturns.indices {
      let reply = try worker.request("GET", "/\(index)")
      XCTAssertEqual(reply.status, 500, Self.wrongReturns[index].0)
      XCTAssertEqual(reply.text, "internal server error\n")
      XCTAssertNil(reply.header("Injected"))
      let ok = try worker.request("GET", "/ok")
      XCTAssertEqual(ok.status, 200, "the worker keeps serving")
      XCTAssertEqual(ok.header("X-Ok"), "1")
    }
    XCTAssertEqual(try worker.stop(), 0)
    let log = worker.log
    for (index, (statement, expected)) in Self.wrongReturns.enumerated() {
      XCTAssertTrue(log.contains("GET /\(index) HTTP/1.1: \(expected)"), "\(statement): \(log)")
    }
  }

  func testReplyHeadersNumbersAndLists() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      """
      return function(req)
        return 201, { ["X-Count"] = 42, ["X-Ratio"] = 0.5, ["Set-Cookie"] = { "a=1", "b=2" }, ["X-Empty"] = "" }, nil
      end
      """)
    let worker = try WorkerFixture(app: app)
    let reply = try worker.request("GET", "/")
    XCTAssertEqual(reply.status, 201)
    XCTAssertEqual(reply.header("X-Count"), "42")
    XCTAssertEqual(reply.header("X-Ratio"), "0.5")
    XCTAssertEqual(reply.headers.filter { $0.name == "Set-Cookie" }.map(\.value), ["a=1", "b=2"])
    XCTAssertEqual(reply.header("X-Empty"), "")
    XCTAssertEqual(reply.body, [])
  }

  func testReplyLargerThanTheSlotIsStreamedWithItsLength() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua", "return function(req) return 200, nil, string.rep('x', tonumber(req.query.n)) end")
    let worker = try WorkerFixture(app: app)
    // A small request lands in the smallest slot of the standard layout: a reply 4 KiB short
    // of the slot fits, one 6 KiB larger than the slot goes in parts.
    let slotSize = try XCTUnwrap(ChannelParameters.standard.slotClasses.map(\.slotSize).min())
    let fits = slotSize - 4096
    let over = slotSize + 6144
    var reply = try worker.request("GET", "/?n=\(fits)")
    XCTAssertEqual(reply.status, 200)
    XCTAssertFalse(reply.streamed)
    XCTAssertEqual(reply.body.count, fits)
    reply = try worker.request("GET", "/?n=\(over)")
    XCTAssertEqual(reply.status, 200)
    XCTAssertTrue(reply.streamed)
    XCTAssertEqual(reply.declaredLength, UInt64(over))
    XCTAssertEqual(reply.body, Array(repeating: UInt8(ascii: "x"), count: over))
    XCTAssertEqual(try worker.request("GET", "/?n=3").text, "xxx")
    XCTAssertEqual(try worker.stop(), 0)
    XCTAssertFalse(worker.log.contains("does not fit"), worker.log)
  }

  /// A reply that fills the room (Request.replyCapacity) exactly is sent whole; one byte more
  /// is streamed, whatever the request's own size.
  func testReplyRoomIsExact() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      "return function(req) return 200, { ['X-A'] = 'b' }, string.rep('y', tonumber(req.query.n)) end"
    )
    let worker = try WorkerFixture(app: app)
    // Small requests land in the smallest slot of the standard layout.
    let slotSize = try XCTUnwrap(ChannelParameters.standard.slotClasses.map(\.slotSize).min())
    for padding in [0, 5000] {
      let headers = padding == 0 ? [] : [("X-Padding", String(repeating: "p", count: padding))]
      // Every probe has a target of the same length, so leaves the same room in its slot.
      _ = try worker.request("GET", "/?n=000000", headers: headers)
      let room = slotSize - worker.lastReplyOffset - "X-A: b\r\n".utf8.count
      let fits = try worker.request("GET", "/?n=" + String(format: "%06d", room), headers: headers)
      XCTAssertEqual(fits.status, 200, worker.log)
      XCTAssertEqual(fits.body.count, room)
      XCTAssertFalse(fits.streamed)
      let over = try worker.request(
        "GET", "/?n=" + String(format: "%06d", room + 1), headers: headers)
      XCTAssertEqual(over.status, 200)
      XCTAssertTrue(over.streamed)
      XCTAssertEqual(over.body.count, room + 1)
      XCTAssertEqual(over.header("X-A"), "b")
    }
    XCTAssertEqual(try worker.stop(), 0)
  }
}
