import CRingABI
import Glibc

struct BenchOptions {
  var json = false
  var roundTrips = 200_000
  var messages = 2_000_000
  var only: String? = nil
}

struct BenchResult {
  var transport: String
  var mode: String
  var roundTripP50: UInt64
  var roundTripP99: UInt64
  var messagesPerSecond: Double
}

/// Collects round-trip samples and reports percentiles.
struct LatencySamples {
  private var samples: [UInt64] = []

  init(capacity: Int) { samples.reserveCapacity(capacity) }

  mutating func add(_ nanoseconds: UInt64) { samples.append(nanoseconds) }

  mutating func percentile(_ fraction: Double) -> UInt64 {
    samples.sort()
    guard !samples.isEmpty else { return 0 }
    return samples[min(samples.count - 1, Int(Double(samples.count) * fraction))]
  }
}

enum BenchReport {
  static func table(_ results: [BenchResult]) -> String {
    var lines = [
      "transport         mode     rtt p50 ns   rtt p99 ns   one-way msg/s",
      "----------------  -------  -----------  -----------  -------------",
    ]
    for r in results {
      lines.append(
        pad(r.transport, 16) + "  " + pad(r.mode, 7) + "  "
          + pad(String(r.roundTripP50), 11, left: true)
          + "  " + pad(String(r.roundTripP99), 11, left: true) + "  "
          + pad(String(Int(r.messagesPerSecond)), 13, left: true))
    }
    if let spin = results.first(where: { $0.mode == "spin" }),
      let socket = results.first(where: { $0.transport == "unix socketpair" })
    {
      let ratio = Double(socket.roundTripP50) / Double(max(spin.roundTripP50, 1))
      lines.append("socketpair p50 / channel spin p50: \(String(format1(ratio)))x")
    }
    return lines.joined(separator: "\n")
  }

  static func json(_ results: [BenchResult]) -> String {
    let entries = results.map { r in
      "{\"transport\":\"\(r.transport)\",\"mode\":\"\(r.mode)\",\"rtt_p50_ns\":\(r.roundTripP50),"
        + "\"rtt_p99_ns\":\(r.roundTripP99),\"one_way_msgs_per_s\":\(Int(r.messagesPerSecond))}"
    }
    return "{\"results\":[" + entries.joined(separator: ",") + "]}"
  }

  private static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? fill + text : text + fill
  }

  private static func format1(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
  }
}

/// The path of this executable, to start children of it.
func selfExecutable() -> String {
  var buffer = [CChar](repeating: 0, count: 4096)
  let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
  return count > 0 ? String(cString: buffer) : CommandLine.arguments[0]
}
