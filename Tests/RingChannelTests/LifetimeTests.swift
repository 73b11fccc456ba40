import Glibc
import RingChannel
import TestSupport
import XCTest

/// No shared memory outlives its processes: channels are memfds, never files.
final class LifetimeTests: XCTestCase {
  func testSigkillOfBothEndsLeavesNothingBehind() throws {
    let name = "ringbroker-lifetime-\(getpid())"
    let shmBefore = try FileManagerLite.list("/dev/shm")
    var pipeFds: [Int32] = [0, 0]
    XCTAssertEqual(pipe(&pipeFds), 0)
    let front = try ChildProcess.spawn(
      executable: childExecutable, arguments: ["front", name], inherit: [(pipeFds[1], 1)])
    close(pipeFds[1])
    let line = readLine(fd: pipeFds[0])
    close(pipeFds[0])
    let parts = line.split(separator: " ")
    XCTAssertEqual(parts.first, "ready", "front said: \(line)")
    let workerPid = try XCTUnwrap(Int32(parts.last ?? ""))
    XCTAssertTrue(mapsMention(pid: front.pid, name: name), "the front maps the memfd")
    XCTAssertTrue(waitUntil { mapsMention(pid: workerPid, name: name) }, "the worker maps it")
    XCTAssertEqual(
      try FileManagerLite.list("/dev/shm"), shmBefore, "nothing in /dev/shm while running")

    kill(workerPid, SIGKILL)
    front.signal(SIGKILL)
    try front.wait(timeout: 10, "ringchannel-child front")
    XCTAssertTrue(waitUntil { kill(workerPid, 0) != 0 })
    XCTAssertEqual(try FileManagerLite.list("/dev/shm"), shmBefore)
    XCTAssertFalse(anyProcessMaps(name: name), "no process still maps the channel")
  }

  /// One line from `fd`, or what came of it within 20 s (the front may never say anything).
  private func readLine(fd: Int32) -> String {
    var bytes: [UInt8] = []
    var byte: UInt8 = 0
    var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while poll(&waiting, 1, 20_000) == 1, read(fd, &byte, 1) == 1, byte != 10 {
      bytes.append(byte)
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private func mapsMention(pid: Int32, name: String) -> Bool {
    (try? String(contentsOfFileLite: "/proc/\(pid)/maps"))?.contains("memfd:\(name)") ?? false
  }

  private func anyProcessMaps(name: String) -> Bool {
    ((try? FileManagerLite.list("/proc")) ?? []).contains { entry in
      guard let pid = Int32(entry) else { return false }
      return mapsMention(pid: pid, name: name)
    }
  }
}

/// Just enough file access for these tests, without Foundation.
enum FileManagerLite {
  static func list(_ path: String) throws -> [String] {
    guard let directory = opendir(path) else { throw ChannelError.system("opendir", errno: errno) }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) {
        String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }
}

extension String {
  init(contentsOfFileLite path: String) throws {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw ChannelError.system("open", errno: errno) }
    defer { close(fd) }
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = read(fd, &buffer, buffer.count)
      if n <= 0 { break }
      data.append(contentsOf: buffer[0..<n])
    }
    self = String(decoding: data, as: UTF8.self)
  }
}
