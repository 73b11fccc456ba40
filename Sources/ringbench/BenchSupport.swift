import CRingABI
import Glibc
import ToolSupport

struct BenchOptions {
  var json = false
  /// A few seconds in all by default: the sleeping and socket round trips wait for a wake-up
  /// each (tens of µs on a VM). More for steadier percentiles: --round-trips, --messages.
  var roundTrips = 10_000
  var messages = 200_000
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
    var table = TextTable(
      header: ["transport", "mode", "rtt p50 ns", "rtt p99 ns", "one-way msg/s"],
      leftAligned: [0, 1])
    for r in results {
      table.rows.append([
        r.transport, r.mode, String(r.roundTripP50), String(r.roundTripP99),
        String(Int(r.messagesPerSecond)),
      ])
    }
    var text = String(table.render().dropLast())  // print() ends the line
    if let spin = results.first(where: { $0.mode == "spin" }),
      let socket = results.first(where: { $0.transport == "unix socketpair" })
    {
      let ratio = Double(socket.roundTripP50) / Double(max(spin.roundTripP50, 1))
      text += "\nsocketpair p50 / channel spin p50: \(String(format1(ratio)))x"
    }
    return text
  }

  static func json(_ results: [BenchResult]) -> String {
    let entries = results.map { r in
      "{\"transport\":\"\(r.transport)\",\"mode\":\"\(r.mode)\",\"rtt_p50_ns\":\(r.roundTripP50),"
        + "\"rtt_p99_ns\":\(r.roundTripP99),\"one_way_msgs_per_s\":\(Int(r.messagesPerSecond))}"
    }
    return "{\"results\":[" + entries.joined(separator: ",") + "]}"
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
