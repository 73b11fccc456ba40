import Glibc

/// Memory of this process's own, committed only where it is touched: an anonymous mapping
/// with no swap reserved (MAP_NORESERVE) and no huge pages (a touched byte costs one 4 KiB
/// page, not 2 MiB). For large areas the front fills sparsely: the queue's chunks, the copies
/// of the requests it put in slots.
public struct PrivateMemory {
  public let base: UnsafeMutableRawPointer
  public let byteCount: Int

  /// Nil when the kernel refuses the mapping (out of address space, or a strict overcommit
  /// limit reached).
  public init?(byteCount: Int) {
    guard byteCount > 0,
      let mapping = mmap(
        nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
        0),
      mapping != MAP_FAILED
    else { return nil }
    _ = madvise(mapping, byteCount, MADV_NOHUGEPAGE)
    base = mapping
    self.byteCount = byteCount
  }

  /// Gives the memory back; the pointer is invalid afterwards.
  public func release() { munmap(base, byteCount) }
}
