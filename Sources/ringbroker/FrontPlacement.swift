import Glibc

/// Where the front threads go: one per NUMA node by default, each pinned to its node's CPUs
/// when there is more than one node (on a single node the scheduler knows best).
struct FrontPlacement {
  /// CPU list of each online node, in node order.
  var nodeCPUs: [[Int]]

  static func detect() -> FrontPlacement {
    let base = "/sys/devices/system/node"
    guard let online = readFile(base + "/online") else { return FrontPlacement(nodeCPUs: []) }
    let cpus = parseCPUList(online).map { node in
      readFile("\(base)/node\(node)/cpulist").map(parseCPUList) ?? []
    }
    return FrontPlacement(nodeCPUs: cpus.filter { !$0.isEmpty })
  }

  var nodeCount: Int { max(nodeCPUs.count, 1) }

  /// CPU sets for the front threads: per node when there are several, none otherwise.
  var frontCPUSets: [[Int]] { nodeCPUs.count > 1 ? nodeCPUs : [] }

  /// "0-3,8,10-11" → [0, 1, 2, 3, 8, 10, 11]
  static func parseCPUList(_ text: String) -> [Int] {
    text.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == " " }).flatMap { part -> [Int] in
      let bounds = part.split(separator: "-").compactMap { Int($0) }
      if bounds.count == 2, bounds[0] <= bounds[1] { return Array(bounds[0]...bounds[1]) }
      return bounds.count == 1 ? bounds : []
    }
  }

  /// A small sysfs file as text, nil when unreadable.
  private static func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 4096)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
    return String(cString: buffer)
  }
}
