/// How much the broker says, least to most severe; `--log-level` keeps this one and above.
public enum LogLevel: Int, Comparable, CaseIterable, Sendable {
  case debug, info, warning, error

  /// The word in each line and the `--log-level` value: "debug", "info", "warn", "error".
  public var name: String {
    switch self {
    case .debug: "debug"
    case .info: "info"
    case .warning: "warn"
    case .error: "error"
    }
  }

  public init?(name: String) {
    guard let level = Self.allCases.first(where: { $0.name == name }) else { return nil }
    self = level
  }

  public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The shape of each line: `text` for people, `json` (one object a line) for log shippers.
public enum LogFormat: String, CaseIterable, Sendable {
  case text, json
}
