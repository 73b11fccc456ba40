import CRingABI
import Foundation
import Glibc
import RingChannel
import XCTest

/// What a handler sees of a request: `req.method`, `path`, `target`, `query`, `headers`, `body`,
/// through a real ringworker-lua process on a real channel.
final class RequestAPITests: XCTestCase {
  func testHelloExample() throws {
    let worker = try WorkerFixture(app: examplesDirectory + "/hello.lua")
    let reply = try worker.request("GET", "/")
    XCTAssertEqual(reply.status, 200)
    XCTAssertEqual(reply.header("Content-Type"), "text/plain")
    XCTAssertEqual(reply.text, "hello world\n")
    XCTAssertEqual(try worker.stop(), 0)
  }

  func testMethodPathTargetReachTheHandler() throws {
    let worker = try WorkerFixture(app: examplesDirectory + "/echo.lua")
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND"] {
      let json = try worker.request(method, "/a/b%20c/?x=1").json()
      XCTAssertEqual(json["method"] as? String, method)
      XCTAssertEqual(json["path"] as? String, "/a/b%20c/", "the path as sent, not decoded")
      XCTAssertEqual(json["target"] as? String, "/a/b%20c/?x=1")
    }
    XCTAssertEqual(try worker.stop(), 0)
  }

  /// req.remote_addr, remote_port, local_addr, local_port, id and scheme: what the front wrote
  /// into the request head. The id is a string, exact over all 64 bits (a Lua number is not
  /// beyond 2^53), and every field is read again for the next request.
  func testRequestMetadataReachesTheHandler() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "meta.lua",
      """
      return function(req)
        return 200, nil, table.concat({ req.remote_addr, req.remote_port, req.local_addr,
          req.local_port, req.id, type(req.id), req.scheme, type(req.remote_port) }, "|")
      end
      """)
    let worker = try WorkerFixture(app: app)
    let ipv6 = RequestOrigin(
      remote: try XCTUnwrap(rb_endpoint(parsing: "2001:db8::7", port: 40123)),
      local: rb_endpoint(ipv4: (10, 0, 0, 1), port: 8443), receivedUnixNanoseconds: 1)
    let first = try worker.request("GET", "/", id: (1 << 56) + 5, origin: ipv6)
    XCTAssertEqual(
      first.text, "2001:db8::7|40123|10.0.0.1|8443|72057594037927941|string|http|number")
    let second = try worker.request("GET", "/", id: 42)
    XCTAssertEqual(second.text, "192.0.2.7|40000|127.0.0.1|8080|42|string|http|number")
    XCTAssertEqual(try worker.stop(), 0)
  }

  func testQueryIsPercentDecodedAndRepeatedKeysGiveLists() throws {
    let worker = try WorkerFixture(app: examplesDirectory + "/echo.lua")
    let target =
      "/q?name=J%C3%BCrgen+Smith&a=1&a=2&a=3&flag&empty=&=skipped&pct=100%25&bad=%zz%4"
      + "&sp%61ce%20key=v&&eq=a=b"
    let query = try XCTUnwrap(try worker.request("GET", target).json()["query"] as? [String: Any])
    XCTAssertEqual(query["name"] as? String, "Jürgen Smith")
    XCTAssertEqual(query["a"] as? [String], ["1", "2", "3"])
    XCTAssertEqual(query["flag"] as? String, "")
    XCTAssertEqual(query["empty"] as? String, "")
    XCTAssertEqual(query["pct"] as? String, "100%")
    XCTAssertEqual(query["bad"] as? String, "%zz%4", "invalid escapes stay as sent")
    XCTAssertEqual(query["space key"] as? String, "v")
    XCTAssertEqual(query["eq"] as? String, "a=b")
    XCTAssertEqual(query.count, 8, "the pair with an empty key is skipped: \(query)")

    let empty = try worker.request("GET", "/q").json()["query"] as? [String: Any]
    XCTAssertEqual(empty?.count, 0)
  }

  func testHeadersAreCaseInsensitiveAndRepeatedOnesJoined() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "headers.lua",
      """
      return function(req)
        local h = req.headers
        return 200, nil, table.concat({ h["Content-Type"] or "-", h["content-type"] or "-",
          h["X-MIXED"] or "-", h["x-repeat"] or "-", h.cookie or "-", h.absent or "-",
          tostring(rawget(h, "X-Mixed")) }, "|")
      end
      """)
    let worker = try WorkerFixture(app: app)
    let reply = try worker.request(
      "GET", "/",
      headers: [
        ("Content-Type", "text/x-test"), ("x-MiXeD", "m"), ("X-Repeat", "1"), ("x-repeat", "2"),
        ("Cookie", "a=1"), ("Cookie", "b=2"),
      ])
    XCTAssertEqual(reply.text, "text/x-test|text/x-test|m|1, 2|a=1; b=2|-|nil")
  }

  func testEchoReportsHeadersInLowerCase() throws {
    let worker = try WorkerFixture(app: examplesDirectory + "/echo.lua")
    let headers =
      try worker.request("GET", "/", headers: [("Host", "example.com"), ("X-Trace", "abc")])
      .json()["headers"] as? [String: String]
    XCTAssertEqual(headers, ["host": "example.com", "x-trace": "abc"])
  }

  func testBinaryUTF8AndEmptyBodies() throws {
    let worker = try WorkerFixture(app: examplesDirectory + "/echo.lua")
    let binary = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ ($0 >> 8)) }
    var json = try worker.request("POST", "/upload", body: binary).json()
    XCTAssertEqual(json["body_length"] as? Int, binary.count)
    XCTAssertEqual(json["body_fnv1a"] as? String, fnv1a32(binary))

    let text = "Grüße, 世界! 🎉 \u{0}nul and \"quotes\"\n"
    json = try worker.request("POST", "/text?echo=body", body: text).json()
    XCTAssertEqual(json["body"] as? String, text)
    XCTAssertEqual(json["body_length"] as? Int, text.utf8.count)

    json = try worker.request("POST", "/empty").json()
    XCTAssertEqual(json["body_length"] as? Int, 0)
    XCTAssertEqual(json["body_fnv1a"] as? String, fnv1a32([]))
  }

  /// A 1 MiB body is larger than any slot of the standard layout: it streams through the slot's
  /// body window in parts (as the front sends it) and `req.body` reads all of it, byte-exact.
  func testOneMebibyteBody() throws {
    let worker = try WorkerFixture(app: examplesDirectory + "/echo.lua")
    let body = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
    let headers = [
      ("Content-Type", "application/octet-stream"), ("Content-Length", String(body.count)),
    ]
    XCTAssertFalse(
      worker.fits(PreparedRequest("PUT", "/big", headers: headers), bodyLength: body.count),
      "the body streams")
    let json = try worker.request("PUT", "/big", headers: headers, body: body).json()
    XCTAssertEqual(json["body_length"] as? Int, body.count)
    XCTAssertEqual(json["body_fnv1a"] as? String, fnv1a32(body))
    XCTAssertEqual(
      try worker.request("POST", "/small", body: "abc").json()["body_length"] as? Int, 3)
  }

  /// The largest body that still goes whole into a slot of the standard layout (its reply room
  /// kept) arrives in the slot, not streamed, byte-exact; one byte more streams.
  func testLargestInSlotBody() throws {
    let worker = try WorkerFixture(app: examplesDirectory + "/echo.lua")
    let request = PreparedRequest(
      "PUT", "/big", headers: [("Content-Type", "application/octet-stream")])
    let slotSize = try XCTUnwrap(ChannelParameters.standard.slotClasses.map(\.slotSize).max())
    let largest =
      slotSize - FrontChannel.minimumReplyRoom
      - RequestSlotWriter.requiredBytes(
        headerCount: request.headers.count, rawHeadLength: request.raw.count, bodyLength: 0)
    XCTAssertTrue(worker.fits(request, bodyLength: largest))
    XCTAssertFalse(worker.fits(request, bodyLength: largest + 1))
    for length in [largest, largest + 1] {
      let body = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
      let json = try worker.request(
        "PUT", "/big", headers: [("Content-Type", "application/octet-stream")], body: body
      )
      .json()
      XCTAssertEqual(json["body_length"] as? Int, body.count)
      XCTAssertEqual(json["body_fnv1a"] as? String, fnv1a32(body))
    }
  }

  func testBodyIsTheSameStringWhenReadTwice() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "twice.lua",
      "return function(req) local a, b = req.body, req.body; return 200, nil, tostring(rawequal(a, b)) .. #a end"
    )
    let worker = try WorkerFixture(app: app)
    XCTAssertEqual(try worker.request("POST", "/", body: "abc").text, "true3")
  }

  /// `req` is one table reused for every request: whatever a handler read or set is gone at the
  /// next request.
  func testFieldsDoNotLeakIntoTheNextRequest() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "leak.lua",
      """
      return function(req)
        local seen = tostring(rawget(req, "mark")) .. "," .. tostring(rawget(req, "path"))
        req.mark = req.path
        return 200, nil, seen .. "," .. req.path
      end
      """)
    let worker = try WorkerFixture(app: app)
    XCTAssertEqual(try worker.request("GET", "/one").text, "nil,nil,/one")
    XCTAssertEqual(try worker.request("GET", "/two").text, "nil,nil,/two")
  }

  func testUnknownFieldsAreNilAndParamsDefaultToAnEmptyTable() throws {
    let directory = TemporaryDirectory()
    let app = try directory.write(
      "fields.lua",
      "return function(req) return 200, nil, tostring(req.nope) .. ',' .. type(req.params) .. ',' .. tostring(next(req.params)) end"
    )
    let worker = try WorkerFixture(app: app)
    XCTAssertEqual(try worker.request("GET", "/").text, "nil,table,nil")
  }

  /// `req` is reused, so a reference kept past its handler (here in a suspended coroutine) reads
  /// whichever request is current: the README says not to keep it.
  func testRequestKeptPastItsHandlerSeesTheCurrentRequest() throws {
    let directory = TemporaryDirectory()
    // A coroutine left suspended keeps `req` beyond the handler call that made it.
    let app = try directory.write(
      "stale.lua",
      """
      local later
      return function(req)
        if later then
          local ok, message = coroutine.resume(later)
          later = nil
          return 200, nil, tostring(ok) .. ":" .. tostring(message)
        end
        local kept = req
        later = coroutine.create(function() coroutine.yield(); return kept.target end)
        coroutine.resume(later)
        return 200, nil, "first"
      end
      """)
    let worker = try WorkerFixture(app: app)
    XCTAssertEqual(try worker.request("GET", "/first").text, "first")
    XCTAssertEqual(try worker.request("GET", "/second").text, "true:/second")
  }
}
