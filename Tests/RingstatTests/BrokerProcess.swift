import Foundation
import XCTest

/// A real `ringbroker` in worker mode with the test worker (`ringchannel-child http`: answers
/// "ok <path>", `/sleep/MS` sleeps first). Ready once it printed "listening on HOST:PORT" on
/// stderr; killed when the test drops it. (Adapted from Tests/FrontTests/Support.)
final class BrokerProcess {
  let process = Process()
  let name: String
  let controlPath: String
  private(set) var port: UInt16 = 0
  private let pipe = Pipe()
  private let output = Output()

  /// The broker's stderr so far; the reader thread holds this, not the BrokerProcess, so that
  /// deinit (which kills the broker) runs when a test drops it.
  private final class Output {
    let lock = NSCondition()
    var text = ""
  }

  init(name: String, workers: Int = 2) throws {
    self.name = name
    // Its own control socket: the default one is shared by every broker of the name.
    controlPath = NSTemporaryDirectory() + "\(name)-\(getpid()).sock"
    process.executableURL = URL(fileURLWithPath: Products.path("ringbroker"))
    process.arguments = [
      "--listen", "127.0.0.1:0", "--name", name, "--workers", String(workers),
      "--control", controlPath,
      "--worker", "\(Products.path("ringchannel-child")) http",
    ]
    process.standardError = pipe
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let handle = pipe.fileHandleForReading
    let output = self.output
    Thread {
      while true {
        let data = handle.availableData
        output.lock.lock()
        output.text += String(decoding: data, as: UTF8.self)
        output.lock.broadcast()
        output.lock.unlock()
        if data.isEmpty { return }
      }
    }.start()
    port = try waitForPort(timeout: 60)
    try waitForChannels(workers)
  }

  /// The port from the broker's "listening on 127.0.0.1:PORT" line on stderr.
  private func waitForPort(timeout: Double) throws -> UInt16 {
    let deadline = Date().addingTimeInterval(timeout)
    output.lock.lock()
    defer { output.lock.unlock() }
    while true {
      if let line = output.text.split(separator: "\n").first(where: { $0.contains("listening on") }
      ),
        let address = line.split(separator: " ").first(where: { $0.contains(":") }),
        let port = UInt16(address.split(separator: ":").last ?? "")
      {
        return port
      }
      guard process.isRunning, Date() < deadline else {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        throw TestError("ringbroker did not become ready:\n\(output.text)")
      }
      _ = output.lock.wait(until: Date().addingTimeInterval(0.1))
    }
  }

  /// The broker says "listening" before its loop has started every worker: wait until each
  /// has a channel, so tests see a complete broker.
  private func waitForChannels(_ workers: Int) throws {
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      let result = try Ringstat.run(["--json", String(pid)])
      if let broker = try? result.json()["broker"] as? [String: Any],
        broker["workers"] as? Int == workers
      {
        return
      }
      usleep(50_000)
    }
    throw TestError("broker \(name) did not open \(workers) worker channels")
  }

  deinit {
    // SIGKILL: the broker's memfds vanish with it. Wait a bounded time only (see Spawn.swift
    // on Process missing exits).
    kill(process.processIdentifier, SIGKILL)
    let deadline = Date().addingTimeInterval(5)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    unlink(controlPath)  // a killed broker cannot remove it
  }

  var pid: Int32 { process.processIdentifier }

  var stderr: String {
    output.lock.lock()
    defer { output.lock.unlock() }
    return output.text
  }
}
