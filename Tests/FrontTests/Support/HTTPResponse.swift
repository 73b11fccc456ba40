/// One parsed HTTP response as a raw client saw it.
struct HTTPResponse: CustomStringConvertible {
  var version: String
  var status: Int
  var reason: String
  var headers: [(name: String, value: String)]
  var body: [UInt8]

  /// First header with this name (case-insensitive).
  func header(_ name: String) -> String? {
    headers.first { $0.name.lowercased() == name.lowercased() }?.value
  }

  var bodyText: String { String(decoding: body, as: UTF8.self) }

  var closesConnection: Bool { header("Connection")?.lowercased() == "close" }

  var description: String {
    "\(version) \(status) \(reason) \(headers.map { "\($0.name): \($0.value)" }) body \(body.count) bytes"
  }
}
