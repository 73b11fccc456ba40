import CNuma
import CRingABI
import Glibc

/// The machine's NUMA nodes and their CPUs, read from libnuma or described by hand (tests, and
/// operators who want to pretend a topology).
public struct NumaTopology: Equatable, CustomStringConvertible {
  public struct Node: Equatable {
    public var id: Int
    public var cpus: [Int]
    public init(id: Int, cpus: [Int]) {
      self.id = id
      self.cpus = cpus
    }
  }

  public var nodes: [Node]

  public init(nodes: [Node]) { self.nodes = nodes }

  /// The topology libnuma reports, limited to CPUs this process may run on. Falls back to one
  /// node holding every allowed CPU when NUMA is unavailable.
  public static func current() -> NumaTopology {
    let allowed = allowedCPUs()
    guard numa_available() >= 0 else { return NumaTopology(nodes: [Node(id: 0, cpus: allowed)]) }
    var nodes: [Node] = []
    let maxNode = numa_max_node()
    if maxNode >= 0 {
      for id in 0...maxNode {
        guard let mask = numa_allocate_cpumask() else { continue }
        defer { numa_free_cpumask(mask) }
        guard numa_node_to_cpus(id, mask) == 0 else { continue }
        let cpus = allowed.filter { numa_bitmask_isbitset(mask, UInt32($0)) != 0 }
        if !cpus.isEmpty { nodes.append(Node(id: Int(id), cpus: cpus)) }
      }
    }
    return nodes.isEmpty
      ? NumaTopology(nodes: [Node(id: 0, cpus: allowed)]) : NumaTopology(nodes: nodes)
  }

  /// Parses "0:0-3,8;1:4-7": nodes separated by ';', each `node:cpulist`.
  public init(described text: String) throws(ChannelError) {
    var nodes: [Node] = []
    for part in text.split(separator: ";") {
      let pieces = part.split(separator: ":", maxSplits: 1)
      guard pieces.count == 2, let id = Int(pieces[0]) else {
        throw .invalidParameters("topology part '\(part)' is not node:cpulist")
      }
      var cpus: [Int] = []
      for range in pieces[1].split(separator: ",") {
        let bounds = range.split(separator: "-").map { Int($0) }
        guard let first = bounds.first ?? nil, bounds.count <= 2, let last = bounds.last ?? nil,
          first <= last
        else { throw .invalidParameters("cpu list '\(pieces[1])' is malformed") }
        cpus.append(contentsOf: first...last)
      }
      nodes.append(Node(id: id, cpus: cpus))
    }
    guard !nodes.isEmpty else { throw .invalidParameters("empty topology") }
    self.nodes = nodes
  }

  public var cpuCount: Int { nodes.reduce(0) { $0 + $1.cpus.count } }

  public var description: String {
    nodes.map { "node \($0.id): cpus \($0.cpus.map(String.init).joined(separator: ","))" }
      .joined(separator: "; ")
  }

  private static func allowedCPUs() -> [Int] {
    var cpus = [Int32](repeating: 0, count: 1024)
    let count = Int(rb_allowed_cpus(&cpus, Int32(cpus.count)))
    return count > 0 ? cpus.prefix(count).map(Int.init) : [0]
  }
}

/// Where one worker runs: its node, the node's CPUs it is pinned to, and the one CPU it is
/// nominally assigned (shown by ringstat; spreads workers over a node's CPUs).
public struct WorkerPlacement: Equatable {
  public var worker: Int
  public var node: Int
  public var cpus: [Int]
  public var cpu: Int

  public init(worker: Int, node: Int, cpus: [Int], cpu: Int) {
    self.worker = worker
    self.node = node
    self.cpus = cpus
    self.cpu = cpu
  }
}

extension NumaTopology {
  /// Spreads `count` workers over the nodes in proportion to their CPUs (largest remainder
  /// first), then over each node's CPUs round-robin. Worker order interleaves nodes so that
  /// the first workers started land on different nodes.
  public func place(workers count: Int) -> [WorkerPlacement] {
    guard count > 0, cpuCount > 0 else { return [] }
    var perNode = nodes.map { count * $0.cpus.count / cpuCount }
    var remaining = count - perNode.reduce(0, +)
    let byRemainder = nodes.indices.sorted {
      (count * nodes[$0].cpus.count) % cpuCount > (count * nodes[$1].cpus.count) % cpuCount
    }
    for index in byRemainder where remaining > 0 {
      perNode[index] += 1
      remaining -= 1
    }
    var placements: [WorkerPlacement] = []
    var usedOnNode = Array(repeating: 0, count: nodes.count)
    while placements.count < count {
      for (index, node) in nodes.enumerated() where usedOnNode[index] < perNode[index] {
        let cpu = node.cpus[usedOnNode[index] % node.cpus.count]
        placements.append(
          WorkerPlacement(worker: placements.count, node: node.id, cpus: node.cpus, cpu: cpu))
        usedOnNode[index] += 1
      }
    }
    return placements
  }
}
