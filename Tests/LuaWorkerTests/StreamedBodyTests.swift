import Foundation
import Glibc
import TestSupport
import XCTest

/// Request bodies larger than a slot reach a Lua app through a real broker: `req.body` reads
/// the whole streamed body, `req:body_chunks()` reads it piece by piece, both byte-exact.
final class LuaStreamedBodyTests: XCTestCase {
  private static let app = """
    local bit = require("bit")
    local bxor, tobit, lshift, tohex = bit.bxor, bit.tobit, bit.lshift, bit.tohex
    local byte = string.byte
    local function fnv1a(hash, text)
      for i = 1, #text do
        hash = bxor(hash, byte(text, i))
        hash = tobit(lshift(hash, 24) + hash * 403)
      end
      return hash
    end
    return function(req)
      if req.path == "/chunks" then
        local hash, length, pieces = tobit(0x811c9dc5), 0, 0
        for chunk in req:body_chunks() do
          hash = fnv1a(hash, chunk)
          length = length + #chunk
          pieces = pieces + 1
        end
        return 200, nil, length .. " " .. tohex(hash) .. " " .. pieces
      end
      local body = req.body
      return 200, nil, #body .. " " .. tohex(fnv1a(tobit(0x811c9dc5), body))
    end
    """

  private var broker: BrokerProcess!
  private var directory: TemporaryDirectory!

  override func setUpWithError() throws {
    directory = TemporaryDirectory()
    let app = try directory.write("app.lua", Self.app)
    broker = try BrokerProcess([app, "--workers", "1"])
  }

  override func tearDown() {
    XCTAssertEqual(broker.stop(), 0, broker.stderr)
    broker = nil
    // XCTest keeps test case instances until the run ends: drop the directory now.
    directory = nil
  }

  /// Sends a request with `body` (Content-Length, or chunked) and returns the reply's body.
  private func post(_ path: String, body: [UInt8], chunked: Bool) throws -> String {
    let client = try RawHTTPClient(port: broker.port)
    let framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: \(body.count)"
    try client.send("POST \(path) HTTP/1.1\r\nHost: t\r\n\(framing)\r\n\r\n")
    if chunked {
      var offset = 0
      while offset < body.count {
        let end = min(offset + 123_457, body.count)
        try client.send(
          Array("\(String(end - offset, radix: 16))\r\n".utf8) + body[offset..<end] + [13, 10])
        offset = end
      }
      try client.send("0\r\n\r\n")
    } else {
      try client.send(body)
    }
    let reply = try client.readResponse()
    XCTAssertEqual(reply.status, 200, reply.bodyText)
    return reply.bodyText
  }

  private static func body(count: Int) -> [UInt8] {
    var state: UInt32 = 12345
    return (0..<count).map { _ in
      state = state &* 1_664_525 &+ 1_013_904_223
      return UInt8(truncatingIfNeeded: state >> 24)
    }
  }

  func testReqBodyReadsAWhole5MiBStreamedUpload() throws {
    let body = Self.body(count: 5 << 20)
    XCTAssertEqual(try post("/whole", body: body, chunked: false), "\(body.count) \(fnv1a32(body))")
    XCTAssertEqual(try post("/whole", body: body, chunked: true), "\(body.count) \(fnv1a32(body))")
  }

  func testBodyChunksReadsAStreamedUploadPieceByPiece() throws {
    let body = Self.body(count: (5 << 20) + 3)
    for chunked in [false, true] {
      let reply = try post("/chunks", body: body, chunked: chunked)
      let fields = reply.split(separator: " ")
      XCTAssertEqual(fields.count, 3, reply)
      XCTAssertEqual(fields.first.map(String.init), "\(body.count)")
      XCTAssertEqual(fields.dropFirst().first.map(String.init), fnv1a32(body))
      // Piece by piece: a 5 MiB body never comes as one string.
      XCTAssertGreaterThan(Int(fields.last ?? "") ?? 0, 10, reply)
    }
    // A small body, in the slot, through the same iterator.
    XCTAssertEqual(
      try post("/chunks", body: Array("tiny".utf8), chunked: false),
      "4 \(fnv1a32(Array("tiny".utf8))) 1")
  }
}
