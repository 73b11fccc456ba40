import Foundation
import Glibc
import TestSupport

/// Reads replies of any size as they arrive, without keeping their bodies: each piece goes to
/// a closure (e.g. a `BytePattern` check). Framing is the client's own parse: Content-Length,
/// chunked or until the connection closes.
final class StreamingHTTPClient {
  struct Head {
    var status: Int
    var headers: [(name: String, value: String)]

    func header(_ name: String) -> String? {
      headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
  }

  let connection: RawHTTPClient
  private var buffer = [UInt8](repeating: 0, count: 1 << 20)
  private var start = 0
  private var end = 0
  /// The server closed the connection (EOF or reset).
  private(set) var closed = false

  init(port: UInt16, timeout: Double = 30, receiveBufferSize: Int? = nil) throws {
    connection = try RawHTTPClient(
      port: port, timeout: timeout, receiveBufferSize: receiveBufferSize)
  }

  func send(_ text: String) throws { try connection.send(text) }

  /// Reads the status line and headers.
  func readHead() throws -> Head {
    var lines: [String] = []
    while true {
      let line = try readLine()
      if line.isEmpty { break }
      lines.append(line)
    }
    guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
      let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
    else { throw TestError("bad status line: \(lines.first ?? "")") }
    let headers = lines.dropFirst().map { line -> (String, String) in
      let colon = line.firstIndex(of: ":") ?? line.endIndex
      return (
        String(line[..<colon]),
        String(line[colon...].dropFirst()).trimmingCharacters(in: [" "])
      )
    }
    return Head(status: status, headers: headers)
  }

  /// Reads the body `head` announces and hands it over in pieces; returns its length. A body
  /// cut short (the server closed early) throws, after handing over what came.
  @discardableResult
  func readBody(
    of head: Head, forHEAD: Bool = false, _ consume: (UnsafeRawBufferPointer) -> Void = { _ in }
  ) throws -> Int {
    if forHEAD || head.status == 204 || head.status == 304 { return 0 }
    if let length = head.header("Content-Length").flatMap(Int.init) {
      try readExactly(length, consume)
      return length
    }
    if head.header("Transfer-Encoding")?.lowercased() == "chunked" {
      var total = 0
      while true {
        let sizeLine = try readLine()
        guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
          throw TestError("bad chunk-size line '\(sizeLine)'")
        }
        if size == 0 {
          guard try readLine().isEmpty else { throw TestError("trailer after the last chunk") }
          return total
        }
        try readExactly(size, consume)
        total += size
        guard try readLine().isEmpty else { throw TestError("chunk not followed by CRLF") }
      }
    }
    var total = 0
    while true {
      if start == end, !(try receive()) { return total }
      consumeBuffered(end - start, &total, consume)
    }
  }

  /// Reads until the server closes the connection, handing every byte that comes before the
  /// close (buffered ones first) to `consume`, and returns how many came; nil when the
  /// connection is still open after the receive timeout. Like `readBody`, it keeps nothing, so
  /// that it can wait out a reply of any size; a test checks what arrived through `consume`.
  func waitForClose(_ consume: (UnsafeRawBufferPointer) -> Void = { _ in }) -> Int? {
    var total = 0
    if start < end { consumeBuffered(end - start, &total, consume) }
    while !closed {
      guard (try? receive()) != nil else { return nil }
      if end > start { consumeBuffered(end - start, &total, consume) }
    }
    return total
  }

  // MARK: Private

  private func consumeBuffered(
    _ count: Int, _ total: inout Int, _ consume: (UnsafeRawBufferPointer) -> Void
  ) {
    buffer.withUnsafeBytes { consume(UnsafeRawBufferPointer(rebasing: $0[start..<start + count])) }
    start += count
    total += count
  }

  private func readExactly(_ length: Int, _ consume: (UnsafeRawBufferPointer) -> Void) throws {
    var remaining = length
    var taken = 0
    while remaining > 0 {
      if start == end {
        guard try receive() else {
          throw TestError("connection closed after \(taken) of \(length) body bytes")
        }
      }
      let count = min(remaining, end - start)
      consumeBuffered(count, &taken, consume)
      remaining -= count
    }
  }

  private func readLine() throws -> String {
    var line: [UInt8] = []
    while true {
      if start == end {
        guard try receive() else { throw TestError("connection closed inside a line") }
      }
      let byte = buffer[start]
      start += 1
      if byte == UInt8(ascii: "\n") {
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
      }
      line.append(byte)
      if line.count > 65536 { throw TestError("line too long") }
    }
  }

  /// Refills the empty buffer; false at EOF or reset.
  private func receive() throws -> Bool {
    start = 0
    end = 0
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
      if n > 0 {
        end = n
        return true
      }
      if n == 0 || errno == ECONNRESET {
        closed = true
        return false
      }
      if errno == EINTR { continue }
      throw TestError("recv failed: errno \(errno) (timeout?)")
    }
  }
}

/// The bytes c-hello's /bytes writes (byte i is (i + seed) % 251), checked piece by piece.
struct BytePattern {
  var seed = 0
  private(set) var offset = 0
  private(set) var firstMismatch: Int?

  mutating func check(_ bytes: UnsafeRawBufferPointer) {
    var phase = (offset + seed) % 251
    if firstMismatch == nil {
      for (i, byte) in bytes.enumerated() {
        if Int(byte) != phase {
          firstMismatch = offset + i
          break
        }
        phase += 1
        if phase == 251 { phase = 0 }
      }
    }
    offset += bytes.count
  }
}
