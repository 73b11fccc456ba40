import Foundation
import TestSupport
import XCTest

/// The whole request path behind a real `ringbroker`: the front's parser, the request written
/// into a slot, the Lua handler in ringworker-lua, the reply back out of the slot, framed for the
/// client. Two Lua workers; requests of different speed pipelined on one connection.
final class LuaEndToEndTests: XCTestCase {
  /// `/slow` busy-loops about 50 ms of CPU (no sleep available to a handler, no os.execute);
  /// `/fast` answers at once; `/echo` answers with the body. Each reply names its request.
  private static let app = """
    return function(req)
      if req.path == "/slow" then
        local start = os.clock()
        while os.clock() - start < 0.05 do end
      end
      if req.path == "/echo" then
        return 200, { ["X-Path"] = req.path }, req.method .. " " .. req.body
      end
      return 200, { ["X-Path"] = req.path }, req.path .. " " .. (req.query.i or "")
    end
    """

  func testPipelinedRequestsOfDifferentSpeedAreAnsweredInRequestOrder() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write("pipeline.lua", Self.app)
    let broker = try BrokerProcess([app, "--workers", "2"])
    defer { XCTAssertEqual(broker.stop(), 0, broker.stderr) }
    XCTAssertTrue(
      waitForAttachedWorkers(brokerPid: broker.pid, count: 2), "two Lua workers: \(broker.stderr)")

    let paths = ["/slow?i=1", "/fast?i=2", "/slow?i=3", "/fast?i=4"]
    let client = try RawHTTPClient(port: broker.port, timeout: 20)
    let start = Date()
    // All in one write: the front parses them out of one buffer.
    try client.send(
      paths.map { Requests.get($0) }.joined() + Requests.post("/echo", body: "after the four"))
    for (index, path) in paths.enumerated() {
      let reply = try client.readResponse()
      let name = String(path.prefix { $0 != "?" })
      XCTAssertEqual(reply.status, 200, "reply \(index + 1)")
      XCTAssertEqual(reply.bodyText, "\(name) \(index + 1)", "reply \(index + 1) out of order")
      XCTAssertEqual(reply.header("X-Path"), name)
      XCTAssertEqual(reply.header("Content-Length"), String(reply.body.count))
    }
    let echo = try client.readResponse()
    XCTAssertEqual(echo.bodyText, "POST after the four")
    XCTAssertGreaterThanOrEqual(
      Date().timeIntervalSince(start), 0.1, "both /slow handlers ran their 50 ms")
    // Nothing beyond one reply per request.
    XCTAssertTrue(client.staysSilent(for: 0.2))
  }
}
