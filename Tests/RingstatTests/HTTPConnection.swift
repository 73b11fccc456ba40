import Glibc

/// A blocking keep-alive HTTP/1.1 connection over a raw loopback socket: enough to send GETs
/// and read replies framed by Content-Length (the broker always frames worker replies).
final class HTTPConnection {
  private var fd: Int32
  private var buffer: [UInt8] = []

  init(port: UInt16, timeoutSeconds: Int = 30) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestError("socket: errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard rc == 0 else {
      close(fd)
      throw TestError("connect to port \(port): errno \(errno)")
    }
    var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
  }

  deinit { close(fd) }

  func sendGet(_ path: String) throws {
    let bytes = Array("GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes {
        send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      guard n > 0 else { throw TestError("send: errno \(errno)") }
      offset += n
    }
  }

  /// Reads one reply; returns its status and body.
  func readReply() throws -> (status: Int, body: String) {
    while true {
      if let end = headEnd() {
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let first = lines.first, let status = Int(first.split(separator: " ")[1]) else {
          throw TestError("bad reply head: \(head)")
        }
        let lengthLine = lines.first { $0.lowercased().hasPrefix("content-length:") }
        let length =
          lengthLine.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: " ")) } ?? 0
        while buffer.count < end + 4 + length { try receive() }
        let body = String(decoding: buffer[(end + 4)..<(end + 4 + length)], as: UTF8.self)
        buffer.removeFirst(end + 4 + length)
        return (status, body)
      }
      try receive()
    }
  }

  private func headEnd() -> Int? {
    guard buffer.count >= 4 else { return nil }
    for i in 0...(buffer.count - 4)
    where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
      return i
    }
    return nil
  }

  private func receive() throws {
    var chunk = [UInt8](repeating: 0, count: 16384)
    let n = recv(fd, &chunk, chunk.count, 0)
    guard n > 0 else { throw TestError(n == 0 ? "connection closed" : "recv: errno \(errno)") }
    buffer.append(contentsOf: chunk[..<n])
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in set: Character) -> String {
    String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
  }
}
