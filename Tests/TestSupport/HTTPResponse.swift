/// One parsed HTTP response as a raw client saw it.
public struct HTTPResponse: CustomStringConvertible {
  public var version: String
  public var status: Int
  public var reason: String
  public var headers: [(name: String, value: String)]
  public var body: [UInt8]

  /// First header with this name (case-insensitive).
  public func header(_ name: String) -> String? {
    headers.first { $0.name.lowercased() == name.lowercased() }?.value
  }

  public var bodyText: String { String(decoding: body, as: UTF8.self) }

  public var closesConnection: Bool { header("Connection")?.lowercased() == "close" }

  public var description: String {
    "\(version) \(status) \(reason) \(headers.map { "\($0.name): \($0.value)" }) body \(body.count) bytes"
  }
}
