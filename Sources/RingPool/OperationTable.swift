/// The dispatcher's outstanding io_uring operations and reply releases. Each gets a token, its
/// index in this table plus one, which is all that goes into the SQE's user_data (56 bits) or a
/// reply's release item. The entry is freed by the one completion or release that comes back
/// for it: every operation used here completes exactly once (FUTEX_WAIT, FUTEX_WAKE, a one-shot
/// POLL_ADD on a pidfd, an ASYNC_CANCEL), and the front loop releases each reply token exactly
/// once. So a token never outlives what it names, and no identity is packed into it: no field
/// can wrap around into a live value, whatever the number of workers or launches.
///
/// A free list over a plain array: it grows to the peak number of operations outstanding at
/// once (bounded by slots and workers), then allocates nothing more.
struct OperationTable {
  enum Kind: UInt8 {
    /// A whole reply, or the last part of a streamed one: its release frees the slot.
    case replyRelease
    /// A streamed reply's part before the last: its release credits the worker.
    case partRelease
    case futexWait
    case futexWake
    case workerExit
    case cancel
  }

  struct Operation: Equatable {
    var kind: Kind
    /// The worker position (WorkerHandle.index).
    var worker: Int
    /// The worker's generation when the operation started: never reused for a position.
    var generation: UInt64
    var slot: Int = 0
  }

  /// How a token comes back: as an io_uring completion, or as a reply release.
  enum Arrival {
    case completion
    case release
  }

  private var entries: [Operation?] = []
  private var freeIndices: [Int] = []

  /// Operations outstanding.
  private(set) var count = 0

  /// Records `operation`; its token is never 0.
  mutating func insert(_ operation: Operation) -> UInt64 {
    count += 1
    if let index = freeIndices.popLast() {
      entries[index] = operation
      return UInt64(index) + 1
    }
    entries.append(operation)
    return UInt64(entries.count)
  }

  mutating func insert(_ kind: Kind, worker: Int, generation: UInt64, slot: Int = 0) -> UInt64 {
    insert(Operation(kind: kind, worker: worker, generation: generation, slot: slot))
  }

  /// Takes the operation back when its completion or release arrives. Nil for a token that
  /// names nothing outstanding that comes back this way; such a token (a bug elsewhere) is
  /// ignored, and an entry it does not own stays for its owner.
  mutating func remove(_ token: UInt64, arrivingAs arrival: Arrival) -> Operation? {
    guard token >= 1, token <= UInt64(entries.count) else { return nil }
    let index = Int(token - 1)
    guard let operation = entries[index],
      (operation.kind == .replyRelease || operation.kind == .partRelease)
        == (arrival == .release)
    else { return nil }
    entries[index] = nil
    freeIndices.append(index)
    count -= 1
    return operation
  }
}
