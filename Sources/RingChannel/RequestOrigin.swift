import CRingABI
import Glibc

/// Where a request came from and when, as the front writes it into the request head (ABI
/// version 2). The endpoints are the connection's, read once at accept; the front copies them
/// into every request of that connection.
public struct RequestOrigin {
  public var remote: rb_endpoint
  public var local: rb_endpoint
  /// RB_SCHEME_*.
  public var scheme: UInt32
  /// CLOCK_REALTIME nanoseconds when the front found the request head complete.
  public var receivedUnixNanoseconds: UInt64

  public init(
    remote: rb_endpoint, local: rb_endpoint, scheme: UInt32 = UInt32(RB_SCHEME_HTTP),
    receivedUnixNanoseconds: UInt64
  ) {
    self.remote = remote
    self.local = local
    self.scheme = scheme
    self.receivedUnixNanoseconds = receivedUnixNanoseconds
  }
}

/// The one home of the endpoint rules: how a socket address becomes an rb_endpoint, what a
/// valid one is, and its text form.
extension rb_endpoint {
  /// An IPv4 endpoint from its four address bytes (network order) and port.
  public init(ipv4 bytes: (UInt8, UInt8, UInt8, UInt8), port: UInt16) {
    self.init()
    family = UInt16(RB_FAMILY_IPV4)
    self.port = port
    withUnsafeMutableBytes(of: &address) {
      $0[10] = 0xFF
      $0[11] = 0xFF
      $0[12] = bytes.0
      $0[13] = bytes.1
      $0[14] = bytes.2
      $0[15] = bytes.3
    }
  }

  /// The endpoint of an IPv4 or IPv6 socket address; nil for any other family. An IPv4-mapped
  /// IPv6 address (an IPv4 client of a dual-stack socket) becomes an IPv4 endpoint. No
  /// allocation: the front calls it for every connection it accepts.
  public init?(socketAddress storage: sockaddr_storage) {
    self.init()
    var storage = storage
    switch Int32(storage.ss_family) {
    case AF_INET:
      let v4 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
      withUnsafeMutableBytes(of: &address) { out in
        out[10] = 0xFF
        out[11] = 0xFF
        withUnsafeBytes(of: v4.sin_addr) {
          UnsafeMutableRawBufferPointer(rebasing: out[12..<16]).copyBytes(from: $0)
        }
      }
      port = UInt16(bigEndian: v4.sin_port)
    case AF_INET6:
      let v6 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
      withUnsafeMutableBytes(of: &address) { out in
        withUnsafeBytes(of: v6.sin6_addr) { out.copyBytes(from: $0) }
      }
      port = UInt16(bigEndian: v6.sin6_port)
    default:
      return nil
    }
    family = UInt16(isMapped ? RB_FAMILY_IPV4 : RB_FAMILY_IPV6)
  }

  /// The endpoint of a textual IPv6 or IPv4 address ("2001:db8::1", "::ffff:10.0.0.1",
  /// "127.0.0.1") and a port; nil when the text is neither. IPv4-mapped becomes IPv4.
  public init?(parsing text: String, port: UInt16) {
    var storage = sockaddr_storage()
    let parsed = withUnsafeMutableBytes(of: &storage) { raw -> Bool in
      var v6 = sockaddr_in6()
      v6.sin6_family = sa_family_t(AF_INET6)
      v6.sin6_port = port.bigEndian
      var v4 = sockaddr_in()
      v4.sin_family = sa_family_t(AF_INET)
      v4.sin_port = port.bigEndian
      if inet_pton(AF_INET6, text, &v6.sin6_addr) == 1 {
        raw.storeBytes(of: v6, as: sockaddr_in6.self)
      } else if inet_pton(AF_INET, text, &v4.sin_addr) == 1 {
        raw.storeBytes(of: v4, as: sockaddr_in.self)
      } else {
        return false
      }
      return true
    }
    guard parsed else { return nil }
    self.init(socketAddress: storage)
  }

  /// The local (`peer` false) or remote end of a connected socket; nil when the call fails
  /// (e.g. the client reset the connection before it was looked at) or the socket is not IP.
  /// One syscall: the front calls it at accept, never per request.
  public init?(socket fd: Int32, peer: Bool) {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let rc = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
      }
    }
    guard rc == 0 else { return nil }
    self.init(socketAddress: storage)
  }

  /// The address is in IPv4-mapped form (::ffff:a.b.c.d).
  private var isMapped: Bool {
    withUnsafeBytes(of: address) { raw in
      (0..<10).allSatisfy { raw[$0] == 0 } && raw[10] == 0xFF && raw[11] == 0xFF
    }
  }

  /// The same family and address (ports aside).
  public func hasSameAddress(as other: rb_endpoint) -> Bool {
    guard family == other.family else { return false }
    return withUnsafeBytes(of: address) { a in
      withUnsafeBytes(of: other.address) { b in (0..<16).allSatisfy { a[$0] == b[$0] } }
    }
  }

  /// A known family, and an IPv4 address in its IPv4-mapped form: what the front writes. The
  /// worker library checks it before handing a request out (RequestHeadCheck).
  public var isValid: Bool {
    switch Int(family) {
    case Int(RB_FAMILY_IPV6): return true
    case Int(RB_FAMILY_IPV4): return isMapped
    default: return false
    }
  }

  /// 0.0.0.0 or ::, the address of a socket bound to every interface.
  public var isUnspecified: Bool {
    withUnsafeBytes(of: address) { raw in
      (0..<10).allSatisfy { raw[$0] == 0 }
        && (family == UInt16(RB_FAMILY_IPV4)
          ? raw[12..<16].allSatisfy { $0 == 0 } : raw[10..<16].allSatisfy { $0 == 0 })
    }
  }

  /// 127.0.0.0/8 or ::1.
  public var isLoopback: Bool {
    withUnsafeBytes(of: address) { raw in
      family == UInt16(RB_FAMILY_IPV4)
        ? raw[12] == 127 : (0..<15).allSatisfy { raw[$0] == 0 } && raw[15] == 1
    }
  }

  /// Longest text form: an IPv6 address with an embedded IPv4 one, plus the NUL.
  public static let maximumTextLength = Int(INET6_ADDRSTRLEN)

  /// Writes the text form ("127.0.0.1", "::1") into `buffer` (at least maximumTextLength
  /// bytes); returns its length, without the NUL that follows it. No allocation. 0 for an
  /// endpoint that is not valid: the worker may have rewritten its own slot.
  public func formatAddress(into buffer: UnsafeMutablePointer<CChar>) -> Int {
    guard isValid else {
      buffer[0] = 0
      return 0
    }
    var copy = address
    let written = withUnsafeBytes(of: &copy) { raw -> UnsafePointer<CChar>? in
      family == UInt16(RB_FAMILY_IPV4)
        ? inet_ntop(AF_INET, raw.baseAddress! + 12, buffer, socklen_t(Self.maximumTextLength))
        : inet_ntop(AF_INET6, raw.baseAddress!, buffer, socklen_t(Self.maximumTextLength))
    }
    return written == nil ? 0 : strlen(buffer)
  }

  /// The text form as a String (allocates; for logs and tests).
  public var addressText: String {
    var buffer = [CChar](repeating: 0, count: Self.maximumTextLength)
    let length = buffer.withUnsafeMutableBufferPointer { formatAddress(into: $0.baseAddress!) }
    return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
