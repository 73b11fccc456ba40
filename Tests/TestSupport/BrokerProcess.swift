import Foundation

/// A `ringbroker` child process for a test: started with the given arguments, considered ready
/// once it printed its "listening on HOST:PORT" line (whose port the tests then use), stopped with
/// a signal or killed when the test is done with it.
public final class BrokerProcess {
  public let process = Process()
  public private(set) var port: UInt16 = 0
  /// The admin endpoint's port, when the broker was started with --admin (its ready line says
  /// "admin on HOST:PORT").
  public private(set) var adminPort: UInt16?
  /// The broker's `--name` (made up for it unless the test gave one; "" for other products).
  public let name: String
  /// The control socket made up for this broker (nil when the test named one: then it is the
  /// test's to remove).
  public let controlPath: String?
  private let output = CapturedOutput()
  /// The broker's stdout, when the test asked for it (else it goes to /dev/null).
  private let standardOutput: CapturedOutput?
  private static let serial = Counter()

  /// Starts `ringbroker` (or another product of this package) and waits until it is ready.
  /// Without a `--listen` argument it listens on 127.0.0.1:0 and the kernel picks the port.
  /// Without `--name` and `--control` it gets a name and a control socket of its own, so that
  /// it never meets another broker on this machine (the default socket is shared by every
  /// broker of a name); the socket is removed when the test drops the broker. `wrapper` runs
  /// the broker through another program (e.g. `prlimit --nofile=1024:1024`).
  /// `capturesStandardOutput` keeps what it writes to stdout for `stdout`.
  public init(
    _ arguments: [String], executable: String = "ringbroker", readyTimeout: Double = 60,
    wrapper: [String] = [], ownControlSocket: Bool = true, capturesStandardOutput: Bool = false
  ) throws {
    var arguments = arguments
    if !arguments.contains(where: { $0 == "--listen" || $0.hasPrefix("--listen=") }) {
      arguments += ["--listen", "127.0.0.1:0"]
    }
    (arguments, controlPath) = Self.isolated(
      arguments, executable: executable, ownControlSocket: ownControlSocket)
    name = arguments.firstIndex(of: "--name").map { arguments[$0 + 1] } ?? ""
    try Self.prepare(process, executable: executable, arguments: arguments, wrapper: wrapper)
    standardOutput = capturesStandardOutput ? CapturedOutput() : nil
    output.attach(to: process)
    standardOutput?.attachAsStandardOutput(of: process)
    try process.run()
    output.startReading()
    standardOutput?.startReading()
    guard
      let line = output.waitForLine(
        containing: "listening on", timeout: readyTimeout, while: { self.process.isRunning })
    else {
      _ = try? process.waitForExit(timeout: process.isRunning ? 0 : 10, executable)
      throw TestError(
        "\(executable) \(arguments.joined(separator: " ")) did not become ready:\n\(output.text)")
    }
    // "… listening on HOST:PORT (…)": the port ends the word after "listening on".
    let address = line.components(separatedBy: "listening on ").last?.split(separator: " ").first
    guard let portText = address?.split(separator: ":").last, let port = UInt16(portText)
    else { throw TestError("no port in ready line: \(line)") }
    self.port = port
    adminPort = Self.port(after: "admin on ", in: line)
  }

  /// The port ending the word after `marker` in `line`, if any.
  private static func port(after marker: String, in line: String) -> UInt16? {
    guard line.contains(marker),
      let word = line.components(separatedBy: marker).last?.split(separator: " ").first,
      let text = word.split(separator: ":").last
    else { return nil }
    return UInt16(text.trimmingCharacters(in: CharacterSet(charactersIn: ",;)")))
  }

  deinit {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      _ = try? process.waitForExit(timeout: 10, "killed broker")
    }
    // A broker that was killed cannot remove its socket; nothing of a test stays behind.
    if let controlPath { unlink(controlPath) }
  }

  public var pid: Int32 { process.processIdentifier }

  /// Everything the broker wrote to stderr so far.
  public var stderr: String { output.text }

  /// Everything the broker wrote to stdout so far (with `capturesStandardOutput`, else "").
  public var stdout: String { standardOutput?.text ?? "" }

  /// Waits until the broker's stderr has a line containing `needle`; that line, or nil when
  /// none came within `timeout` seconds.
  public func waitForLogLine(containing needle: String, timeout: Double = 20) -> String? {
    output.waitForLine(containing: needle, timeout: timeout, while: { true })
  }

  /// Sends `signal` and waits for the exit status (nil on timeout).
  @discardableResult
  public func stop(signal: Int32 = SIGTERM, timeout: Double = 30) -> Int32? {
    kill(process.processIdentifier, signal)
    return waitForExit(timeout: timeout)
  }

  /// The exit status (128 + signal when killed by one), or nil if still running after `timeout`.
  public func waitForExit(timeout: Double) -> Int32? {
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
    let command = try commandLine(executable: executable, arguments: arguments, wrapper: wrapper)
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
  }

  /// The program to run and its arguments: the product, or `wrapper`'s program with the
  /// product's path after its own arguments.
  private static func commandLine(executable: String, arguments: [String], wrapper: [String])
    throws -> [String]
  {
    let product = try Products.url(executable).path
    return wrapper + [product] + arguments
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

  /// Runs a product that is expected to exit by itself (bad flags, port in use, --help),
  /// isolated like a broker started with `init`; kills it and throws when it has not exited
  /// within `timeout` seconds.
  public static func runToExit(
    _ arguments: [String], executable: String = "ringbroker", timeout: Double = 60,
    wrapper: [String] = [], ownControlSocket: Bool = true
  ) throws -> Spawn.Result {
    let (arguments, controlPath) = isolated(
      arguments, executable: executable, ownControlSocket: ownControlSocket)
    defer { controlPath.map { _ = unlink($0) } }
    let command = try commandLine(executable: executable, arguments: arguments, wrapper: wrapper)
    return try Spawn.run(command[0], Array(command.dropFirst()), timeout: timeout)
  }
}

/// Collects a child's stderr on a reader thread, so the pipe never fills and tests can wait for
/// a line.
public final class CapturedOutput {
  private let pipe = Pipe()
  private let condition = NSCondition()
  private var collected = ""
  private var ended = false

  public init() {}

  public func attach(to process: Process) {
    process.standardError = pipe
    process.standardOutput = FileHandle.nullDevice
  }

  /// Collects the child's stdout instead (a second CapturedOutput, attached after the one
  /// for stderr).
  public func attachAsStandardOutput(of process: Process) { process.standardOutput = pipe }

  public func startReading() {
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

  public var text: String {
    condition.lock()
    defer { condition.unlock() }
    return collected
  }

  public func waitForLine(containing needle: String, timeout: Double, while alive: () -> Bool)
    -> String?
  {
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

  public func waitForEnd(timeout: Double) {
    let deadline = Date().addingTimeInterval(timeout)
    condition.lock()
    while !ended && Date() < deadline { _ = condition.wait(until: deadline) }
    condition.unlock()
  }
}
