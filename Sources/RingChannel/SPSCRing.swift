import CRingABI
import Glibc

/// Producer end of a single-producer single-consumer ring in shared memory.
///
/// Entries are written first, then the head is published with a release store, once per batch
/// (`publish()`), never per entry. The consumer's tail is read only when the cached copy says
/// the ring looks full. The tail is written by the other process: a value that cannot be right
/// (ahead of the head, or more than a ring behind) is reported, never trusted.
public struct RingProducer<Entry> {
  @usableFromInline let control: UnsafeMutablePointer<rb_ring_control>
  @usableFromInline let entries: UnsafeMutablePointer<Entry>
  @usableFromInline let mask: UInt64
  @usableFromInline var head: UInt64
  @usableFromInline var publishedHead: UInt64
  @usableFromInline var cachedTail: UInt64

  public init(_ region: RingRegion) {
    control = region.control
    entries = region.entries.assumingMemoryBound(to: Entry.self)
    mask = UInt64(region.capacity - 1)
    head = rb_load_relaxed_u64(&region.control.pointee.head)
    publishedHead = head
    cachedTail = rb_load_acquire_u64(&region.control.pointee.tail)
  }

  public enum PushResult { case pushed, full, corruptTail }

  /// Writes `descriptor` into the next entry; it becomes visible at the next `publish()`.
  @inlinable @inline(__always)
  public mutating func push(_ descriptor: Entry) -> PushResult {
    if head &- cachedTail > mask {
      let tail = rb_load_acquire_u64(&control.pointee.tail)
      guard tail >= cachedTail, tail <= publishedHead else { return .corruptTail }
      cachedTail = tail
      if head &- cachedTail > mask { return .full }
    }
    entries[Int(head & mask)] = descriptor
    head &+= 1
    return .pushed
  }

  /// Entries pushed but not yet published.
  public var unpublished: Int { Int(head &- publishedHead) }

  /// Makes every pushed entry visible to the consumer.
  @inlinable @inline(__always)
  public mutating func publish() {
    guard head != publishedHead else { return }
    rb_store_release_u64(&control.pointee.head, head)
    publishedHead = head
  }

  /// After a publish: true when the consumer had gone to sleep and must be woken. It clears the
  /// consumer's sleeping flag and bumps the wake word, so that the caller issues exactly one
  /// FUTEX_WAKE on `wakeWord` (by syscall, or as an io_uring operation).
  @inlinable @inline(__always)
  public func claimWake() -> Bool {
    // Pairs with the consumer's fence between setting `consumer_sleeping` and re-reading head:
    // either it sees our head, or we see its flag.
    rb_fence_seq_cst()
    guard rb_load_relaxed_u32(&control.pointee.consumer_sleeping) != 0 else { return false }
    guard rb_exchange_u32(&control.pointee.consumer_sleeping, 0) != 0 else { return false }
    _ = rb_fetch_add_u32(&control.pointee.wake_word, 1)
    return true
  }

  public var wakeWord: UnsafeMutablePointer<UInt32> {
    UnsafeMutableRawPointer(control).advanced(
      by: MemoryLayout<rb_ring_control>.offset(of: \.wake_word)!
    )
    .assumingMemoryBound(to: UInt32.self)
  }

  /// Wakes a consumer that `claimWake()` said is asleep, with a plain futex syscall.
  public func wakeConsumer() { _ = rb_futex_wake(wakeWord, 1) }
}

/// Consumer end of a single-producer single-consumer ring in shared memory.
///
/// The head is written by the other process: a head that moved backwards or more than a ring
/// ahead of the tail is reported as corrupt.
public struct RingConsumer<Entry> {
  @usableFromInline let control: UnsafeMutablePointer<rb_ring_control>
  @usableFromInline let entries: UnsafeMutablePointer<Entry>
  @usableFromInline let mask: UInt64
  @usableFromInline var tail: UInt64
  @usableFromInline var releasedTail: UInt64
  @usableFromInline var cachedHead: UInt64

  public init(_ region: RingRegion) {
    control = region.control
    entries = region.entries.assumingMemoryBound(to: Entry.self)
    mask = UInt64(region.capacity - 1)
    tail = rb_load_relaxed_u64(&region.control.pointee.tail)
    releasedTail = tail
    cachedHead = tail
  }

  public enum PopResult {
    case entry(Entry)
    case empty
    case corruptHead
  }

  /// Takes the next published entry. The slot the entry occupied is handed back to the
  /// producer at the next `release()`.
  @inlinable @inline(__always)
  public mutating func pop() -> PopResult {
    if tail == cachedHead {
      let head = rb_load_acquire_u64(&control.pointee.head)
      guard head >= tail, head &- tail <= mask &+ 1 else { return .corruptHead }
      if head == tail { return .empty }
      cachedHead = head
    }
    let descriptor = entries[Int(tail & mask)]
    tail &+= 1
    return .entry(descriptor)
  }

  /// True when an entry is published and not yet taken (reads the shared head).
  @inlinable @inline(__always)
  public mutating func hasPending() -> Bool {
    if tail != cachedHead { return true }
    return rb_load_acquire_u64(&control.pointee.head) != tail
  }

  /// Hands consumed entries back to the producer.
  @inlinable @inline(__always)
  public mutating func release() {
    guard tail != releasedTail else { return }
    rb_store_release_u64(&control.pointee.tail, tail)
    releasedTail = tail
  }

  public var wakeWord: UnsafeMutablePointer<UInt32> {
    UnsafeMutableRawPointer(control).advanced(
      by: MemoryLayout<rb_ring_control>.offset(of: \.wake_word)!
    )
    .assumingMemoryBound(to: UInt32.self)
  }

  /// First half of going to sleep: returns the wake word to wait on, or nil when an entry
  /// arrived meanwhile (then the consumer must not sleep).
  @inlinable
  public mutating func prepareToSleep() -> UInt32? {
    let word = rb_load_acquire_u32(wakeWord)
    rb_store_relaxed_u32(&control.pointee.consumer_sleeping, 1)
    rb_fence_seq_cst()
    if hasPending() {
      rb_store_relaxed_u32(&control.pointee.consumer_sleeping, 0)
      return nil
    }
    return word
  }

  /// After waking (or giving up waiting): the consumer runs again.
  @inlinable
  public func markAwake() {
    rb_store_relaxed_u32(&control.pointee.consumer_sleeping, 0)
  }

  /// Sleeps on the futex until woken, the timeout passes (nanoseconds, -1: none), or a signal.
  /// Returns true when the timeout ran out.
  @discardableResult
  public func sleep(expecting word: UInt32, timeoutNanoseconds: Int64) -> Bool {
    rb_futex_wait(wakeWord, word, timeoutNanoseconds) == -ETIMEDOUT
  }
}
