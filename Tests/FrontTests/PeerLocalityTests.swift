import CRingABI
import RingChannel
import XCTest

@testable import RingFront

/// Whether a client is on this host, decided from the endpoints read at accept.
final class PeerLocalityTests: XCTestCase {
  func testLoopbackAndOwnAddressesAreLocalOthersAreNot() {
    let loopback = rb_endpoint(ipv4: (127, 0, 0, 1), port: 8080)
    let server = rb_endpoint(ipv4: (10, 0, 0, 1), port: 8080)
    let client = rb_endpoint(ipv4: (192, 0, 2, 7), port: 40000)
    XCTAssertTrue(PeerLocality.isLocal(remote: loopback, local: loopback))
    XCTAssertFalse(PeerLocality.isLocal(remote: client, local: server))
    // A client on this host connecting to the host's own public address.
    XCTAssertTrue(
      PeerLocality.isLocal(remote: rb_endpoint(ipv4: (10, 0, 0, 1), port: 40000), local: server))
    var v6 = rb_endpoint()
    v6.family = UInt16(RB_FAMILY_IPV6)
    withUnsafeMutableBytes(of: &v6.address) { $0[15] = 1 }  // ::1
    XCTAssertTrue(v6.isLoopback)
    XCTAssertTrue(PeerLocality.isLocal(remote: v6, local: v6))
    withUnsafeMutableBytes(of: &v6.address) { $0[0] = 0x20 }  // 2000::1
    XCTAssertFalse(v6.isLoopback)
    XCTAssertFalse(PeerLocality.isLocal(remote: v6, local: server), "families differ")
  }
}
