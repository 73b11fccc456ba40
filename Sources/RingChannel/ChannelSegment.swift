import CRingABI
import Glibc

/// One worker's channel: a memfd mapped shared. The broker creates it (so nothing outlives the
/// broker, SIGKILL included: a memfd has no name in any file system); the worker and ringstat
/// attach to the same memfd, received by inheritance or SCM_RIGHTS.
public final class ChannelSegment {
  public let fd: Int32
  public let base: UnsafeMutableRawPointer
  public let size: Int
  public let layout: ChannelLayout
  public let isWritable: Bool

  public var header: UnsafeMutablePointer<rb_channel_header> {
    base.assumingMemoryBound(to: rb_channel_header.self)
  }

  /// Creates and maps a new segment, binds it to `node` when given, and prefaults every page
  /// but the stream window's so that no page fault lands on the hop (the window is touched
  /// only by replies larger than a slot, which pay for it once).
  public static func create(
    name: String, parameters: ChannelParameters, node: Int? = nil
  ) throws(ChannelError) -> ChannelSegment {
    let layout = try ChannelLayout(parameters)
    let fd = rb_memfd_create_sealed(name, UInt64(layout.segmentSize))
    guard fd >= 0 else { throw .system("memfd_create", errno: -fd) }
    let segment: ChannelSegment
    do {
      segment = try ChannelSegment(fd: fd, layout: layout, writable: true)
    } catch let error as ChannelError {
      close(fd)
      throw error
    }
    if let node { try MemoryPlacement.bind(segment.base, length: layout.segmentSize, toNode: node) }
    try MemoryPlacement.prefault(segment.base, length: layout.streamWindowOffset)
    segment.writeInitialHeader(parameters: parameters, node: node ?? -1)
    return segment
  }

