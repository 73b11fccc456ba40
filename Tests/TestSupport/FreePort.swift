import Glibc

/// Ports for tests that need a fixed one (most tests let the broker pick with port 0 and read
/// the port from its ready line, which cannot race with other processes).
public enum FreePort {
  /// A port nobody listens on right now on 127.0.0.1.
  public static func find() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestError("socket failed") }
    defer { close(fd) }
    var address = LoopbackAddress.make(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard bound else { throw TestError("bind to port 0 failed: errno \(errno)") }
    return UInt16(bigEndian: address.sin_port)
  }

  /// Occupies a port the way another program would (listening, no SO_REUSEPORT); close the
  /// returned fd to free it.
  public static func occupy(_ port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestError("socket failed") }
    var address = LoopbackAddress.make(port: port)
    let ok = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
    guard ok, listen(fd, 16) == 0 else {
      close(fd)
      throw TestError("cannot occupy port \(port): errno \(errno)")
    }
    return fd
  }
}

public enum LoopbackAddress {
  public static func make(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
  }
}
