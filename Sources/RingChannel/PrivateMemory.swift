import Glibc

/// Memory of this process's own, committed only where it is touched: an anonymous mapping
/// with no swap reserved (MAP_NORESERVE) and no huge pages (a touched byte costs one 4 KiB
/// page, not 2 MiB). For large areas the front fills sparsely: the queue's chunks, the copies
/// of the requests it put in slots. Falls back to the heap when no mapping can be had (still
/// correct; the kernel commits malloc's large blocks lazily too).
public struct PrivateMemory {
  public let base: UnsafeMutableRawPointer
  public let byteCount: Int
  private let mapped: Bool

  public init(byteCount: Int) {
    self.byteCount = byteCount
    let length = max(byteCount, 1)
    let mapping = mmap(
      nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if let mapping, mapping != MAP_FAILED {
      _ = madvise(mapping, length, MADV_NOHUGEPAGE)
      base = mapping
      mapped = true
    } else {
      base = .allocate(byteCount: length, alignment: 4096)
      mapped = false
    }
  }

  /// Gives the memory back; the pointer is invalid afterwards.
  public func release() {
    if mapped { munmap(base, max(byteCount, 1)) } else { base.deallocate() }
  }
}