  /// Maps an existing segment and checks that it is one this code understands. A read-only
  /// attach (ringstat) maps with PROT_READ and never writes. `attacher` names this side in the
  /// one-line refusal of a segment of another ABI version.
  public static func attach(
    fd: Int32, writable: Bool = true, attacher: String = "worker library"
  ) throws(ChannelError) -> ChannelSegment {
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .system("fstat", errno: errno) }
    let fileSize = Int(info.st_size)
    guard fileSize >= ChannelLayout.headerSize else {
      throw .incompatible("segment of \(fileSize) bytes is smaller than a channel header")
    }
    let header = try Self.readHeader(fd: fd)
    guard header.magic == RB_MAGIC else {
      throw .incompatible(
        "bad magic 0x\(String(header.magic, radix: 16)) (expected 0x\(String(RB_MAGIC, radix: 16)))"
      )
    }
    // Both versions in one line: the operator sees which side to rebuild. The broker wrote
    // the segment's version; a mismatch either way (older or newer worker) ends here.
    guard header.abi_version == RB_ABI_VERSION else {
      throw .incompatible(
        "the broker speaks ABI version \(header.abi_version), this \(attacher) version \(RB_ABI_VERSION)"
      )
    }
    // Int(exactly:) throughout: these words come from a segment another process can write
    // (ringstat and the admin endpoint read workers' channels), so no value may trap.
    guard Int(exactly: header.header_size) == ChannelLayout.headerSize,
      Int(exactly: header.segment_size) == fileSize
    else {
      throw .incompatible(
        "header says \(header.header_size) header bytes and \(header.segment_size) segment bytes; found \(ChannelLayout.headerSize) and \(fileSize)"
      )
    }
    let parameters = try parametersFromHeader(header)
    let layout = try ChannelLayout(parameters)
    guard layout.segmentSize == fileSize,
      Int(exactly: header.request_ring_offset) == layout.requestRingOffset,
      Int(exactly: header.response_ring_offset) == layout.responseRingOffset,
      Int(exactly: header.claims_offset) == layout.claimsOffset,
      Int(exactly: header.stream_window_offset) == layout.streamWindowOffset,
      header.reserved1 == 0,
      Int(exactly: header.request_capacity) == layout.ringCapacity,
      Int(exactly: header.response_capacity) == layout.ringCapacity
    else { throw .incompatible("segment layout does not match its header") }
    return try ChannelSegment(fd: fd, layout: layout, writable: writable)
  }

  private init(fd: Int32, layout: ChannelLayout, writable: Bool) throws(ChannelError) {
    let protection = writable ? PROT_READ | PROT_WRITE : PROT_READ
    guard let mapped = mmap(nil, layout.segmentSize, protection, MAP_SHARED, fd, 0),
      mapped != MAP_FAILED
    else { throw .system("mmap", errno: errno) }
    self.fd = fd
    self.base = mapped
    self.size = layout.segmentSize
    self.layout = layout
    self.isWritable = writable
  }

  deinit {
    munmap(base, size)
    close(fd)
  }

  // MARK: Regions

  public var requestRing: RingRegion { ring(at: layout.requestRingOffset) }
  public var responseRing: RingRegion { ring(at: layout.responseRingOffset) }

  private func ring(at offset: Int) -> RingRegion {
    let control = (base + offset).assumingMemoryBound(to: rb_ring_control.self)
    let entries = base + offset + ChannelLayout.ringControlSize
    return RingRegion(control: control, entries: entries, capacity: layout.ringCapacity)
  }

  /// Start of slot `index`, and its size; nil when the index names no slot.
  @inline(__always)
  public func slot(_ index: Int) -> UnsafeMutableRawBufferPointer? {
    for placed in layout.slotClasses where index < placed.firstSlot + placed.spec.slotCount {
      guard index >= placed.firstSlot else { return nil }
      let start = base + placed.arenaOffset + (index - placed.firstSlot) * placed.spec.slotSize
      return UnsafeMutableRawBufferPointer(start: start, count: placed.spec.slotSize)
    }
    return nil
  }

  /// The stream window (ringabi.h, "Stream window"); empty when the channel has none.
  public var streamWindow: UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(
      start: base + layout.streamWindowOffset, count: layout.streamWindowSize)
  }

  /// The claim word of slot `index` (ringabi.h, "Slot claims"); the caller checked the index.
  @inline(__always)
  public func claimWord(_ index: Int) -> UnsafeMutablePointer<UInt64> {
    (base + layout.claimsOffset + index * MemoryLayout<rb_slot_claim>.size)
      .assumingMemoryBound(to: UInt64.self)
  }

  public var slotCount: Int { layout.slotClasses.reduce(0) { $0 + $1.spec.slotCount } }

  // MARK: Header

  private func writeInitialHeader(parameters: ChannelParameters, node: Int) {
    let h = header
    h.pointee.magic = RB_MAGIC
    h.pointee.abi_version = RB_ABI_VERSION
    h.pointee.header_size = UInt32(ChannelLayout.headerSize)
    h.pointee.segment_size = UInt64(layout.segmentSize)
    h.pointee.request_capacity = UInt32(layout.ringCapacity)
    h.pointee.response_capacity = UInt32(layout.ringCapacity)
    h.pointee.request_ring_offset = UInt64(layout.requestRingOffset)
    h.pointee.response_ring_offset = UInt64(layout.responseRingOffset)
    h.pointee.claims_offset = UInt64(layout.claimsOffset)
    h.pointee.stream_window_offset = UInt64(layout.streamWindowOffset)
    h.pointee.stream_window_size = UInt32(layout.streamWindowSize)
    h.pointee.slot_class_count = UInt32(layout.slotClasses.count)
    h.pointee.slot_count = UInt32(slotCount)
    withUnsafeMutableBytes(of: &h.pointee.slot_classes) { raw in
      let classes = raw.bindMemory(to: rb_slot_class.self)
      for (i, placed) in layout.slotClasses.enumerated() {
        classes[i] = rb_slot_class(
          slot_size: UInt32(placed.spec.slotSize), slot_count: UInt32(placed.spec.slotCount),
          first_slot: UInt32(placed.firstSlot), reserved: 0,
          arena_offset: UInt64(placed.arenaOffset))
      }
    }
    h.pointee.numa_node = Int32(node)
    h.pointee.cpu = -1
    h.pointee.broker_pid = UInt32(getpid())
    h.pointee.state = UInt32(RB_STATE_CREATED)
    h.pointee.created_ns = rb_monotonic_ns()
  }

  private static func readHeader(fd: Int32) throws(ChannelError) -> rb_channel_header {
    var header = rb_channel_header()
    let count = withUnsafeMutableBytes(of: &header) { pread(fd, $0.baseAddress, $0.count, 0) }
    guard count == MemoryLayout<rb_channel_header>.size else {
      throw .system("pread of the channel header", errno: count < 0 ? errno : EIO)
    }
    return header
  }

  private static func parametersFromHeader(_ header: rb_channel_header) throws(ChannelError)
    -> ChannelParameters
  {
    let count = Int(header.slot_class_count)
    guard count >= 1, count <= Int(RB_MAX_SLOT_CLASSES) else {
      throw .incompatible("\(count) slot classes")
    }
    var copy = header.slot_classes
    let specs = withUnsafeBytes(of: &copy) { raw in
      raw.bindMemory(to: rb_slot_class.self).prefix(count).map {
        SlotClassSpec(slotSize: Int($0.slot_size), slotCount: Int($0.slot_count))
      }
    }
    return ChannelParameters(slotClasses: specs, streamWindowSize: Int(header.stream_window_size))
  }
}

/// The control block and descriptor array of one ring inside a mapped segment.
public struct RingRegion {
  public let control: UnsafeMutablePointer<rb_ring_control>
  /// 32-byte descriptors: rb_request_descriptor or rb_response_descriptor.
  public let entries: UnsafeMutableRawPointer
  public let capacity: Int
}
