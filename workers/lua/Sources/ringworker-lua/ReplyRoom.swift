import CRingABI
import RingChannel
import RingWorker

/// How many reply bytes (header lines and body) fit in a request's slot. The worker library
/// tells only once the reply has started, too late to answer 500 instead, so this computes it
/// from the channel layout: the reply area starts at the request's end rounded up to 16 bytes
/// (RequestSlotWriter) and ends with the slot.
struct ReplyRoom {
  typealias SlotClass = (arena: UInt, end: UInt, slotSize: UInt)
  /// Kept for the worker's life; a buffer rather than an array, so no reference counting per
  /// request.
  private let classes: UnsafeBufferPointer<SlotClass>

  init(segment: ChannelSegment) {
    let classes = segment.layout.slotClasses.map { placed -> SlotClass in
      let arena = UInt(bitPattern: segment.base + placed.arenaOffset)
      let size = UInt(placed.spec.slotSize)
      return (arena, arena + size * UInt(placed.spec.slotCount), size)
    }
    let buffer = UnsafeMutableBufferPointer<SlotClass>.allocate(capacity: classes.count)
    _ = buffer.initialize(from: classes)
    self.classes = UnsafeBufferPointer(buffer)
  }

  func available(for request: Request) -> Int {
    // The method lies in the slot's raw head bytes, so it says which slot the request is in.
    let address = UInt(bitPattern: request.method.baseAddress)
    for placed in classes where address >= placed.arena && address < placed.end {
      let slot = placed.arena + (address - placed.arena) / placed.slotSize * placed.slotSize
      let head = UnsafePointer<rb_request_head>(bitPattern: slot)!
      let replyOffset = (UInt(head.pointee.request_size) + 15) & ~15
      return replyOffset < placed.slotSize ? Int(placed.slotSize - replyOffset) : 0
    }
    return 0
  }
}
