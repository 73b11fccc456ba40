import CURing
import Glibc

/// Whether a connection's client runs on this host. Such traffic never leaves the machine: the
/// kernel copies zero-copy pages when it delivers them to the local receiver, so SENDMSG_ZC
/// only adds page pinning and a notification per send (measured: half the throughput, see
/// FrontConfig.defaultZeroCopyThreshold).
enum PeerLocality {
  /// True when a listening socket is bound to a loopback address: then every client is local
  /// and accepted connections need no check.
  static func isLoopbackListener(_ fd: Int32) -> Bool {
    guard let local = address(fd, peer: false) else { return false }
    return isLoopback(local)
  }

  /// True for loopback addresses and for a peer using one of our own addresses (a client
  /// connecting to this host's public IP also goes through the loopback device).
  static func isLocal(_ fd: Int32) -> Bool {
    guard let local = address(fd, peer: false), let peer = address(fd, peer: true) else {
      return false
    }
    return isLoopback(local) || isLoopback(peer) || local == peer
  }

  /// The IP address bytes of one side of the socket (v4-mapped IPv6 reduced to IPv4).
  private static func address(_ fd: Int32, peer: Bool) -> [UInt8]? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let rc = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
      }
    }
    guard rc == 0 else { return nil }
    let family = Int32(storage.ss_family)
    return withUnsafeBytes(of: &storage) { raw -> [UInt8]? in
      if family == AF_INET {
        return withUnsafeBytes(of: raw.load(as: sockaddr_in.self).sin_addr) { Array($0) }
      }
      if family == AF_INET6 {
        let bytes = withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) }
        let v4Mapped =
          bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        return v4Mapped ? Array(bytes[12..<16]) : bytes
      }
      return nil
    }
  }

  private static func isLoopback(_ address: [UInt8]) -> Bool {
    if address.count == 4 { return address[0] == 127 }
    return address == [UInt8](repeating: 0, count: 15) + [1]
  }
}
