/// Fixed-size blocks for the head of each reply: the front's status line and framing headers,
/// the handler's header lines copied after them, and the blank line. Recycled, so answering a
/// request allocates nothing once the loop is warm.
struct HeadChunkPool {
  /// Leaves room for 1.8 KiB of handler header lines after the front's own (at most
  /// ReplyHeadWriter.maxLength): usual header blocks fit, only unusually large ones take a
  /// malloc'd block of their own.
  static let chunkSize = 2048
  /// Spare chunks kept for reuse (4 MiB): after a burst of 10k connections most go back to malloc.
  static let maxSpare = 2048
  private var spare: [UnsafeMutableRawPointer] = []

  mutating func take() -> UnsafeMutableRawPointer {
    spare.popLast() ?? .allocate(byteCount: Self.chunkSize, alignment: 64)
  }

  mutating func give(_ chunk: UnsafeMutableRawPointer) {
    if spare.count < Self.maxSpare { spare.append(chunk) } else { chunk.deallocate() }
  }
}
