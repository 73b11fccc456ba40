/// Builds Prometheus's text exposition format, version 0.0.4: for each metric family a HELP and
/// a TYPE line, then its samples; histograms as cumulative `_bucket{le=…}` series with `_sum`
/// and `_count`. Mechanism only: which metrics exist is MetricsExposition's business.
struct PrometheusText {
  static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  enum Kind: String {
    case counter, gauge, histogram
  }

  private(set) var text = ""

  /// One family with one sample per label set; `name` must not be used twice.
  mutating func family(
    _ name: String, _ kind: Kind, help: String,
    _ samples: [(labels: [(String, String)], value: UInt64)]
  ) {
    header(name, kind, help: help)
    for sample in samples { line(name, sample.labels, "\(sample.value)") }
  }

  /// One family with a single unlabeled sample.
  mutating func family(_ name: String, _ kind: Kind, help: String, _ value: UInt64) {
    family(name, kind, help: help, [([], value)])
  }

  /// A histogram from log2 buckets (bucket i holds [2^i, 2^(i+1)) ns), in seconds, with upper
  /// bounds from `firstBucket`'s to `lastBucket`'s (finer or coarser ones add series, not
  /// insight). `_count` is the buckets' sum, so it always equals the +Inf bucket.
  mutating func histogram(
    _ name: String, help: String, buckets: [UInt64], sumNs: UInt64, firstBucket: Int = 9,
    lastBucket: Int = 35
  ) {
    header(name, .histogram, help: help)
    var cumulative: UInt64 = 0
    for (index, count) in buckets.enumerated() {
      cumulative &+= count
      guard index >= firstBucket, index <= lastBucket else { continue }
      let upperBoundSeconds = Double(UInt64(1) << UInt64(index + 1)) / 1e9
      line(name + "_bucket", [("le", "\(upperBoundSeconds)")], "\(cumulative)")
    }
    line(name + "_bucket", [("le", "+Inf")], "\(cumulative)")
    line(name + "_sum", [], "\(Double(sumNs) / 1e9)")
    line(name + "_count", [], "\(cumulative)")
  }

  private mutating func header(_ name: String, _ kind: Kind, help: String) {
    text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
  }

  private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
    text += name
    if !labels.isEmpty {
      text += "{"
      text += labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",")
      text += "}"
    }
    text += " \(value)\n"
  }

  /// Label values escape backslash, double quote and newline; HELP text backslash and newline.
  static func escapeLabel(_ value: String) -> String {
    value.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"").replacingAll("\n", "\\n")
  }

  static func escapeHelp(_ value: String) -> String {
    value.replacingAll("\\", "\\\\").replacingAll("\n", "\\n")
  }
}

extension String {
  fileprivate func replacingAll(_ target: Character, _ replacement: String) -> String {
    var out = ""
    out.reserveCapacity(utf8.count)
    for character in self {
      if character == target { out += replacement } else { out.append(character) }
    }
    return out
  }
}
