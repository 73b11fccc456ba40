import Foundation
import Glibc

/// One `GET path` over a unix stream socket with `Connection: close`: the raw response text,
/// read until the server closes (for listeners like `--admin unix:PATH`).
public func unixSocketGet(_ socketPath: String, _ path: String, timeout: Double = 10) throws
  -> String
{
  let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { throw TestError("socket(AF_UNIX) failed") }
  defer { close(fd) }
  var address = sockaddr_un()
  address.sun_family = sa_family_t(AF_UNIX)
  let bytes = Array(socketPath.utf8)
  guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
    throw TestError("socket path too long: \(socketPath)")
  }
  withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
  let connected = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
    }
  }
  guard connected == 0 else { throw TestError("connect \(socketPath): errno \(errno)") }
  var limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
  let request = Array("GET \(path) HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n".utf8)
  guard write(fd, request, request.count) == request.count else { throw TestError("write failed") }
  var response: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let count = read(fd, &buffer, buffer.count)
    guard count > 0 else { break }
    response += buffer[0..<count]
  }
  return String(decoding: response, as: UTF8.self)
}
