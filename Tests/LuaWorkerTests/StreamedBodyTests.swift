import Foundation
import Glibc
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

  private var broker: Process!
  private var port: UInt16 = 0
  private var directory: TemporaryDirectory!

  override func setUpWithError() throws {
    directory = TemporaryDirectory()
    let app = try directory.write("app.lua", Self.app)
    broker = Process()
    broker.executableURL = URL(fileURLWithPath: productsDirectory() + "/ringbroker")
    let name = "rbluatest-\(getpid())"
    broker.arguments = [
      app, "--workers", "1", "--listen", "127.0.0.1:0", "--name", name, "--control",
      NSTemporaryDirectory() + name + ".sock",
    ]
    let pipe = Pipe()
    broker.standardError = pipe
    broker.standardOutput = pipe
    try broker.run()
    // The ready line names the port: "ringbroker listening on 127.0.0.1:PORT (...)".
    var text = ""
    let deadline = Date().addingTimeInterval(60)
    while port == 0 && Date() < deadline {
      let data = pipe.fileHandleForReading.availableData
      if data.isEmpty { break }
      text += String(decoding: data, as: UTF8.self)
      if let line = text.split(separator: "\n").first(where: { $0.contains("listening on") }),
        let address = line.split(separator: " ").first(where: { $0.contains(":") }),
        let value = UInt16(address.split(separator: ":").last ?? "")
      {
        port = value
      }
    }
    XCTAssertNotEqual(port, 0, text)
  }

  override func tearDown() {
    if broker.isRunning {
      kill(broker.processIdentifier, SIGTERM)
      broker.waitUntilExit()
    }
    XCTAssertEqual(broker.terminationStatus, 0)
  }

  /// Sends a request with `body` (Content-Length, or chunked) and returns the reply's body.
  private func post(_ path: String, body: [UInt8], chunked: Bool) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    XCTAssertEqual(connected, 0)
    func send(_ bytes: [UInt8]) {
      var offset = 0
      while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes {
          Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
        }
        guard n > 0 else { return XCTFail("send failed: errno \(errno)") }
        offset += n
      }
    }
    let framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: \(body.count)"
    send(Array("POST \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\(framing)\r\n\r\n".utf8))
    if chunked {
      var offset = 0
      while offset < body.count {
        let end = min(offset + 123_457, body.count)
        send(Array("\(String(end - offset, radix: 16))\r\n".utf8) + body[offset..<end] + [13, 10])
        offset = end
      }
      send(Array("0\r\n\r\n".utf8))
    } else {
      send(body)
    }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = recv(fd, &buffer, buffer.count, 0)
      if n <= 0 { break }
      reply += buffer[0..<n]
    }
    let text = String(decoding: reply, as: UTF8.self)
    XCTAssertTrue(text.hasPrefix("HTTP/1.1 200"), text)
    return text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
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
