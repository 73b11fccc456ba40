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
  try sumPerWorker("slotsInUse", brokerPid: brokerPid, timeout: timeout)
}

/// Slots of each worker's channel (ringstat's slotsTotal), per worker id.
func slotsTotal(brokerPid: Int32, timeout: Double = 20) throws -> [Int: Int] {
  try sumPerWorker("slotsTotal", brokerPid: brokerPid, timeout: timeout)
}

/// An integer field of ringstat's channel rows, added up per worker id.
private func sumPerWorker(_ field: String, brokerPid: Int32, timeout: Double) throws -> [Int: Int] {
  var sums: [Int: Int] = [:]
  for channel in try ringstatChannels(brokerPid: brokerPid, timeout: timeout) {
    guard let id = channel["workerId"] as? Int, let value = channel[field] as? Int else {
      continue
    }
    sums[id, default: 0] += value
  }
  return sums
}

/// Waits until `count` workers attached: the worker library writes its pid into its channel
/// when it attaches (ringstat's worker.pid), and the front serves a worker from then on.
func waitForAttachedWorkers(brokerPid: Int32, count: Int, timeout: Double = 20) -> Bool {
  waitUntil(timeout: timeout) {
    let channels = (try? ringstatChannels(brokerPid: brokerPid)) ?? []
    return channels.filter {
      ((($0["worker"] as? [String: Any])?["pid"] as? NSNumber)?.intValue ?? 0) != 0
    }.count >= count
  }
}

/// Requests the broker's workers took from their rings so far (their own counter), or nil when
/// ringstat could not read the broker.
func requestsTaken(byWorkersOf brokerPid: Int32) -> UInt64? {
  guard let channels = try? ringstatChannels(brokerPid: brokerPid) else { return nil }
  return channels.reduce(0) {
    $0 + ((($1["worker"] as? [String: Any])?["requestsTaken"] as? NSNumber)?.uint64Value ?? 0)
  }
}
