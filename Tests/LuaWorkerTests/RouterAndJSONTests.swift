import Foundation
import TestSupport
import XCTest

/// require("ringbroker").router(), lua-cjson, and the api example with its own module.
final class RouterAndJSONTests: XCTestCase {
  private static let routerApp = """
    local rb = require("ringbroker")
    local app = rb.router()
    local function say(text) return function(req) return 200, nil, text end end
    app:get("/", say("root"))
    app:get("/users/me", say("me"))
    app:get("/users/:id", function(req) return 200, nil, "user " .. req.params.id end)
    app:put("/users/:id", function(req) return 200, nil, "put " .. req.params.id end)
    app:delete("/users/:id", say("deleted"))
    app:post("/users", say("created"))
    app:patch("/items/:a/parts/:b", function(req) return 200, nil, req.params.a .. "+" .. req.params.b end)
    app:get("/files/*rest", function(req) return 200, nil, "file " .. req.params.rest end)
    app:get("/report.:format", function(req) return 200, nil, "format " .. req.params.format end)
    app:any("/anything", function(req) return 200, nil, "any " .. req.method end)
    app:head("/only-head", say("head"))
    app:options("/users", say("options"))
    return app
    """

  func testRoutesMethodsAndParams() throws {
    let directory = TemporaryDirectory()
    let worker = try WorkerFixture(app: try directory.write("app.lua", Self.routerApp))
    let cases: [(String, String, String)] = [
      ("GET", "/", "root"),
      ("GET", "/users/me", "me"),
      ("GET", "/users/42?x=1", "user 42"),
      ("GET", "/users/john%20doe", "user john doe"),
      ("PUT", "/users/7", "put 7"),
      ("DELETE", "/users/me", "deleted"),
      ("POST", "/users", "created"),
      ("OPTIONS", "/users", "options"),
      ("PATCH", "/items/x/parts/y", "x+y"),
      ("GET", "/files/a/b/c.txt", "file a/b/c.txt"),
      ("GET", "/report.csv", "format csv"),
      ("GET", "/anything", "any GET"),
      ("BREW", "/anything", "any BREW"),
      ("HEAD", "/users/9", "user 9"),
      ("HEAD", "/only-head", "head"),
    ]
    for (method, target, expected) in cases {
      let reply = try worker.request(method, target)
      XCTAssertEqual(reply.status, 200, "\(method) \(target)")
      XCTAssertEqual(reply.text, expected, "\(method) \(target)")
    }
  }

  func testNotFoundAndMethodNotAllowed() throws {
    let directory = TemporaryDirectory()
    let worker = try WorkerFixture(app: try directory.write("app.lua", Self.routerApp))
    for target in ["/nope", "/users/1/extra", "/users/", "/Users/1", "/files"] {
      let reply = try worker.request("GET", target)
      XCTAssertEqual(reply.status, 404, target)
      XCTAssertEqual(reply.text, "not found\n")
    }
    var reply = try worker.request("PATCH", "/users/1")
    XCTAssertEqual(reply.status, 405)
    XCTAssertEqual(reply.header("Allow"), "DELETE, GET, HEAD, PUT")
    XCTAssertEqual(reply.text, "method not allowed\n")
    // An exact path and a pattern both match: Allow lists the methods of both.
    reply = try worker.request("POST", "/users/me")
    XCTAssertEqual(reply.status, 405)
    XCTAssertEqual(reply.header("Allow"), "DELETE, GET, HEAD, PUT")
    reply = try worker.request("DELETE", "/users")
    XCTAssertEqual(reply.status, 405)
    XCTAssertEqual(reply.header("Allow"), "OPTIONS, POST")
    XCTAssertEqual(try worker.stop(), 0)
    XCTAssertFalse(worker.log.contains("handler"), "404 and 405 are not errors: \(worker.log)")
  }

