/// Fixed-size blocks for the head bytes the front writes in front of each reply. Recycled, so
/// answering a request allocates nothing once the loop is warm.
struct HeadChunkPool {
  static let chunkSize = 256
  private var spare: [UnsafeMutableRawPointer] = []

  mutating func take() -> UnsafeMutableRawPointer {
    spare.popLast() ?? .allocate(byteCount: Self.chunkSize, alignment: 64)
  }

  mutating func give(_ chunk: UnsafeMutableRawPointer) {
    // Keep a bounded reserve: after a burst of 10k connections most blocks go back to malloc.
    if spare.count < 4096 { spare.append(chunk) } else { chunk.deallocate() }
  }
}
