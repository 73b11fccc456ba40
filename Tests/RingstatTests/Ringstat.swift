import Foundation

/// Runs the `ringstat` product and collects its exit status and output.
enum Ringstat {
  typealias Result = Spawn.Result

  static func run(_ arguments: [String], timeout: Double = 30) throws -> Result {
    try Spawn.run(Products.path("ringstat"), arguments, timeout: timeout)
  }
}

extension Spawn.Result {
  /// The --json output parsed as an object.
  func json() throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
    else {
      throw TestError("not a JSON object: \(stdout)")
    }
    return object
  }
}
