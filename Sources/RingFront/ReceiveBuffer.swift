import Glibc

/// The bytes a connection received and has not consumed yet, in one contiguous allocation:
/// `[start, end)` is data, `[end, capacity)` is where the next recv writes.
///
/// Contiguity is what lets the loop hand the request head and a Content-Length body to the
/// handler in place. The buffer starts small so idle connections stay cheap, grows on demand up
/// to a hard limit, and shrinks back once a large request is done. It must not move while a recv
/// into it is in flight; the loop only calls the mutating methods when none is.
struct ReceiveBuffer {
  static let initialCapacity = 4096
  /// Above this, an emptied buffer is given back and reallocated small.
  static let shrinkAbove = 64 * 1024

  private(set) var base: UnsafeMutableRawPointer?
  private(set) var capacity = 0
  private(set) var start = 0
  private(set) var end = 0

  var count: Int { end - start }
  var isEmpty: Bool { end == start }
  var freeSpace: Int { capacity - end }

  var readable: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) + start }, count: count)
  }

  /// Where the next recv writes; `reserve` first.
  var writable: UnsafeMutableRawPointer { base! + end }

  /// Makes room for at least `wanted` more bytes after the data, moving data to the front and
  /// growing up to `limit` total bytes. Returns false when the limit leaves no room at all.
  mutating func reserve(atLeast wanted: Int, limit: Int) -> Bool {
    if base == nil {
      let size = max(Self.initialCapacity, min(wanted, limit))
      base = malloc(size)
      capacity = size
      start = 0
      end = 0
      return base != nil
    }
    if freeSpace >= wanted { return true }
    if start > 0 {
      if count > 0 { memmove(base!, base! + start, count) }
      end = count
      start = 0
      if freeSpace >= wanted { return true }
    }
    guard capacity < limit else { return freeSpace > 0 }
    var newCapacity = capacity
    while newCapacity - end < wanted && newCapacity < limit { newCapacity *= 2 }
    newCapacity = min(newCapacity, limit)
    guard let grown = realloc(base, newCapacity) else { return freeSpace > 0 }
    base = grown
    capacity = newCapacity
    return freeSpace > 0
  }

  /// Records `n` bytes the kernel wrote at `writable`.
  mutating func commit(_ n: Int) { end += n }

  /// Drops `n` bytes from the front; an emptied buffer restarts at offset 0.
  mutating func consume(_ n: Int) {
    start += n
    if start == end {
      start = 0
      end = 0
    }
  }

  mutating func clear() {
    start = 0
    end = 0
  }

  /// Removes `n` bytes at `offset` (relative to `start`), closing the gap: chunked framing is cut
  /// out this way so the head stays contiguous and the buffer does not fill with chunk sizes.
  mutating func remove(at offset: Int, count n: Int) {
    guard n > 0 else { return }
    let from = start + offset
    let tail = end - (from + n)
    if tail > 0 { memmove(base! + from, base! + from + n, tail) }
    end -= n
  }

  /// Gives a large, empty buffer back; the next reserve allocates a small one.
  mutating func shrinkIfIdle() {
    guard isEmpty, capacity > Self.shrinkAbove else { return }
    free(base)
    base = nil
    capacity = 0
  }

  mutating func releaseMemory() {
    free(base)
    base = nil
    capacity = 0
    start = 0
    end = 0
  }
}
