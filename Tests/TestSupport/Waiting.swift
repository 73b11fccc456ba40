import Foundation

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; returns its last
/// value. For states a test can observe (a log line, a counter); never a stand-in for one.
public func waitUntil(timeout: Double = 20, _ condition: () -> Bool) -> Bool {
  let deadline = Date().addingTimeInterval(timeout)
  while Date() < deadline {
    if condition() { return true }
    usleep(20_000)
  }
  return condition()
}

/// One GET on a fresh connection.
public func get(_ port: UInt16, _ path: String) throws -> HTTPResponse {
  let client = try RawHTTPClient(port: port)
  try client.send(Requests.get(path))
  return try client.readResponse()
}
