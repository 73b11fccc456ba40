/// What a dispatcher's io_uring operation or reply release is about, packed into the 56 bits a
/// FrontLoop gives a handler: kind (4 bits), worker (12), generation (16), slot (24).
struct HandlerToken: Equatable {
  enum Kind: UInt64 {
    case replyRelease = 1
    case futexWait = 2
    case futexWake = 3
    case workerExit = 4
  }

  var kind: Kind
  var worker: Int
  var generation: UInt32
  var slot: Int

  init(_ kind: Kind, worker: Int, generation: UInt32, slot: Int = 0) {
    self.kind = kind
    self.worker = worker
    self.generation = generation
    self.slot = slot
  }

  init?(_ raw: UInt64) {
    guard let kind = Kind(rawValue: raw >> 52) else { return nil }
    self.kind = kind
    worker = Int((raw >> 40) & 0xFFF)
    generation = UInt32((raw >> 24) & 0xFFFF)
    slot = Int(raw & 0xFF_FFFF)
  }

  var raw: UInt64 {
    kind.rawValue << 52 | UInt64(worker & 0xFFF) << 40 | UInt64(generation & 0xFFFF) << 24
      | UInt64(slot & 0xFF_FFFF)
  }
}
