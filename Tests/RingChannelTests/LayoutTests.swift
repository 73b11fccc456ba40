import CRingABI
import Glibc
import RingChannel
import XCTest

/// The ABI is shared with C and any FFI: offsets and alignment are part of the contract.
final class LayoutTests: XCTestCase {
  func testHeaderFieldsSitOnTheirOwnLines() {
    XCTAssertEqual(MemoryLayout<rb_channel_header>.size, 7 * 128)
    XCTAssertEqual(MemoryLayout<rb_channel_header>.offset(of: \.front), 256)
    XCTAssertEqual(MemoryLayout<rb_channel_header>.offset(of: \.worker), 768)
    XCTAssertEqual(MemoryLayout<rb_slot_claim>.size, 128)
    XCTAssertEqual(MemoryLayout<rb_ring_control>.offset(of: \.head), 0)
    XCTAssertEqual(MemoryLayout<rb_ring_control>.offset(of: \.tail), 128)
    XCTAssertEqual(MemoryLayout<rb_ring_control>.offset(of: \.wake_word), 256)
    XCTAssertEqual(MemoryLayout<rb_ring_control>.size, 384)
    XCTAssertEqual(MemoryLayout<rb_request_descriptor>.size, 32)
    XCTAssertEqual(MemoryLayout<rb_response_descriptor>.size, 32)
    XCTAssertEqual(MemoryLayout<rb_header>.size, 16)
  }

  /// The request metadata (ABI version 2) follows the version 1 fields, 8-aligned, and the
  /// head fills two 64-byte lines. Version 3 added slot claims.
  func testRequestHeadLayout() {
    XCTAssertEqual(RB_ABI_VERSION, 4)
    XCTAssertEqual(MemoryLayout<rb_request_head>.size, 128)
    XCTAssertEqual(MemoryLayout<rb_request_head>.alignment, 8)
    XCTAssertEqual(MemoryLayout<rb_request_head>.offset(of: \.body), 40)
    XCTAssertEqual(MemoryLayout<rb_request_head>.offset(of: \.flags), 52)
    XCTAssertEqual(MemoryLayout<rb_request_head>.offset(of: \.request_id), 56)
    XCTAssertEqual(MemoryLayout<rb_request_head>.offset(of: \.received_unix_ns), 64)
    XCTAssertEqual(MemoryLayout<rb_request_head>.offset(of: \.remote), 72)
    XCTAssertEqual(MemoryLayout<rb_request_head>.offset(of: \.local), 96)
    XCTAssertEqual(MemoryLayout<rb_request_head>.offset(of: \.scheme), 120)
    XCTAssertEqual(MemoryLayout<rb_endpoint>.size, 24)
    XCTAssertEqual(MemoryLayout<rb_endpoint>.offset(of: \.port), 16)
    XCTAssertEqual(MemoryLayout<rb_endpoint>.offset(of: \.family), 18)
  }

  /// The writer fills every metadata field from what it is given.
  func testWriterFillsTheMetadata() {
    let slot = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    defer { slot.deallocate() }
    let remote = rb_endpoint(parsing: "2001:db8::42", port: 443)!
    let origin = RequestOrigin(
      remote: remote, local: rb_endpoint(ipv4: (10, 1, 2, 3), port: 8080),
      receivedUnixNanoseconds: 1_234_567_890_123_456_789)
    _ = writeMinimalGet(into: slot, requestID: 0x0100_0000_0000_0005, origin: origin)
    let head = slot.baseAddress!.load(as: rb_request_head.self)
    XCTAssertEqual(head.request_id, 0x0100_0000_0000_0005)
    XCTAssertEqual(head.received_unix_ns, 1_234_567_890_123_456_789)
    XCTAssertEqual(head.scheme, UInt32(RB_SCHEME_HTTP))
    XCTAssertEqual(head.remote.family, UInt16(RB_FAMILY_IPV6))
    XCTAssertEqual(head.remote.port, 443)
    XCTAssertEqual(head.remote.addressText, "2001:db8::42")
    XCTAssertEqual(head.local.family, UInt16(RB_FAMILY_IPV4))
    XCTAssertEqual(head.local.port, 8080)
    XCTAssertEqual(head.local.addressText, "10.1.2.3")
  }

