import CRingABI

/// One size class of the slot arena: `slotCount` slots of `slotSize` bytes.
public struct SlotClassSpec: Equatable {
  public var slotSize: Int
  public var slotCount: Int

  public init(slotSize: Int, slotCount: Int) {
    self.slotSize = slotSize
    self.slotCount = slotCount
  }
}

/// What a channel segment is made of. Ring capacities are derived from the slot count, so that a
/// ring can never be full while the protocol holds: every message in flight belongs to a slot,
/// and a slot has at most RB_RING_ENTRIES_PER_SLOT of them in each ring.
public struct ChannelParameters: Equatable {
  public var slotClasses: [SlotClassSpec]

  /// 26 slots of 76 KiB: under 2 MiB of shared memory per worker with the header, rings and
  /// claims, allocated once. Sized for the hop, not for the largest body: bodies of any size
  /// stream through a slot in parts (ringabi.h). A slot holds the largest request head
  /// (32 KiB and its header table) with the minimum reply room, and a 64 KiB reply in one
  /// part, so that common pages need no credit round trip. 26 rather than fewer, larger
  /// slots: two workers then hold 50 clients' requests at once, where 20 slots of 96 KiB
  /// sent every request beyond 40 through the front's queue (a copy and an allocation each:
  /// hello at c=50 ran in a slow mode). Measured with bench/dispatch.sh and
  /// bench/large-reply.sh (README, "Measuring").
  ///
  /// The 1 MiB stream window (ringabi.h, "Stream window") carries the body of one large reply
  /// at a time in two parts of 512 KiB: a 1 MiB reply then costs two ring round trips instead
  /// of ~30 through a slot's halves (on this 2-core VM, wrk -c50 on 1 MiB replies: ~43 context
  /// switches per request through the slot, ~2 through the window). It is not prefaulted, so
  /// it costs memory only once a worker streamed a reply larger than its slot.
  public static let standard = ChannelParameters(
    slotClasses: [SlotClassSpec(slotSize: 76 * 1024, slotCount: 26)],
    streamWindowSize: 1 << 20)

  /// Bytes of the stream window: a multiple of RB_PAGE, 0 for none.
  public var streamWindowSize: Int

  public init(slotClasses: [SlotClassSpec], streamWindowSize: Int = 0) {
    self.slotClasses = slotClasses
    self.streamWindowSize = streamWindowSize
  }

  public var totalSlots: Int { slotClasses.reduce(0) { $0 + $1.slotCount } }
}

/// Byte offsets of every region of a segment, computed from parameters (broker side) and checked
/// against the header (attach side).
public struct ChannelLayout: Equatable {
  public let ringCapacity: Int
  public let requestRingOffset: Int
  public let responseRingOffset: Int
  /// rb_slot_claim[totalSlots] (ringabi.h, "Slot claims").
  public let claimsOffset: Int
  public let slotClasses: [(spec: SlotClassSpec, firstSlot: Int, arenaOffset: Int)]
  /// ringabi.h, "Stream window": right after the slots, page-aligned; size 0 when none.
  public let streamWindowOffset: Int
  public let streamWindowSize: Int
  public let segmentSize: Int

  public static func == (lhs: ChannelLayout, rhs: ChannelLayout) -> Bool {
    lhs.segmentSize == rhs.segmentSize && lhs.ringCapacity == rhs.ringCapacity
      && lhs.slotClasses.map(\.arenaOffset) == rhs.slotClasses.map(\.arenaOffset)
      && lhs.streamWindowOffset == rhs.streamWindowOffset
      && lhs.streamWindowSize == rhs.streamWindowSize
  }

  public static let headerSize = MemoryLayout<rb_channel_header>.size
  public static let ringControlSize = MemoryLayout<rb_ring_control>.size
  public static let descriptorSize = MemoryLayout<rb_request_descriptor>.size

  public init(_ parameters: ChannelParameters) throws(ChannelError) {
    let classes = parameters.slotClasses
    guard !classes.isEmpty, classes.count <= Int(RB_MAX_SLOT_CLASSES) else {
      throw .invalidParameters("between 1 and \(RB_MAX_SLOT_CLASSES) slot classes are needed")
    }
    for spec in classes {
      guard spec.slotSize >= 4096, spec.slotSize % 4096 == 0, spec.slotSize <= Int(UInt32.max) / 2
      else {
        throw .invalidParameters("slot size \(spec.slotSize) must be a positive multiple of 4096")
      }
      // Bounded so that no size below can overflow, whatever a (hostile) header claims.
      guard (1...Self.maxSlotsPerClass).contains(spec.slotCount) else {
        throw .invalidParameters(
          "slot count \(spec.slotCount) must be between 1 and \(Self.maxSlotsPerClass)")
      }
    }
    let window = parameters.streamWindowSize
    guard window >= 0, window % Int(RB_PAGE) == 0, window <= Self.maxStreamWindowSize else {
      throw .invalidParameters(
        "stream window size \(window) must be a multiple of \(RB_PAGE) up to \(Self.maxStreamWindowSize)"
      )
    }
    // Enough entries for everything the streaming protocol lets a slot have in flight, plus
    // the shutdown message (ringabi.h, RB_RING_ENTRIES_PER_SLOT).
    ringCapacity = Self.nextPowerOfTwo(Int(RB_RING_ENTRIES_PER_SLOT) * parameters.totalSlots + 1)
    var offset = Self.alignUp(Self.headerSize, Int(RB_PAGE))
    let ringBytes = Self.alignUp(
      Self.ringControlSize + ringCapacity * Self.descriptorSize, Int(RB_PAGE))
    requestRingOffset = offset
    offset += ringBytes
    responseRingOffset = offset
    offset += ringBytes
    claimsOffset = offset
    offset += Self.alignUp(
      parameters.totalSlots * MemoryLayout<rb_slot_claim>.size, Int(RB_PAGE))
    var placed: [(SlotClassSpec, Int, Int)] = []
    var firstSlot = 0
    for spec in classes {
      placed.append((spec, firstSlot, offset))
      firstSlot += spec.slotCount
      offset += spec.slotSize * spec.slotCount
    }
    slotClasses = placed.map { (spec: $0.0, firstSlot: $0.1, arenaOffset: $0.2) }
    streamWindowOffset = offset
    streamWindowSize = window
    segmentSize = offset + window
  }

  public static let maxSlotsPerClass = 1 << 16
  /// Parts are at most half the window and body_length is 32 bits.
  public static let maxStreamWindowSize = 1 << 30

  static func alignUp(_ value: Int, _ alignment: Int) -> Int {
    (value + alignment - 1) & ~(alignment - 1)
  }

  static func nextPowerOfTwo(_ value: Int) -> Int {
    var power = 1
    while power < value { power <<= 1 }
    return power
  }
}
