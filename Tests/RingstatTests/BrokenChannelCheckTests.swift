import Foundation
import TestSupport
import XCTest

/// `ringstat --check` fails while any channel is broken. A broken channel lives only until the
/// broker has killed its worker, too briefly to catch, so the broker here is a stand-in
/// (`ringchannel-child broken-broker`): an info block and one channel the front marked broken.
final class BrokenChannelCheckTests: XCTestCase {
  func testCheckFailsWhileAChannelIsBroken() throws {
    let name = "broken-check-\(getpid())"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Products.path("ringchannel-child"))
    process.arguments = ["broken-broker", name]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    defer {
      process.terminate()
      XCTAssertNoThrow(try process.waitForExit(timeout: 10, "broken-broker"))
    }
    let pid = process.processIdentifier
    // Ready once both memfds are open.
    var links: [String] = []
    let ready = waitUntil(timeout: 20) {
      let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
      links = fds.compactMap {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")
      }
      return links.contains(where: { $0.contains("ringbroker-info") })
        && links.contains(where: { $0.contains("ringbroker-w0") })
    }
    XCTAssertTrue(ready, "\(links)")
    let table = try Ringstat.run([String(pid)])
    XCTAssertTrue(table.stdout.contains(" broken "), table.stdout + table.stderr)
    let check = try Ringstat.run(["--check", String(pid)])
    XCTAssertEqual(check.status, 1, check.stdout)
    XCTAssertEqual(check.stdout.split(separator: "\n").count, 1, check.stdout)
    XCTAssertTrue(check.stdout.hasPrefix("broken: ring ringbroker-w0 "), check.stdout)
  }
}
