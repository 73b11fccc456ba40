import Glibc
import TestSupport

/// Bodies for upload tests and the digest the C worker's /sum answers with.
enum Uploads {
  /// `count` bytes that no framing or off-by-one can reproduce by accident.
  static func body(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: state >> 56)
    }
  }

  /// What workers/c-hello's /sum answers for `body` (not streamed: "0", streamed: "1").
  static func sumLine(_ body: [UInt8], streamed: Bool) -> String {
    let hex = String(fnv1a64(body), radix: 16)
    return
      "\(body.count) \(String(repeating: "0", count: 16 - hex.count))\(hex) \(streamed ? 1 : 0)\n"
  }

  /// Sends `body` after a Content-Length head, in pieces (a real client's writes).
  static func sendContentLength(_ client: RawHTTPClient, path: String, body: [UInt8]) throws {
    try client.send("POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n")
    var offset = 0
    while offset < body.count {
      let end = min(offset + (1 << 20), body.count)
      try client.send(Array(body[offset..<end]))
      offset = end
    }
  }

  /// Sends `body` chunked, in chunks of `chunkSize` (plus one odd-sized chunk at the end).
  static func sendChunked(
    _ client: RawHTTPClient, path: String, body: [UInt8], chunkSize: Int = 100_000
  ) throws {
    try client.send("POST \(path) HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    var offset = 0
    while offset < body.count {
      let end = min(offset + chunkSize, body.count)
      try client.send(Array("\(String(end - offset, radix: 16))\r\n".utf8))
      try client.send(Array(body[offset..<end]) + Array("\r\n".utf8))
      offset = end
    }
    try client.send("0\r\n\r\n")
  }
}
