/// Short human forms of counts, sizes and durations for the table (JSON keeps raw numbers).
public enum Format {
  public static func bytes(_ value: UInt64) -> String {
    let units = ["B", "K", "M", "G", "T", "P"]
    var amount = Double(value)
    var unit = 0
    while amount >= 1024 && unit < units.count - 1 {
      amount /= 1024
      unit += 1
    }
    return unit == 0 ? "\(value)B" : fixed(amount, amount < 10 ? 1 : 0) + units[unit]
  }

  /// Nanoseconds as 512ns, 65.5µs, 1.0ms, 2.1s.
  public static func latency(_ ns: UInt64?) -> String {
    guard let ns else { return "-" }
    let value = Double(ns)
    if ns < 1_000 { return "\(ns)ns" }
    if ns < 1_000_000 { return fixed(value / 1e3, value < 1e5 ? 1 : 0) + "µs" }
    if ns < 1_000_000_000 { return fixed(value / 1e6, value < 1e8 ? 1 : 0) + "ms" }
    return fixed(value / 1e9, 1) + "s"
  }

  /// Nanoseconds as 4.2s, 3m07s, 2h05m, 3d04h.
  public static func duration(_ ns: UInt64) -> String {
    let seconds = ns / 1_000_000_000
    if seconds < 60 { return fixed(Double(ns) / 1e9, 1) + "s" }
    if seconds < 3600 { return "\(seconds / 60)m" + pad2(seconds % 60) + "s" }
    if seconds < 86400 { return "\(seconds / 3600)h" + pad2(seconds % 3600 / 60) + "m" }
    return "\(seconds / 86400)d" + pad2(seconds % 86400 / 3600) + "h"
  }

  public static func rate(_ value: Double?) -> String {
    guard let value else { return "-" }
    return value >= 100 ? fixed(value, 0) : fixed(value, 1)
  }

  /// Fixed-point without Foundation's String(format:).
  public static func fixed(_ value: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (value * scale).rounded()
    guard scaled.isFinite, abs(scaled) < 9e15 else { return "\(value)" }
    let whole = Int(scaled)
    if decimals == 0 { return "\(whole)" }
    let unit = Int(scale)
    let sign = whole < 0 ? "-" : ""
    let magnitude = abs(whole)
    var fraction = "\(magnitude % unit)"
    while fraction.count < decimals { fraction = "0" + fraction }
    return "\(sign)\(magnitude / unit).\(fraction)"
  }

  private static func pad2(_ value: UInt64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
