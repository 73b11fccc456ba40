import Foundation
import TestSupport
import XCTest

/// The control socket where workers started by hand attach: who may attach, where the socket
/// may live, and that no broker can lose it to another or leave it behind.
final class ControlSocketTests: XCTestCase {
  private let setpriv = "/usr/bin/setpriv"
  private let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]

  private func socketPath(_ tag: String) -> String {
    NSTemporaryDirectory() + "rb-control-\(tag)-\(getpid()).sock"
  }

  private func requireRootAndSetpriv() throws {
    guard getuid() == 0 else { throw XCTSkip("needs root to run a process as another user") }
    guard FileManager.default.isExecutableFile(atPath: setpriv) else {
      throw XCTSkip("setpriv (util-linux) is not installed")
    }
  }

  /// The C hello worker attaching through `endpoint`, optionally as user nobody.
  private func attachWorker(_ endpoint: String, asNobody: Bool = false) throws -> (
    Process, Pipe
  ) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: asNobody ? setpriv : Products.cWorker)
    process.arguments = asNobody ? nobody + [Products.cWorker] : []
    process.environment = ["RINGWORKER_ENDPOINT": endpoint]
    let pipe = Pipe()
    process.standardError = pipe
    try process.run()
    return (process, pipe)
  }

  func testLiveBrokersSocketIsNeverTakenOver() throws {
    let path = socketPath("live")
    let first = try BrokerProcess(["--workers", "0", "--control", path])
    defer { _ = first.stop() }
    let second = try BrokerProcess.runToExit(["--workers", "0", "--control", path])
    XCTAssertEqual(second.status, 1)
    XCTAssertTrue(
      second.stderr.contains("control socket \(path) is in use by a running broker"),
      second.stderr)
    // The first broker still owns it: a worker attaching there serves its clients.
    let (worker, _) = try attachWorker(path)
    defer { worker.terminate() }
    XCTAssertTrue(waitUntil { (try? get(first.port, "/"))?.bodyText == "hello world\n" })
  }

  func testSocketIsRemovedOnExitAndAStaleOneIsReplaced() throws {
    let path = socketPath("exit")
    defer { unlink(path) }
    let stopped = try BrokerProcess(["--workers", "0", "--control", path])
    XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    XCTAssertEqual(stopped.stop(), 0)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path), "SIGTERM left the socket")

    let killed = try BrokerProcess(["--workers", "0", "--control", path])
    kill(killed.pid, SIGKILL)
    XCTAssertNotNil(killed.waitForExit(timeout: 10))
    XCTAssertTrue(FileManager.default.fileExists(atPath: path), "a killed broker leaves it")
    let successor = try BrokerProcess(["--workers", "0", "--control", path])
    defer { _ = successor.stop() }
    let (worker, _) = try attachWorker(path)
    defer { worker.terminate() }
    XCTAssertTrue(waitUntil { (try? get(successor.port, "/"))?.status == 200 })
  }

  /// A regular file, a directory, a symlink to a regular file: none is a socket, and none is
  /// replaced, followed or changed.
  func testAPathThatIsNoSocketIsLeftAlone() throws {
    let path = socketPath("file")
    let target = socketPath("target")
    defer {
      unlink(path)
      unlink(target)
    }
    func assertRefusedAndKept(_ what: String, _ stillThere: () throws -> Bool) throws {
      let result = try BrokerProcess.runToExit(["--workers", "0", "--control", path])
      XCTAssertEqual(result.status, 1, what)
      XCTAssertTrue(
        result.stderr.contains("control socket path \(path) exists and is not a socket"),
        "\(what): \(result.stderr)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(what): \(result.stderr)")
      XCTAssertTrue(try stillThere(), "\(what) was changed")
    }

    FileManager.default.createFile(atPath: path, contents: Data("keep me".utf8))
    try assertRefusedAndKept("a regular file") {
      try String(contentsOfFile: path, encoding: .utf8) == "keep me"
    }
    unlink(path)

    XCTAssertEqual(mkdir(path, 0o700), 0)
    FileManager.default.createFile(atPath: path + "/inside", contents: Data("kept".utf8))
    try assertRefusedAndKept("a directory") {
      try String(contentsOfFile: path + "/inside", encoding: .utf8) == "kept"
    }
    try FileManager.default.removeItem(atPath: path)

    FileManager.default.createFile(atPath: target, contents: Data("target".utf8))
    XCTAssertEqual(symlink(target, path), 0)
    try assertRefusedAndKept("a symlink to a regular file") {
      var info = stat()
      let kept = try String(contentsOfFile: target, encoding: .utf8) == "target"
      return kept && lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }
  }

  /// SIGHUP replaces the workers the broker started; a worker attached by hand is someone
  /// else's to restart (with --workers 0 the broker's own command is `false`: replacing the
  /// attached worker used to retry that every second, forever).
  func testReloadLeavesAttachedWorkersAlone() throws {
    let path = socketPath("reload")
    let broker = try BrokerProcess(["--workers", "0", "--control", path])
    defer { _ = broker.stop() }
    let (worker, _) = try attachWorker(path)
    defer { worker.terminate() }
    XCTAssertTrue(waitUntil { (try? get(broker.port, "/"))?.bodyText == "hello world\n" })
    kill(broker.pid, SIGHUP)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("reload: replacing 0 worker(s)") },
      broker.stderr)
    // Something must not happen: give a wrongly started successor time to fail.
    usleep(1_500_000)
    XCTAssertFalse(broker.stderr.contains("before it was ready"), broker.stderr)
    XCTAssertTrue(worker.isRunning)
    XCTAssertEqual(try get(broker.port, "/").bodyText, "hello world\n")
  }

  /// A connection that never says anything holds the control thread only until its deadline.
  func testSilentControlConnectionDoesNotBlockAttaches() throws {
    let path = socketPath("silent")
    let broker = try BrokerProcess(["--workers", "0", "--control", path])
    defer { _ = broker.stop() }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      path.utf8.enumerated().forEach { raw[$0.offset] = $0.element }
    }
    let silent = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(silent) }
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(silent, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    XCTAssertEqual(connected, 0)
    let (worker, _) = try attachWorker(path)
    defer { worker.terminate() }
    XCTAssertTrue(
      waitUntil(timeout: 10) { (try? get(broker.port, "/"))?.bodyText == "hello world\n" },
      "an attach waited behind a silent control connection")
  }

  /// With the file mode opened up, only the peer-uid check stands between another user and
  /// the broker's channels: it must refuse them.
  func testAttachFromAnotherUserIsRefusedByThePeerUidCheck() throws {
    try requireRootAndSetpriv()
    let path = socketPath("uid")
    let broker = try BrokerProcess(["--workers", "0", "--control", path])
    defer { _ = broker.stop() }
    XCTAssertEqual(chmod(path, 0o666), 0)
    let (worker, pipe) = try attachWorker(path, asNobody: true)
    let status = try worker.waitForExit(timeout: 30, "worker attaching as nobody")
    let message = String(
      decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertNotEqual(status, 0)
    XCTAssertTrue(message.contains("refused: uid 65534 is not the broker's user"), message)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("control: refused an attach from pid") },
      broker.stderr)
    XCTAssertTrue(
      waitUntil(timeout: 10) { broker.stderr.contains("uid 65534") }, broker.stderr)
    XCTAssertEqual(try get(broker.port, "/").status, 503, "no worker may have attached")
  }

  /// An XDG_RUNTIME_DIR that does not exist (left over after su, say) is passed over for the
  /// next default directory instead of stopping the broker.
  func testMissingRuntimeDirectoryFallsBackToTheNextDefault() throws {
    let name = "rbtest-fallback-\(getpid())"
    let expected =
      (getuid() == 0 ? "/run/ringbroker" : "/tmp/ringbroker-\(getuid())") + "/\(name).sock"
    let broker = try BrokerProcess(
      ["--workers", "0", "--name", name],
      wrapper: ["/usr/bin/env", "XDG_RUNTIME_DIR=/nonexistent-\(getpid())/run"],
      ownControlSocket: false)
    XCTAssertTrue(FileManager.default.fileExists(atPath: expected), broker.stderr)
    XCTAssertEqual(broker.stop(), 0)
    XCTAssertFalse(FileManager.default.fileExists(atPath: expected))
  }

  /// Without XDG_RUNTIME_DIR a user's broker uses /tmp/ringbroker-UID: one another user made
  /// (world-writable, theirs) is refused, one of its own with mode 0700 is used.
  func testDefaultDirectoryOfAnotherUserIsRefused() throws {
    try requireRootAndSetpriv()
    let directory = "/tmp/ringbroker-65534"
    try? FileManager.default.removeItem(atPath: directory)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    XCTAssertEqual(mkdir(directory, 0o777), 0)
    XCTAssertEqual(chmod(directory, 0o777), 0)  // mkdir obeys the umask
    let asNobody = ["/usr/bin/env", "-u", "XDG_RUNTIME_DIR", setpriv] + nobody
    let refused = try BrokerProcess.runToExit(
      ["--workers", "0"], wrapper: asNobody, ownControlSocket: false)
    XCTAssertEqual(refused.status, 1)
    XCTAssertTrue(
      refused.stderr.contains(
        "control socket directory \(directory) belongs to uid 0, not to this user (uid 65534)"),
      refused.stderr)

    XCTAssertEqual(chown(directory, 65534, 65534), 0)
    let writable = try BrokerProcess.runToExit(
      ["--workers", "0"], wrapper: asNobody, ownControlSocket: false)
    XCTAssertEqual(writable.status, 1)
    XCTAssertTrue(writable.stderr.contains("is writable by other users"), writable.stderr)

    XCTAssertEqual(chmod(directory, 0o700), 0)
    let broker = try BrokerProcess(
      ["--workers", "0", "--name", "rbtest-dir-\(getpid())"], wrapper: asNobody,
      ownControlSocket: false)
    XCTAssertTrue(
      FileManager.default.fileExists(atPath: "\(directory)/rbtest-dir-\(getpid()).sock"))
    XCTAssertEqual(broker.stop(), 0)
  }
}
