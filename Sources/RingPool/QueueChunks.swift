import RingChannel

/// Where queued requests keep their bytes: one anonymous mapping of `capacity` chunks, taken
/// and given back in any order through a free stack, so that queueing a request allocates
/// nothing. The mapping is PrivateMemory, committed where touched: a chunk costs memory only
/// once a request was queued in it, so the default 4096 × 8 KiB is 32 MiB of address space,
/// and as much resident as the deepest the queue ever got.
final class QueueChunks {
  /// Holds a usual request (a GET with its headers, a small form post); larger ones, rare in
  /// the queue, take a malloc'd block of their own (RequestQueue.Storage.heap).
  static let chunkSize = 8192

  let capacity: Int
  private let chunks: PrivateMemory?
  private let free: UnsafeMutablePointer<Int32>
  private(set) var freeCount: Int

  init(capacity: Int) {
    self.capacity = capacity
    chunks = PrivateMemory(byteCount: capacity * Self.chunkSize)
    free = .allocate(capacity: max(capacity, 1))
    // Without the mapping every request takes the heap path: slower, still correct.
    freeCount = chunks == nil ? 0 : capacity
    for i in 0..<freeCount { free[i] = Int32(freeCount - 1 - i) }
  }

  deinit {
    chunks?.release()
    free.deallocate()
  }

  /// A free chunk's index, or nil when none is free.
  func take() -> Int? {
    guard freeCount > 0 else { return nil }
    freeCount -= 1
    return Int(free[freeCount])
  }

  func give(_ index: Int) {
    precondition(freeCount < capacity && index >= 0 && index < capacity, "chunk given back twice")
    free[freeCount] = Int32(index)
    freeCount += 1
  }

  func memory(_ index: Int) -> UnsafeMutableRawPointer { chunks!.base + index * Self.chunkSize }
}
