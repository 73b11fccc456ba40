import CRingABI
import RingChannel
import XCTest

/// The ABI is shared with C and any FFI: offsets and alignment are part of the contract.
final class LayoutTests: XCTestCase {
  func testHeaderFieldsSitOnTheirOwnLines() {
    XCTAssertEqual(MemoryLayout<rb_channel_header>.size, 6 * 128)
    XCTAssertEqual(MemoryLayout<rb_channel_header>.offset(of: \.front), 256)
    XCTAssertEqual(MemoryLayout<rb_channel_header>.offset(of: \.worker), 640)
    XCTAssertEqual(MemoryLayout<rb_ring_control>.offset(of: \.head), 0)
    XCTAssertEqual(MemoryLayout<rb_ring_control>.offset(of: \.tail), 128)
    XCTAssertEqual(MemoryLayout<rb_ring_control>.offset(of: \.wake_word), 256)
    XCTAssertEqual(MemoryLayout<rb_ring_control>.size, 384)
    XCTAssertEqual(MemoryLayout<rb_request_descriptor>.size, 32)
    XCTAssertEqual(MemoryLayout<rb_response_descriptor>.size, 32)
    XCTAssertEqual(MemoryLayout<rb_request_head>.size, 56)
    XCTAssertEqual(MemoryLayout<rb_header>.size, 16)
  }

  func testRegionsArePageAlignedAndDoNotOverlap() throws {
    let layout = try ChannelLayout(.standard)
    XCTAssertEqual(layout.ringCapacity, 128)  // 68 slots → next power of two
    XCTAssertEqual(layout.requestRingOffset % 4096, 0)
    XCTAssertEqual(layout.responseRingOffset % 4096, 0)
    XCTAssertGreaterThanOrEqual(
      layout.responseRingOffset, layout.requestRingOffset + 384 + 128 * 32)
    var end = layout.responseRingOffset + 384 + 128 * 32
    for placed in layout.slotClasses {
      XCTAssertEqual(placed.arenaOffset % 4096, 0)
      XCTAssertGreaterThanOrEqual(placed.arenaOffset, end)
      end = placed.arenaOffset + placed.spec.slotSize * placed.spec.slotCount
    }
    XCTAssertEqual(layout.segmentSize, end)
  }

  func testInvalidParametersAreRefused() {
    XCTAssertThrowsError(try ChannelLayout(ChannelParameters(slotClasses: [])))
    XCTAssertThrowsError(
      try ChannelLayout(
        ChannelParameters(slotClasses: [SlotClassSpec(slotSize: 1000, slotCount: 4)])))
  }

  func testAttachChecksMagicAndNamesBothVersions() throws {
    let segment = try ChannelSegment.create(name: "layout-test", parameters: .standard)
    let attached = try ChannelSegment.attach(fd: dup(segment.fd))
    XCTAssertEqual(attached.layout, segment.layout)

    segment.header.pointee.abi_version = 9
    XCTAssertThrowsError(try ChannelSegment.attach(fd: dup(segment.fd))) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("version 9"), text)
      XCTAssertTrue(text.contains("version \(RB_ABI_VERSION)"), text)
    }
    segment.header.pointee.abi_version = RB_ABI_VERSION
    segment.header.pointee.magic = 0x1234
    XCTAssertThrowsError(try ChannelSegment.attach(fd: dup(segment.fd))) { error in
      XCTAssertTrue("\(error)".contains("bad magic"), "\(error)")
    }
  }

  func testSegmentCannotBeShrunkByAWorker() throws {
    let segment = try ChannelSegment.create(name: "seal-test", parameters: .standard)
    XCTAssertNotEqual(ftruncate(segment.fd, 4096), 0, "a sealed memfd refuses truncation")
  }
}
