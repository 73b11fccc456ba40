import Foundation

/// Runs the `ringstat` product and collects its exit status and output.
public enum Ringstat {
  public typealias Result = Spawn.Result

  public static func run(_ arguments: [String], timeout: Double = 30) throws -> Result {
    try Spawn.run(Products.path("ringstat"), arguments, timeout: timeout)
  }

  /// Runs `ringstat --check PID` until it fails (exit 1) with a line starting with `prefix`,
  /// or `timeout` seconds pass; the last result either way.
  public static func waitForFailingCheck(
    brokerPid: Int32, prefix: String, timeout: Double = 20
  ) -> Result? {
    var check: Result?
    _ = waitUntil(timeout: timeout) {
      check = (try? run(["--check", String(brokerPid)])) ?? check
      return check.map { $0.status == 1 && $0.stdout.hasPrefix(prefix) } ?? false
    }
    return check
  }
}

extension Spawn.Result {
  /// The --json output parsed as an object.
  public func json() throws -> [String: Any] {
    guard status == 0,
      let object = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
    else {
      throw TestError("not a JSON object (exit status \(status)): \(stdout)\(stderr)")
    }
    return object
  }
}

/// The channels of a running broker as `ringstat --json PID` reports them: what the broker's
/// shared memory says, without the test knowing its layout.
public func ringstatChannels(brokerPid: Int32, timeout: Double = 20) throws -> [[String: Any]] {
  let object = try Ringstat.run(["--json", String(brokerPid)], timeout: timeout).json()
  guard let channels = object["channels"] as? [[String: Any]] else {
    throw TestError("ringstat --json \(brokerPid) has no channels: \(object)")
  }
  return channels
}

/// Slots in use per worker id.
public func slotsInUse(brokerPid: Int32, timeout: Double = 20) throws -> [Int: Int] {
  try sumPerWorker("slotsInUse", brokerPid: brokerPid, timeout: timeout)
}

/// Slots of each worker's channel (ringstat's slotsTotal), per worker id.
public func slotsTotal(brokerPid: Int32, timeout: Double = 20) throws -> [Int: Int] {
  try sumPerWorker("slotsTotal", brokerPid: brokerPid, timeout: timeout)
}

/// Requests the front dispatched to each worker id so far (ringstat's requestsDispatched).
public func requestsDispatched(brokerPid: Int32, timeout: Double = 20) throws -> [Int: Int] {
  try sumPerWorker("requestsDispatched", brokerPid: brokerPid, timeout: timeout)
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
public func waitForAttachedWorkers(brokerPid: Int32, count: Int, timeout: Double = 20) -> Bool {
  waitUntil(timeout: timeout) {
    let channels = (try? ringstatChannels(brokerPid: brokerPid)) ?? []
    return channels.filter {
      ((($0["worker"] as? [String: Any])?["pid"] as? NSNumber)?.intValue ?? 0) != 0
    }.count >= count
  }
}

/// Requests the broker's workers took from their rings so far (their own counter), or nil when
/// ringstat could not read the broker.
public func requestsTaken(byWorkersOf brokerPid: Int32) -> UInt64? {
  guard let channels = try? ringstatChannels(brokerPid: brokerPid) else { return nil }
  return channels.reduce(0) {
    $0 + ((($1["worker"] as? [String: Any])?["requestsTaken"] as? NSNumber)?.uint64Value ?? 0)
  }
}

/// Waits until the broker's workers took at least `count` requests from their rings, all
/// workers together (their own counter: a request taken is with a worker, not in its ring).
public func waitForRequestsTaken(
  byWorkersOf brokerPid: Int32, atLeast count: UInt64, timeout: Double = 20
) -> Bool {
  waitUntil(timeout: timeout) { (requestsTaken(byWorkersOf: brokerPid) ?? 0) >= count }
}

/// Waits until the front dispatched at least `count` requests to its workers, all together
/// (ringstat's requestsDispatched: written into a slot and queued on a ring).
public func waitForRequestsDispatched(
  brokerPid: Int32, atLeast count: Int, timeout: Double = 20
) -> Bool {
  waitUntil(timeout: timeout) {
    ((try? requestsDispatched(brokerPid: brokerPid)) ?? [:]).values.reduce(0, +) >= count
  }
}
