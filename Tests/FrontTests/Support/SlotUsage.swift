import Foundation

/// Slots in use per worker id of a running broker, as `ringstat --json PID` reports them: what
/// the broker's channels say, without the test knowing their layout.
func slotsInUse(brokerPid: Int32, timeout: Double = 20) throws -> [Int: Int] {
  let process = Process()
  process.executableURL = try BrokerProcess.productURL("ringstat")
  process.arguments = ["--json", String(brokerPid)]
  let output = Pipe()
  process.standardOutput = output
  process.standardError = FileHandle.nullDevice
  try process.run()
  // The JSON is a few KiB: it fits the pipe, so reading after the exit cannot deadlock.
  guard waitUntil(timeout: timeout, { !process.isRunning }) else {
    process.terminate()
    throw TestError("ringstat did not finish within \(timeout) s")
  }
  let data = output.fileHandleForReading.readDataToEndOfFile()
  guard process.terminationStatus == 0,
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
    let channels = object["channels"] as? [[String: Any]]
  else { throw TestError("ringstat --json: \(String(decoding: data, as: UTF8.self))") }
  var usage: [Int: Int] = [:]
  for channel in channels {
    guard let id = channel["workerId"] as? Int, let used = channel["slotsInUse"] as? Int else {
      continue
    }
    usage[id, default: 0] += used
  }
  return usage
}
