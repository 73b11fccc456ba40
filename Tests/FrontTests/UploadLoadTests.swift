import Foundation
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
      "--workers", "2", "--worker", WorkerModeTests.cWorker, "--max-connections", "3000",
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
    usleep(500_000)
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
}
