import CRingABI
import Foundation
import Glibc
import RingChannel
import TestSupport
import XCTest

/// A worker whose library speaks another ABI version than the broker's segment refuses the
/// channel with one line naming both versions, and never serves it.
final class VersionRefusalTests: XCTestCase {

  /// A real segment whose version word says 1, as a version 1 broker's would: the C worker
  /// (libringworker, this ABI's version) prints exactly one line and exits 1.
  func testWorkerRefusesASegmentOfAnotherVersionInOneLine() throws {
    let segment = try ChannelSegment.create(name: "version-test", parameters: .standard)
    segment.header.pointee.abi_version = 1
    segment.header.pointee.state = UInt32(RB_STATE_RUNNING)
    let log = "/tmp/ringbroker-version-test-\(getpid()).log"
    let logFd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    XCTAssertGreaterThanOrEqual(logFd, 0)
    defer { unlink(log) }
    let child = try ChildProcess.spawn(
      executable: Products.cWorker, arguments: [], environment: ["RINGWORKER_FD": "100"],
      inherit: [(segment.fd, 100), (logFd, 2)])
    close(logFd)
    let status = try child.wait(timeout: 20, "hello-worker on a version 1 segment")
    XCTAssertEqual(status & 0x7F, 0, "killed by signal \(status & 0x7F)")
    XCTAssertEqual((status >> 8) & 0xFF, 1, "exit status")
    XCTAssertEqual(
      try String(contentsOfFile: log, encoding: .utf8),
      "hello-worker: incompatible channel: the broker speaks ABI version 1, this worker library version \(RB_ABI_VERSION)\n"
    )
    XCTAssertEqual(segment.header.pointee.worker.pid, 0, "the worker never attached")
  }
}
