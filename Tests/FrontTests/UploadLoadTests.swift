import Foundation
import TestSupport
import XCTest

/// Many unfinished uploads at once cost the broker bounded memory each (their bodies wait in
/// the kernel), and cannot keep other requests out: a worker reads one body at a time, and
/// uploads never hold every worker (the C worker reads sequentially, so a worker reading a
/// stalled upload serves nothing else until it ends or times out).
final class UploadLoadTests: XCTestCase {
  func test2000UnfinishedUploadsStayUnder200MBAndAGetIsServed() throws {
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    try XCTSkipIf(limit.rlim_cur < 2_200, "needs 2,200 file descriptors, has \(limit.rlim_cur)")
    let broker = try BrokerProcess([
      "--workers", "2", "--worker", Products.cWorker, "--max-connections", "3000",
      "--queue-timeout", "60", "--body-timeout", "60",
    ])
    defer { _ = broker.stop() }
    let part = Uploads.body(count: 64 * 1024)
    var uploads: [RawHTTPClient] = []
    for _ in 0..<2_000 {
      let client = try RawHTTPClient(port: broker.port, timeout: 30)
      try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n")
      try client.send(part)
      uploads.append(client)
    }
    // The broker accepted every connection (a socket each) and a worker reads an upload.
    XCTAssertTrue(
      waitUntil(timeout: 60) { openSockets(of: broker.pid) >= 2_000 },
      "the broker holds \(openSockets(of: broker.pid)) sockets")
    XCTAssertTrue(waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: 1))
    let resident = residentMemoryKiB(broker.pid)
    XCTAssertGreaterThan(resident, 0)
    XCTAssertLessThan(resident, 200 * 1024, "broker RSS \(resident) KiB with 2,000 open uploads")
    let start = Date()
    let response = try get(broker.port, "/")
    XCTAssertEqual(response.status, 200, broker.stderr)
    XCTAssertEqual(response.bodyText, "hello world\n")
    XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    XCTAssertLessThan(peakResidentMemoryKiB(broker.pid), 200 * 1024)
    uploads.removeAll()
  }

  /// Sockets among a process's open file descriptors.
  private func openSockets(of pid: Int32) -> Int {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
    return fds.filter {
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)"))?
        .hasPrefix("socket:") ?? false
    }.count
  }
}
