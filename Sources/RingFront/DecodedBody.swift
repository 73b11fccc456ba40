import Glibc

/// Where a chunked body is reassembled without its framing, so the handler sees one contiguous
/// body. Kept across requests of a connection; given back when a large body is done.
struct DecodedBody {
  private(set) var base: UnsafeMutableRawPointer?
  private(set) var capacity = 0
  private(set) var count = 0

  var bytes: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: count)
  }

  mutating func append(_ chunk: UnsafeRawBufferPointer) {
    guard chunk.count > 0 else { return }
    if count + chunk.count > capacity {
      var newCapacity = max(capacity, 4096)
      while newCapacity < count + chunk.count { newCapacity *= 2 }
      base = realloc(base, newCapacity)
      precondition(base != nil, "out of memory for a request body")
      capacity = newCapacity
    }
    (base! + count).copyMemory(from: chunk.baseAddress!, byteCount: chunk.count)
    count += chunk.count
  }

  mutating func reset() {
    count = 0
    if capacity > ReceiveBuffer.shrinkAbove { releaseMemory() }
  }

  mutating func releaseMemory() {
    free(base)
    base = nil
    capacity = 0
    count = 0
  }
}
