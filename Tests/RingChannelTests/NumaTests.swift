import CNuma
import CRingABI
import RingChannel
import XCTest

final class NumaTests: XCTestCase {
  func testSegmentIsBoundToItsNodeAndPrefaulted() throws {
    let node = NumaTopology.current().nodes[0].id
    let segment = try ChannelSegment.create(name: "numa-test", parameters: .standard, node: node)
    XCTAssertEqual(MemoryPlacement.policyMode(at: segment.base), Int32(MPOL_BIND))
    // Sample pages across every region; prefaulting means they exist already and sit on `node`.
    for offset in stride(from: 0, to: segment.size, by: segment.size / 37) {
      XCTAssertEqual(
        MemoryPlacement.nodeOfPage(at: segment.base + offset), node, "offset \(offset)")
    }
  }

  func testTopologyOfThisMachineCoversItsCPUs() {
    let topology = NumaTopology.current()
    XCTAssertFalse(topology.nodes.isEmpty)
    XCTAssertEqual(topology.cpuCount, Int(rb_allowed_cpu_count()))
  }

  func testPlacementOverTwoNodesOfFourCPUs() throws {
    let topology = try NumaTopology(described: "0:0-3;1:4-7")
    let placements = topology.place(workers: 6)
    XCTAssertEqual(placements.map(\.node), [0, 1, 0, 1, 0, 1], "interleaved over nodes")
    XCTAssertEqual(placements.filter { $0.node == 0 }.map(\.cpu), [0, 1, 2])
    XCTAssertEqual(placements.filter { $0.node == 1 }.map(\.cpu), [4, 5, 6])
    for placement in placements {
      XCTAssertEqual(placement.cpus, placement.node == 0 ? [0, 1, 2, 3] : [4, 5, 6, 7])
    }
    // More workers than CPUs wrap around each node's CPUs.
    let crowded = topology.place(workers: 10)
    XCTAssertEqual(crowded.filter { $0.node == 0 }.count, 5)
    XCTAssertEqual(crowded.filter { $0.node == 0 }.map(\.cpu), [0, 1, 2, 3, 0])
  }

  func testPlacementIsProportionalToCPUsPerNode() throws {
    let topology = try NumaTopology(described: "0:0-5;1:6-7")
    let placements = topology.place(workers: 4)
    XCTAssertEqual(placements.filter { $0.node == 0 }.count, 3)
    XCTAssertEqual(placements.filter { $0.node == 1 }.count, 1)
    XCTAssertThrowsError(try NumaTopology(described: "zero:1"))
    XCTAssertThrowsError(try NumaTopology(described: "0:3-1"))
  }
}
