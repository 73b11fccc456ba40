import CURing

/// io_uring futex operations (Linux 6.7) on a shared 32-bit word, filled by hand: liburing 2.3
/// has no helpers. Layout as in later liburing: fd = futex2 flags, addr = word, off = value,
/// addr3 = mask. No FUTEX2_PRIVATE flag: the word is in memory shared with another process.
/// The mechanism behind `FrontLoop.waitOnWord` and `wakeWord` (FrontLoop+Operations).
enum FutexOperations {
  private static let sizeU32: Int32 = 0x02  // FUTEX2_SIZE_U32
  private static let matchAny: UInt64 = 0xFFFF_FFFF  // FUTEX_BITSET_MATCH_ANY

  /// Completes when the word is woken, or at once (-EAGAIN) if it no longer holds `expected`.
  static func prepareWait(
    _ sqe: UnsafeMutablePointer<io_uring_sqe>, word: UnsafeMutablePointer<UInt32>, expected: UInt32
  ) {
    sqe.pointee.opcode = UInt8(RB_IORING_OP_FUTEX_WAIT)
    sqe.pointee.fd = sizeU32
    sqe.pointee.addr = UInt64(UInt(bitPattern: word))
    sqe.pointee.off = UInt64(expected)
    sqe.pointee.addr3 = matchAny
  }

  /// Wakes one waiter on the word.
  static func prepareWake(
    _ sqe: UnsafeMutablePointer<io_uring_sqe>, word: UnsafeMutablePointer<UInt32>
  ) {
    sqe.pointee.opcode = UInt8(RB_IORING_OP_FUTEX_WAKE)
    sqe.pointee.fd = sizeU32
    sqe.pointee.addr = UInt64(UInt(bitPattern: word))
    sqe.pointee.off = 1
    sqe.pointee.addr3 = matchAny
  }
}
