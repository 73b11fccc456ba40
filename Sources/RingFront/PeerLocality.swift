import CRingABI
import Glibc
import RingChannel

/// Whether a connection's client runs on this host. Such traffic never leaves the machine: the
/// kernel copies zero-copy pages when it delivers them to the local receiver, so SENDMSG_ZC
/// only adds page pinning and a notification per send (measured: half the throughput, see
/// FrontConfig.defaultZeroCopyThreshold).
enum PeerLocality {
  /// True when a listening socket is bound to a loopback address: then every client is local
  /// and accepted connections need no check.
  static func isLoopbackListener(_ fd: Int32) -> Bool {
    rb_endpoint(socket: fd, peer: false)?.isLoopback ?? false
  }

  /// True for loopback addresses and for a peer using one of our own addresses (a client
  /// connecting to this host's public IP also goes through the loopback device). Decided from
  /// the endpoints read at accept: no syscall.
  static func isLocal(remote: rb_endpoint, local: rb_endpoint) -> Bool {
    local.isLoopback || remote.isLoopback || local.hasSameAddress(as: remote)
  }
}