  func testCustomNotFound() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      """
      local app = require("ringbroker").router()
      app:get("/", function() return 200 end)
      app.not_found = function(req) return 404, { ["Content-Type"] = "text/html" }, "<h1>" .. req.path .. "</h1>" end
      return app
      """)
    let worker = try WorkerFixture(app: app)
    let reply = try worker.request("GET", "/missing")
    XCTAssertEqual(reply.status, 404)
    XCTAssertEqual(reply.header("content-type"), "text/html")
    XCTAssertEqual(reply.text, "<h1>/missing</h1>")
    XCTAssertEqual(try worker.request("GET", "/").status, 200)
  }

  func testBadRoutesFailAtLoad() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      """
      local app = require("ringbroker").router()
      app:get("/files/*rest/more", function() end)
      return app
      """)
    let result = try runToExit(luaWorkerExecutable, ["--check", app])
    XCTAssertEqual(result.status, 78)
    XCTAssertTrue(result.stderr.hasPrefix(app + ":2: route '/files/*rest/more'"), result.stderr)
  }

  /// The README's way to send `[]`, run as written inside an app; and the fact it rests on:
  /// this lua-cjson encodes `{}` for an empty table and has no empty-array marker.
  func testReadmesEmptyArrayRecipe() throws {
    let readme = try String(
      contentsOfFile: Products.repository + "/workers/lua/README.md", encoding: .utf8)
    let blocks = readme.components(separatedBy: "```lua\n").dropFirst().map {
      $0.components(separatedBy: "```").first ?? ""
    }
    let recipe = try XCTUnwrap(blocks.first { $0.contains("json_array") }, "no recipe in README")
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      """
      local rb = require("ringbroker")
      local cjson = require("cjson")
      local app = rb.router()
      \(recipe)
      app:get("/facts", function(req)
        return 200, nil, cjson.encode({}) .. " " .. tostring(cjson.empty_array) .. " "
          .. tostring(cjson.array_mt) .. " " .. json_array({ 1, 2 })
      end)
      return app
      """)
    let worker = try WorkerFixture(app: app)
    let reply = try worker.request("GET", "/users")
    XCTAssertEqual(reply.status, 200)
    XCTAssertEqual(reply.header("Content-Type"), "application/json")
    XCTAssertEqual(reply.text, #"{"users":[]}"#)
    XCTAssertEqual(try worker.request("GET", "/facts").text, "{} nil nil [1,2]")
  }

  func testJSONRoundTrip() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      """
      local rb = require("ringbroker")
      local cjson = require("cjson")
      return function(req)
        local value = cjson.decode(req.body)
        value.seen_by = "lua"
        return rb.json(200, value)
      end
      """)
    let worker = try WorkerFixture(app: app)
    let sent: [String: Any] = [
      "name": "Zoë 世界 🎉", "count": 3, "ratio": 0.25, "tags": ["a", "b"], "nested": ["ok": true],
      "quote": "say \"hi\"\n",
    ]
    let reply = try worker.request(
      "POST", "/", headers: [("Content-Type", "application/json")],
      body: Array(try JSONSerialization.data(withJSONObject: sent)))
    XCTAssertEqual(reply.status, 200)
    XCTAssertEqual(reply.header("Content-Type"), "application/json")
    let json = try reply.json()
    XCTAssertEqual(json["name"] as? String, "Zoë 世界 🎉")
    XCTAssertEqual(json["count"] as? Int, 3)
    XCTAssertEqual(json["ratio"] as? Double, 0.25)
    XCTAssertEqual(json["tags"] as? [String], ["a", "b"])
    XCTAssertEqual(json["nested"] as? [String: Bool], ["ok": true])
    XCTAssertEqual(json["quote"] as? String, "say \"hi\"\n")
    XCTAssertEqual(json["seen_by"] as? String, "lua")
  }

  /// A handler may add to the headers rb.json (or the router's 404) gives it: that request's
  /// reply carries them, no later reply does.
  func testHeadersAddedToABuiltInReplyStayWithThatReply() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "app.lua",
      """
      local rb = require("ringbroker")
      local app = rb.router()
      app:post("/users", function(req)
        local status, headers, body = rb.json(201, { id = 3 })
        headers["Location"] = "/users/3"
        return status, headers, body
      end)
      app:get("/users", function(req) return rb.json(200, { users = {} }) end)
      app.not_found = function(req)
        local status, headers, body = rb.json(404, { error = "no route" })
        headers["X-Missing"] = req.path
        return status, headers, body
      end
      return app
      """)
    let worker = try WorkerFixture(app: app)
    let created = try worker.request("POST", "/users")
    XCTAssertEqual(created.status, 201)
    XCTAssertEqual(created.header("Location"), "/users/3")
    let listed = try worker.request("GET", "/users")
    XCTAssertEqual(listed.status, 200)
    XCTAssertEqual(listed.header("Content-Type"), "application/json")
    XCTAssertNil(listed.header("Location"), "\(listed.headers)")
    let missing = try worker.request("GET", "/nope")
    XCTAssertEqual(missing.header("X-Missing"), "/nope")
    XCTAssertNil(missing.header("Location"), "\(missing.headers)")
    XCTAssertNil(try worker.request("GET", "/users").header("X-Missing"))
    XCTAssertEqual(try worker.stop(), 0)
  }

  /// examples/api.lua: router, params, query, JSON bodies, and require("store") from its folder.
  func testAPIExample() throws {
    let worker = try WorkerFixture(app: examplesDirectory + "/api.lua")
    var reply = try worker.request("GET", "/users/1")
    XCTAssertEqual(reply.status, 200)
    XCTAssertEqual(try reply.json()["name"] as? String, "Ada Lovelace")

    reply = try worker.request(
      "POST", "/users", body: #"{"name":"Grace Hopper","email":"grace@example.com"}"#)
    XCTAssertEqual(reply.status, 201)
    XCTAssertEqual(reply.header("Location"), "/users/3")
    reply = try worker.request("GET", "/users/3")
    XCTAssertEqual(try reply.json()["email"] as? String, "grace@example.com")

    reply = try worker.request("GET", "/users?name=GRACE")
    let users = try XCTUnwrap(try reply.json()["users"] as? [[String: Any]])
    XCTAssertEqual(users.map { $0["id"] as? String }, ["3"])
    reply = try worker.request("GET", "/users?limit=2")
    XCTAssertEqual((try reply.json()["users"] as? [Any])?.count, 2)

    reply = try worker.request("POST", "/users", body: "not json")
    XCTAssertEqual(reply.status, 400)
    XCTAssertEqual(try reply.json()["error"] as? String, "the body must be a JSON object")

    reply = try worker.request("DELETE", "/users/3")
    XCTAssertEqual(reply.status, 204)
    XCTAssertEqual(reply.body, [])
    XCTAssertEqual(try worker.request("GET", "/users/3").status, 404)
    XCTAssertEqual(try worker.request("PATCH", "/users/1").status, 405)
    XCTAssertEqual(try worker.stop(), 0)
  }

  func testRequireFindsNestedModulesInTheAppDirectory() throws {
    let directory = TemporaryDirectory()
    mkdir(directory.path + "/lib", 0o755)
    try directory.write(
      "lib/init.lua", "return { greet = function(name) return 'hi ' .. name end }")
    let app = try directory.write(
      "app.lua",
      "local lib = require('lib'); return function(req) return 200, nil, lib.greet('x') end")
    // Started from another working directory: the app's directory is what counts.
    let worker = try WorkerFixture(app: app)
    XCTAssertEqual(try worker.request("GET", "/").text, "hi x")
  }
}
