import Glibc

/// One sendmsg in flight: its msghdr and iovecs (which must stay put until the kernel is done
/// with them) and, for a zero-copy send, the memory that may be released only after the
/// kernel's notification.
struct SendOperation {
  static let maxIovecs = 64

  let message: UnsafeMutablePointer<msghdr>
  let iovecs: UnsafeMutablePointer<iovec>
  var connection: UInt32 = 0
  var length = 0
  var zeroCopy = false
  /// The send's own completion arrived.
  var completed = false
  /// For zero-copy: the notification arrived (or none was promised).
  var notified = false
  /// Replies that finished while this zero-copy send was the connection's latest one.
  var deferred: [ReleaseItem] = []

  init() {
    message = .allocate(capacity: 1)
    iovecs = .allocate(capacity: Self.maxIovecs)
  }
}

/// Send operations of one loop, indexed by the payload of their user_data. Records are reused;
/// a zero-copy record lives until its notification.
struct SendOperationTable {
  private(set) var operations: [SendOperation] = []
  private var spare: [UInt32] = []

  mutating func allocate(connection: UInt32) -> UInt32 {
    let index: UInt32
    if let reused = spare.popLast() {
      index = reused
    } else {
      operations.append(SendOperation())
      index = UInt32(operations.count - 1)
    }
    operations[Int(index)].connection = connection
    operations[Int(index)].length = 0
    operations[Int(index)].zeroCopy = false
    operations[Int(index)].completed = false
    operations[Int(index)].notified = false
    return index
  }

  mutating func free(_ index: UInt32) {
    precondition(
      operations[Int(index)].deferred.isEmpty, "send operation freed with memory still held")
    spare.append(index)
  }

  subscript(index: UInt32) -> SendOperation {
    get { operations[Int(index)] }
    _modify { yield &operations[Int(index)] }
  }

  /// Empties the deferred list of `index`, keeping its capacity for reuse.
  mutating func takeDeferred(_ index: UInt32, into items: inout [ReleaseItem]) {
    items.append(contentsOf: operations[Int(index)].deferred)
    operations[Int(index)].deferred.removeAll(keepingCapacity: true)
  }
}
