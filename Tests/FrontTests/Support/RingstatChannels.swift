import Foundation

/// The channels of a running broker as `ringstat --json PID` reports them: what the broker's
/// shared memory says, without the test knowing its layout.
func ringstatChannels(brokerPid: Int32, timeout: Double = 20) throws -> [[String: Any]] {
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
  return channels
}

/// Slots in use per worker id.
func slotsInUse(brokerPid: Int32, timeout: Double = 20) throws -> [Int: Int] {
  var usage: [Int: Int] = [:]
  for channel in try ringstatChannels(brokerPid: brokerPid, timeout: timeout) {
    guard let id = channel["workerId"] as? Int, let used = channel["slotsInUse"] as? Int else {
      continue
    }
    usage[id, default: 0] += used
  }
  return usage
}

/// Requests the broker's workers took from their rings so far (their own counter), or nil when
/// ringstat could not read the broker.
func requestsTaken(byWorkersOf brokerPid: Int32) -> UInt64? {
  guard let channels = try? ringstatChannels(brokerPid: brokerPid) else { return nil }
  return channels.reduce(0) {
    $0 + ((($1["worker"] as? [String: Any])?["requestsTaken"] as? NSNumber)?.uint64Value ?? 0)
  }
}
