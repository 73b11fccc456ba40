/// The body window of a slot whose request streams its body (ringabi.h, "Streamed request
/// bodies"): the bytes between the request and the reply room, `[align16(length),
/// reply_offset)`, split into RB_BODY_PARTS_IN_FLIGHT halves. Part n of a body lies at the
/// start of half n mod 2, so the front and the worker library agree on where every part must
/// be without any more shared state: the one home of that rule, for both sides.
public struct BodyWindow: Equatable {
  public let start: Int
  public let end: Int
  /// Bytes of one half: a part is at most this long.
  public let halfSize: Int

  /// Smallest window worth streaming through: each half holds at least this many bytes.
  public static let minimumHalf = 1024

  /// Nil when `[align16(requestLength), replyOffset)` is too small for two halves.
  public init?(requestLength: Int, replyOffset: Int) {
    let start = RequestSlotWriter.replyOffset(afterRequestBytes: requestLength)
    let half = ((replyOffset - start) / 2) & ~15
    guard half >= Self.minimumHalf else { return nil }
    self.start = start
    self.end = replyOffset
    self.halfSize = half
  }

  /// The offset, from the slot start, of part `index` of the body.
  @inline(__always)
  public func offset(ofPart index: UInt64) -> Int { start + Int(index & 1) * halfSize }

  /// Where a streamed request's reply starts in a slot of `slotSize` bytes, after a request of
  /// `requestLength` bytes: the reply keeps `replyRoom` bytes (16-aligned), the rest between the
  /// request and the reply is the window. Nil when the slot leaves no window.
  public static func replyOffset(slotSize: Int, requestLength: Int, replyRoom: Int) -> Int? {
    let replyOffset = (slotSize - replyRoom) & ~15
    guard replyOffset > 0, BodyWindow(requestLength: requestLength, replyOffset: replyOffset) != nil
    else { return nil }
    return replyOffset
  }

  /// Slot bytes a streamed request of `requestLength` bytes needs before its reply room.
  public static func requiredBytes(requestLength: Int) -> Int {
    RequestSlotWriter.replyOffset(afterRequestBytes: requestLength) + 2 * minimumHalf
  }
}
