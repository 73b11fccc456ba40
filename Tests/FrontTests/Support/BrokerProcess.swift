import Foundation
import XCTest

/// A `ringbroker` child process for a test: started with the given arguments, considered ready
/// once it printed its "listening on HOST:PORT" line (whose port the tests then use), stopped with
/// a signal or killed when the test is done with it.
final class BrokerProcess {
  let process = Process()
  private(set) var port: UInt16 = 0
  /// The control socket made up for this broker (nil when the test named one: then it is the
  /// test's to remove).
  let controlPath: String?
  private let output = CapturedOutput()
  private static let serial = Counter()

  /// Starts `ringbroker` (or another product of this package) and waits until it is ready.
  /// Without a `--listen` argument it listens on 127.0.0.1:0 and the kernel picks the port.
  /// Without `--name` and `--control` it gets a name and a control socket of its own, so that
  /// it never meets another broker on this machine (the default socket is shared by every
  /// broker of a name); the socket is removed when the test drops the broker. `wrapper` runs
  /// the broker through another program (e.g. `prlimit --nofile=1024:1024`).
  init(
    _ arguments: [String], executable: String = "ringbroker", readyTimeout: Double = 60,
    wrapper: [String] = [], ownControlSocket: Bool = true
  ) throws {
    var arguments = arguments
    if !arguments.contains(where: { $0 == "--listen" || $0.hasPrefix("--listen=") }) {
      arguments += ["--listen", "127.0.0.1:0"]
    }
    (arguments, controlPath) = Self.isolated(
      arguments, executable: executable, ownControlSocket: ownControlSocket)
    try Self.prepare(process, executable: executable, arguments: arguments, wrapper: wrapper)
    output.attach(to: process)
    try process.run()
    output.startReading()
    guard
      let line = output.waitForLine(
        containing: "listening on", timeout: readyTimeout, while: { self.process.isRunning })
    else {
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
      throw TestError(
        "\(executable) \(arguments.joined(separator: " ")) did not become ready:\n\(output.text)")
    }
    guard
      let portText = line.split(separator: " ").first(where: { $0.contains(":") })?.split(
        separator: ":"
      ).last,
      let port = UInt16(portText)
    else { throw TestError("no port in ready line: \(line)") }
    self.port = port
  }

  deinit {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    // A broker that was killed cannot remove its socket; nothing of a test stays behind.
    if let controlPath { unlink(controlPath) }
  }

  var pid: Int32 { process.processIdentifier }

  /// Everything the broker wrote to stderr so far.
  var stderr: String { output.text }

  /// Sends `signal` and waits for the exit status (nil on timeout).
  func stop(signal: Int32 = SIGTERM, timeout: Double = 30) -> Int32? {
    kill(process.processIdentifier, signal)
    return waitForExit(timeout: timeout)
  }

  /// The exit status (128 + signal when killed by one), or nil if still running after `timeout`.
  func waitForExit(timeout: Double) -> Int32? {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    guard !process.isRunning else { return nil }
    return process.terminationReason == .exit
      ? process.terminationStatus : 128 + process.terminationStatus
  }

  /// Sets `process` up to run the product `executable` with `arguments`, through `wrapper`'s
  /// program (which gets the product's path and the arguments after its own) when given.
  private static func prepare(
    _ process: Process, executable: String, arguments: [String], wrapper: [String]
  ) throws {
    let product = try productURL(executable)
    guard let launcher = wrapper.first else {
      process.executableURL = product
      process.arguments = arguments
      return
    }
    process.executableURL = URL(fileURLWithPath: launcher)
    process.arguments = Array(wrapper.dropFirst()) + [product.path] + arguments
  }

  /// `arguments` plus a `--name` and a `--control` path of this broker's own, where the test
  /// gave none (no `--control` without `ownControlSocket`: tests of the default path); and the
  /// control path made up, to remove afterwards.
  private static func isolated(
    _ arguments: [String], executable: String, ownControlSocket: Bool = true
  ) -> (arguments: [String], controlPath: String?) {
    var arguments = arguments
    let unique = "rbtest-\(getpid())-\(serial.increment())"
    let isBroker = executable == "ringbroker"
    if isBroker && !arguments.contains("--name") { arguments += ["--name", unique] }
    guard isBroker, ownControlSocket, !arguments.contains("--control") else {
      return (arguments, nil)
    }
    let path = NSTemporaryDirectory() + unique + ".sock"
    return (arguments + ["--control", path], path)
  }

  /// Runs a product that is expected to exit by itself (bad flags, port in use), isolated like
  /// a broker started with `init`.
  static func runToExit(
    _ arguments: [String], executable: String = "ringbroker", timeout: Double = 60,
    wrapper: [String] = [], ownControlSocket: Bool = true
  ) throws -> (
    status: Int32, stderr: String
  ) {
    let (arguments, controlPath) = isolated(
      arguments, executable: executable, ownControlSocket: ownControlSocket)
    defer { controlPath.map { _ = unlink($0) } }
    let process = Process()
    try prepare(process, executable: executable, arguments: arguments, wrapper: wrapper)
    let output = CapturedOutput()
    output.attach(to: process)
    try process.run()
    output.startReading()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      throw TestError("\(executable) \(arguments) did not exit within \(timeout) s")
    }
    output.waitForEnd(timeout: 10)
    return (process.terminationStatus, output.text)
  }

  /// A product of this package, found next to the test bundle in the build products directory
  /// (tests assume `swift build` ran), or at $RINGBROKER_BIN_DIR.
  static func productURL(_ name: String) throws -> URL {
    var directories: [URL] = []
    if let dir = ProcessInfo.processInfo.environment["RINGBROKER_BIN_DIR"] {
      directories.append(URL(fileURLWithPath: dir))
    }
    for bundle in Bundle.allBundles {
      directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    for directory in directories {
      let candidate = directory.appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw TestError("\(name) not found in \(directories.map(\.path)); run swift build first")
  }
}

/// Collects a child's stderr on a reader thread, so the pipe never fills and tests can wait for
/// a line.
final class CapturedOutput {
  private let pipe = Pipe()
  private let condition = NSCondition()
  private var collected = ""
  private var ended = false

  func attach(to process: Process) {
    process.standardError = pipe
    process.standardOutput = FileHandle.nullDevice
  }

  func startReading() {
    let handle = pipe.fileHandleForReading
    let thread = Thread { [self] in
      while true {
        let data = handle.availableData
        condition.lock()
        if data.isEmpty {
          ended = true
        } else {
          collected += String(decoding: data, as: UTF8.self)
        }
        condition.broadcast()
        condition.unlock()
        if data.isEmpty { return }
      }
    }
    thread.start()
  }

  var text: String {
    condition.lock()
    defer { condition.unlock() }
    return collected
  }

  func waitForLine(containing needle: String, timeout: Double, while alive: () -> Bool) -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    condition.lock()
    defer { condition.unlock() }
    while true {
      if let line = collected.split(separator: "\n").first(where: { $0.contains(needle) }) {
        return String(line)
      }
      if ended || Date() >= deadline || !alive() { return nil }
      _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.1)))
    }
  }

  func waitForEnd(timeout: Double) {
    let deadline = Date().addingTimeInterval(timeout)
    condition.lock()
    while !ended && Date() < deadline { _ = condition.wait(until: deadline) }
    condition.unlock()
  }
}