  func testEndpointsParseFromText() {
    let v4 = rb_endpoint(parsing: "192.0.2.7", port: 80)
    XCTAssertEqual(v4?.family, UInt16(RB_FAMILY_IPV4))
    XCTAssertEqual(v4?.addressText, "192.0.2.7")
    XCTAssertEqual(v4?.port, 80)
    XCTAssertEqual(rb_endpoint(parsing: "::1", port: 1)?.family, UInt16(RB_FAMILY_IPV6))
    XCTAssertNil(rb_endpoint(parsing: "not an address", port: 1))
  }

  /// An IPv4 client of a dual-stack socket arrives as ::ffff:a.b.c.d: it is reported as IPv4.
  func testMappedAddressIsIPv4() {
    let endpoint = rb_endpoint(parsing: "::ffff:127.0.0.1", port: 5000)!
    XCTAssertEqual(endpoint.family, UInt16(RB_FAMILY_IPV4))
    XCTAssertEqual(endpoint.addressText, "127.0.0.1")
    XCTAssertTrue(endpoint.isLoopback)
    var unknown = endpoint
    unknown.family = 5
    XCTAssertFalse(unknown.isValid)
    XCTAssertEqual(unknown.addressText, "")
  }

  func testRegionsArePageAlignedAndDoNotOverlap() throws {
    let layout = try ChannelLayout(.standard)
    // Every slot's RB_RING_ENTRIES_PER_SLOT messages, plus shutdown, rounded up to the next
    // power of two (the smallest one that holds them), whatever the standard layout is.
    let slots = ChannelParameters.standard.totalSlots
    let needed = Int(RB_RING_ENTRIES_PER_SLOT) * slots + 1
    XCTAssertEqual(layout.ringCapacity & (layout.ringCapacity - 1), 0, "a power of two")
    XCTAssertGreaterThanOrEqual(layout.ringCapacity, needed)
    XCTAssertLessThan(layout.ringCapacity / 2, needed, "the smallest power of two that fits")
    let ringBytes =
      ChannelLayout.ringControlSize + layout.ringCapacity * ChannelLayout.descriptorSize
    XCTAssertEqual(ChannelLayout.ringControlSize, 384)
    XCTAssertEqual(ChannelLayout.descriptorSize, 32)
    XCTAssertGreaterThanOrEqual(layout.requestRingOffset, ChannelLayout.headerSize)
    XCTAssertEqual(layout.requestRingOffset % 4096, 0)
    XCTAssertEqual(layout.responseRingOffset % 4096, 0)
    XCTAssertGreaterThanOrEqual(layout.responseRingOffset, layout.requestRingOffset + ringBytes)
    var end = layout.responseRingOffset + ringBytes
    var firstSlot = 0
    for placed in layout.slotClasses {
      XCTAssertEqual(placed.arenaOffset % 4096, 0)
      XCTAssertGreaterThanOrEqual(placed.arenaOffset, end)
      XCTAssertEqual(placed.firstSlot, firstSlot)
      firstSlot += placed.spec.slotCount
      end = placed.arenaOffset + placed.spec.slotSize * placed.spec.slotCount
    }
    XCTAssertEqual(firstSlot, slots)
    XCTAssertEqual(layout.slotClasses.map(\.spec), ChannelParameters.standard.slotClasses)
    XCTAssertEqual(layout.streamWindowOffset, end, "the stream window follows the slots")
    XCTAssertEqual(layout.streamWindowOffset % 4096, 0)
    XCTAssertEqual(layout.streamWindowSize, 1 << 20)
    XCTAssertEqual(layout.segmentSize, end + layout.streamWindowSize)
    XCTAssertLessThanOrEqual(layout.streamWindowOffset, 2 << 20, "what a worker prefaults")
  }

  func testStreamWindowSizeIsChecked() {
    let slots = [SlotClassSpec(slotSize: 8192, slotCount: 4)]
    for bad in [-4096, 1000, ChannelLayout.maxStreamWindowSize + 4096] {
      XCTAssertThrowsError(
        try ChannelLayout(ChannelParameters(slotClasses: slots, streamWindowSize: bad)), "\(bad)")
    }
    let none = try? ChannelLayout(ChannelParameters(slotClasses: slots))
    XCTAssertEqual(none?.streamWindowSize, 0)
    XCTAssertEqual(none?.segmentSize, none?.streamWindowOffset)
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
      XCTAssertEqual(
        "\(error)",
        "incompatible channel: the broker speaks ABI version 9, this worker library version \(RB_ABI_VERSION)"
      )
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
