// CURing too, not only Glibc: both modules carry <sys/socket.h>, and in whole-module builds the
// socket constants resolve to CURing's copy, which a file importing only Glibc cannot see.
import CRingABI
import CURing
import Glibc

/// A listen address resolved to a socket address.
struct ResolvedAddress {
  var storage = sockaddr_storage()
  var length: socklen_t = 0
  var family: Int32 = AF_INET

  /// Rewrites the port, so every thread's socket binds the port the first one got for port 0.
  mutating func setPort(_ port: UInt16) {
    let isIPv6 = family == AF_INET6
    withUnsafeMutableBytes(of: &storage) { raw in
      if isIPv6 {
        raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port =
          port.bigEndian
      } else {
        raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = port.bigEndian
      }
    }
  }
}

/// The listening sockets of a server: one per front thread, all bound to the same address with
/// SO_REUSEPORT, so the kernel spreads new connections over independent loops.
enum ListenSocket {
  static func resolve(_ address: ListenAddress) throws(FrontError) -> ResolvedAddress {
    var hints = addrinfo()
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    let host = address.host.isEmpty ? "0.0.0.0" : address.host
    let rc = getaddrinfo(host, String(address.port), &hints, &list)
    guard rc == 0, let first = list else {
      throw FrontError("cannot resolve \(address): \(String(cString: gai_strerror(rc)))")
    }
    defer { freeaddrinfo(list) }
    var resolved = ResolvedAddress()
    resolved.family = first.pointee.ai_family
    resolved.length = first.pointee.ai_addrlen
    withUnsafeMutableBytes(of: &resolved.storage) { raw in
      raw.baseAddress!.copyMemory(
        from: first.pointee.ai_addr, byteCount: Int(first.pointee.ai_addrlen))
    }
    return resolved
  }

  /// SO_REUSEPORT would let a second broker of the same user bind the port silently and steal
  /// half the connections. A socket without it cannot bind a port anyone listens on, so a
  /// throw-away bind tells "in use" apart before the real sockets share the port.
  static func ensureAvailable(_ resolved: ResolvedAddress, address: ListenAddress)
    throws(FrontError)
  {
    let fd = socket(resolved.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw FrontError.system("socket for \(address)", errno: errno) }
    defer { close(fd) }
    // SO_REUSEADDR only so that connections in TIME_WAIT from a previous run do not count.
    setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
    var copy = resolved
    let rc = withUnsafePointer(to: &copy.storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, resolved.length) }
    }
    if rc != 0 {
      let code = errno
      if code == EADDRINUSE { throw FrontError("address already in use: \(address)") }
      throw FrontError.system("cannot bind \(address)", errno: code)
    }
  }

  /// A unix stream socket listening at `path` (mode 0660: the owner and its group), replacing
  /// a stale socket there but never a live broker's socket nor a file that is not a socket.
  static func openUnix(_ path: String, backlog: Int32) throws(FrontError) -> Int32 {
    let fd = rb_unix_listen(path, 0o660)
    guard fd >= 0 else { throw unixError(path, -fd) }
    _ = listen(fd, backlog)
    return fd
  }

  /// Why a unix socket cannot be listened on at `path`, from rb_unix_listen's -errno.
  static func unixError(_ path: String, _ code: Int32) -> FrontError {
    switch code {
    case EADDRINUSE: FrontError("address already in use: unix:\(path)")
    case EEXIST: FrontError("unix:\(path) exists and is not a socket")
    default: FrontError.system("listen on unix:\(path)", errno: code)
    }
  }

  /// `address` resolved, once nobody is found listening on it (port 0 asks for a free port: not
  /// checked): what `FrontServer.start` does before it binds.
  static func resolveAvailable(_ address: ListenAddress) throws(FrontError) -> ResolvedAddress {
    let resolved = try resolve(address)
    if address.port != 0 { try ensureAvailable(resolved, address: address) }
    return resolved
  }

  /// A listening socket bound with SO_REUSEPORT; returns the descriptor.
  static func open(_ resolved: ResolvedAddress, address: ListenAddress, backlog: Int32)
    throws(FrontError) -> Int32
  {
    let fd = socket(resolved.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw FrontError.system("socket for \(address)", errno: errno) }
    setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
    setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1)
    var copy = resolved
    var rc = withUnsafePointer(to: &copy.storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, resolved.length) }
    }
    if rc == 0 { rc = listen(fd, backlog) }
    if rc != 0 {
      let code = errno
      close(fd)
      if code == EADDRINUSE { throw FrontError("address already in use: \(address)") }
      throw FrontError.system("cannot listen on \(address)", errno: code)
    }
    return fd
  }

  /// The port the kernel picked (the asked one unless it was 0).
  static func boundPort(_ fd: Int32) -> UInt16 {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let rc = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard rc == 0 else { return 0 }
    let isIPv6 = Int32(storage.ss_family) == AF_INET6
    return withUnsafeBytes(of: &storage) { raw in
      if isIPv6 {
        return UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
      }
      return UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
    }
  }

  /// The address family a socket is bound to (AF_INET, AF_INET6, AF_UNIX).
  static func family(_ fd: Int32) -> Int32 {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int32(storage.ss_family)
  }

  static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
    var v = value
    _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
  }
}

extension ListenAddress {
  /// Throws what `FrontServer.start` would stop at before binding: HOST does not resolve, or
  /// the port is taken (`ringbroker -t`). Binds nothing that outlives the call.
  public func checkAvailable() throws(FrontError) {
    if let unixPath {
      let found = rb_unix_check_path(unixPath)
      if found < 0 { throw ListenSocket.unixError(unixPath, -found) }
      return
    }
    _ = try ListenSocket.resolveAvailable(self)
  }
}
