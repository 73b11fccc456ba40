import Glibc

/// A blocking loopback HTTP/1.1 client that writes exactly the bytes a test gives it and parses
/// replies itself, so tests can send malformed, pipelined or half-finished requests.
public final class RawHTTPClient {
  public private(set) var fd: Int32
  private var pending: [UInt8] = []
  private var timeoutSeconds: Double

  /// `receiveBufferSize` sets SO_RCVBUF before connecting (which also turns off the kernel's
  /// autotuning): a small one makes replies back up in the server as soon as the client stops
  /// reading.
  public init(port: UInt16, timeout: Double = 30, receiveBufferSize: Int? = nil) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestError("socket failed: errno \(errno)") }
    timeoutSeconds = timeout
    if var size = receiveBufferSize.map(Int32.init) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = LoopbackAddress.make(port: port)
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard rc == 0 else {
      let code = errno
      close(fd)
      throw TestError("connect to 127.0.0.1:\(port) failed: errno \(code)")
    }
    setReceiveTimeout(timeout)
  }

  deinit { closeConnection() }

  /// Closes the socket now (the client vanishes).
  public func closeConnection() {
    if fd >= 0 { close(fd) }
    fd = -1
  }

  public func setReceiveTimeout(_ seconds: Double) {
    timeoutSeconds = seconds
    var tv = timeval(
      tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
  }

  public func send(_ text: String) throws { try send(Array(text.utf8)) }

  public func send(_ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes {
        Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw TestError("send failed: errno \(errno)")
      }
      offset += n
    }
  }

  /// Shuts down the sending side (the client is done sending).
  public func finishSending() { shutdown(fd, Int32(SHUT_WR)) }

  /// Reads one response. `forHEAD`: the reply carries no body whatever its Content-Length says.
  public func readResponse(forHEAD: Bool = false) throws -> HTTPResponse {
    let headEnd = try readUntilHeadEnd()
    let headText = String(decoding: pending[0..<headEnd], as: UTF8.self)
    pending.removeFirst(headEnd + 4)
    var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
    let statusLine = lines.removeFirst()
    let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count >= 2, let status = Int(parts[1]) else {
      throw TestError("bad status line: \(statusLine)")
    }
    var response = HTTPResponse(
      version: String(parts[0]), status: status, reason: parts.count > 2 ? String(parts[2]) : "",
      headers: [], body: [])
    for line in lines {
      guard let colon = line.firstIndex(of: ":") else {
        throw TestError("bad header line: \(line)")
      }
      response.headers.append(
        (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmedOfSpaces()))
    }
    let bodyless = forHEAD || status < 200 || status == 204 || status == 304
    if bodyless { return response }
    if let lengthText = response.header("Content-Length") {
      guard let length = Int(lengthText) else {
        throw TestError("bad Content-Length \(lengthText)")
      }
      try fill(length)
      response.body = Array(pending[0..<length])
      pending.removeFirst(length)
    } else {
      response.body = try readToEnd()
    }
    return response
  }

  /// Reads until the server closes the connection (EOF or reset) and returns every byte that
  /// came before the close and was not part of a response read (empty when the server just
  /// closed); nil when the connection is still open after the receive timeout. A test of a
  /// close asserts on what it returns, so that data arriving unexpectedly fails it.
  public func waitForClose() -> [UInt8]? {
    var received = pending
    pending.removeAll()
    var scratch = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = recv(fd, &scratch, scratch.count, 0)
      if n > 0 {
        received += scratch[0..<n]
        continue
      }
      if n == 0 { return received }
      if errno == EINTR { continue }
      return errno == ECONNRESET ? received : nil
    }
  }

  /// True when nothing arrives and the connection stays open for `seconds`.
  public func staysSilent(for seconds: Double) -> Bool {
    let saved = timeoutSeconds
    defer { setReceiveTimeout(saved) }
    setReceiveTimeout(seconds)
    var byte: UInt8 = 0
    let n = recv(fd, &byte, 1, Int32(MSG_PEEK))
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
  }

  /// Bytes received but not consumed by a response (e.g. after a 100 Continue).
  public var bufferedBytes: Int { pending.count }

  private func readUntilHeadEnd() throws -> Int {
    var searchFrom = 0
    while true {
      if pending.count >= 4 {
        for i in searchFrom...(pending.count - 4)
        where pending[i] == 13 && pending[i + 1] == 10 && pending[i + 2] == 13
          && pending[i + 3] == 10
        {
          return i
        }
        searchFrom = pending.count - 3
      }
      guard try receiveMore() else {
        throw TestError("connection closed before a complete response head")
      }
    }
  }

  private func fill(_ count: Int) throws {
    while pending.count < count {
      guard try receiveMore() else { throw TestError("connection closed inside a response body") }
    }
  }

  private func readToEnd() throws -> [UInt8] {
    while try receiveMore() {}
    defer { pending.removeAll() }
    return pending
  }

  /// False on EOF; throws on timeout or error.
  private func receiveMore() throws -> Bool {
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = recv(fd, &chunk, chunk.count, 0)
      if n > 0 {
        pending.append(contentsOf: chunk[0..<n])
        return true
      }
      if n == 0 { return false }
      if errno == EINTR { continue }
      if errno == ECONNRESET { return false }
      if errno == EAGAIN || errno == EWOULDBLOCK {
        throw TestError("no reply within \(timeoutSeconds) s")
      }
      throw TestError("recv failed: errno \(errno)")
    }
  }
}

extension RawHTTPClient {
  /// One GET on this connection (with these header lines), and its response.
  public func get(_ path: String, headers: [String] = []) throws -> HTTPResponse {
    try send(Requests.get(path, headers: headers))
    return try readResponse()
  }
}

extension String {
  fileprivate func trimmedOfSpaces() -> String {
    var s = Substring(self)
    while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
    while let c = s.last, c == " " || c == "\t" { s.removeLast() }
    return String(s)
  }
}
