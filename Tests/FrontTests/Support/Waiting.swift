import Foundation

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass; returns whether it
/// held. Tests wait on observable state with this instead of sleeping a fixed time.
func waitUntil(_ timeout: Double = 20, _ condition: () -> Bool) -> Bool {
  let deadline = Date().addingTimeInterval(timeout)
  while Date() < deadline {
    if condition() { return true }
    usleep(50_000)
  }
  return condition()
}

/// One GET on a fresh connection.
func get(_ port: UInt16, _ path: String) throws -> HTTPResponse {
  let client = try RawHTTPClient(port: port)
  try client.send(Requests.get(path))
  return try client.readResponse()
}

/// Requests the broker's workers took from their rings so far (ringstat --json), or nil when
/// ringstat could not read the broker.
func requestsTaken(byWorkersOf brokerPid: Int32) -> UInt64? {
  guard let ringstat = try? BrokerProcess.productURL("ringstat") else { return nil }
  let process = Process()
  process.executableURL = ringstat
  process.arguments = ["--json", String(brokerPid)]
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = FileHandle.nullDevice
  guard (try? process.run()) != nil else { return nil }
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
    let channels = json["channels"] as? [[String: Any]]
  else { return nil }
  return channels.reduce(0) {
    $0 + ((($1["worker"] as? [String: Any])?["requestsTaken"] as? NSNumber)?.uint64Value ?? 0)
  }
}
