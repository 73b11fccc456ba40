import HTTP1
import RingChannel
import RingFront

/// Requests that found every worker full wait here, copied out of the connection's buffer
/// (the only case where the front keeps a second copy), until a worker has room or their
/// deadline passes. Bounded in count and bytes: beyond that, the front answers 503 at once.
///
/// Allocation-free once built: with two workers' 52 slots and 200 clients, most requests pass
/// through here, so this is the request path too. Bytes go into QueueChunks; entries are plain
/// values in an array reserved for `maxCount`. A parsed request keeps no RequestHead (whose
/// header array would be copied on the connection's next parse): what the slot writer needs of
/// it, its parts (`Entry.parts`) and header ranges (`HeaderTable`, stored before its bytes),
/// is kept as plain values, so it leaves without being parsed again.
struct RequestQueue {
  /// What an entry's bytes are.
  enum Kind {
    /// A request as parsed from a connection: head (`headLength` bytes) then body.
    case parsed
    /// A request already laid out in a slot (taken back from a worker that died or stalled
    /// before it took it, from the front's own copy): its offsets are slot-relative, so it is
    /// copied into the next slot as is.
    case slotImage
    /// The head of a request whose body streams: the body is still unread, in the client's
    /// socket, and follows once the request has a slot.
    case streamedHead
  }

  /// Where an entry's bytes live.
  enum Storage {
    case chunk(Int)
    /// Larger than a chunk, or no chunk free: a block of its own, freed with the entry.
    case heap(UnsafeMutableRawPointer)
  }

  struct Entry {
    var ticket: ReplyTicket
    var kind: Kind
    var deadline: UInt64
    /// The request's bytes (its HeaderTable, stored before them, counts apart).
    var size: Int
    /// `parsed`: the head's bytes before the body.
    var headLength = 0
    /// `parsed` and `streamedHead`: the head's header lines (their ranges are the HeaderTable).
    var headerCount = 0
    /// `parsed` and `streamedHead`.
    var origin: RequestOrigin?
    /// `parsed` and `streamedHead`: where method, target, path and query lie, and the flags.
    var parts: RequestSlotWriter.Parts?
    /// `slotImage`.
    var replyOffset = 0
    fileprivate var storage = Storage.chunk(0)
  }

  let maxCount: Int
  let maxBytes: Int
  private var entries: [Entry] = []
  private var head = 0
  private(set) var bytes = 0
  private let chunks: QueueChunks

  init(maxCount: Int, maxBytes: Int) {
    self.maxCount = maxCount
    self.maxBytes = maxBytes
    chunks = QueueChunks(capacity: maxCount)
    // Compaction keeps at most 2 × maxCount + 64 entries (`compactIfWorthIt`).
    entries.reserveCapacity(2 * maxCount + 128)
  }

  var count: Int { entries.count - head }
  var isEmpty: Bool { count == 0 }

  /// Chunks holding queued bytes right now (for tests: every one comes back).
  var chunksInUse: Int { chunks.capacity - chunks.freeCount }

  mutating func append(_ request: IncomingRequest, ticket: ReplyTicket, deadline: UInt64) -> Bool {
    var entry = Entry(
      ticket: ticket, kind: .parsed, deadline: deadline,
      size: request.head.count + request.body.count)
    entry.headLength = request.head.count
    return append(entry, parsed: request, request.head, request.body)
  }

  mutating func appendStreamedHead(
    _ request: IncomingRequest, ticket: ReplyTicket, deadline: UInt64
  ) -> Bool {
    let entry = Entry(
      ticket: ticket, kind: .streamedHead, deadline: deadline, size: request.head.count)
    return append(
      entry, parsed: request, request.head, UnsafeRawBufferPointer(start: nil, count: 0))
  }

  mutating func appendSlotImage(
    _ image: UnsafeRawBufferPointer, replyOffset: Int, ticket: ReplyTicket, deadline: UInt64
  ) -> Bool {
    var entry = Entry(ticket: ticket, kind: .slotImage, deadline: deadline, size: image.count)
    entry.replyOffset = replyOffset
    return append(entry, parsed: nil, image, UnsafeRawBufferPointer(start: nil, count: 0))
  }

  /// Stores the header table of `parsed` (when given), then `first`, then `second`, for
  /// `entry`; false when the queue is full.
  private mutating func append(
    _ entry: Entry, parsed request: IncomingRequest?, _ first: UnsafeRawBufferPointer,
    _ second: UnsafeRawBufferPointer
  ) -> Bool {
    var entry = entry
    if let request {
      entry.headerCount = request.parsed.headers.count
      entry.origin = request.origin
      entry.parts = RequestSlotWriter.Parts(request.parsed)
    }
    let tableSize = entry.headerCount * HeaderTable.entrySize
    let size = tableSize + entry.size
    guard count < maxCount, bytes + size <= maxBytes else { return false }
    let memory: UnsafeMutableRawPointer
    if size <= QueueChunks.chunkSize, let index = chunks.take() {
      entry.storage = .chunk(index)
      memory = chunks.memory(index)
    } else {
      memory = .allocate(byteCount: max(size, 1), alignment: 16)
      entry.storage = .heap(memory)
    }
    if let request { HeaderTable.store(request.parsed.headers, at: memory) }
    let bytesStart = memory + tableSize
    if !first.isEmpty { bytesStart.copyMemory(from: first.baseAddress!, byteCount: first.count) }
    if !second.isEmpty {
      (bytesStart + first.count).copyMemory(from: second.baseAddress!, byteCount: second.count)
    }
    entries.append(entry)
    bytes += size
    return true
  }

  /// What is stored for an entry: its header table (empty for a slot image), then its bytes.
  struct Stored {
    var headers: HeaderTable
    var bytes: UnsafeRawBufferPointer
  }

  private func stored(_ entry: Entry) -> Stored {
    let base: UnsafeRawPointer
    switch entry.storage {
    case .chunk(let index): base = UnsafeRawPointer(chunks.memory(index))
    case .heap(let memory): base = UnsafeRawPointer(memory)
    }
    let tableSize = entry.headerCount * HeaderTable.entrySize
    return Stored(
      headers: HeaderTable(base: base, count: entry.headerCount),
      bytes: UnsafeRawBufferPointer(start: base + tableSize, count: entry.size))
  }

  private mutating func release(_ entry: Entry) {
    bytes -= entry.headerCount * HeaderTable.entrySize + entry.size
    switch entry.storage {
    case .chunk(let index): chunks.give(index)
    case .heap(let memory): memory.deallocate()
    }
  }

  /// What `visit` decides for one entry.
  enum Decision {
    case remove
    case keep
    /// Keep this one and leave the rest unvisited (nothing behind it can be placed now).
    case keepAndStop
  }

  /// Visits the entries in order, each with what is stored for it (valid during the call), and
  /// removes those `decide` is done with; the others keep their places (a request that cannot
  /// be placed yet must not hold up those behind it). Stopping early costs nothing for the
  /// entries left unvisited: under overload the queue holds thousands, and the dispatcher
  /// visits it on every loop turn.
  mutating func visit(_ decide: (Entry, Stored) -> Decision) {
    var kept = head
    var read = head
    while read < entries.count {
      let entry = entries[read]
      let decision = decide(entry, stored(entry))
      if decision == .remove {
        release(entry)
      } else {
        if kept != read { entries.swapAt(kept, read) }
        kept += 1
      }
      read += 1
      if decision == .keepAndStop { break }
    }
    // [head, kept) holds the kept entries, [kept, read) the removed ones: move the kept ones
    // (usually one) next to the unvisited rest, and let the removed ones fall before `head`.
    let keptCount = kept - head
    if kept != read {
      for offset in (0..<keptCount).reversed() {
        entries.swapAt(head + offset, read - keptCount + offset)
      }
    }
    head = read - keptCount
    compactIfWorthIt()
  }

  /// Entries before `head` are gone: they are dropped once they are most of the array (so the
  /// array never outgrows its reservation: at most 2 × maxCount + 64 entries).
  private mutating func compactIfWorthIt() {
    if head == entries.count {
      entries.removeAll(keepingCapacity: true)
      head = 0
    } else if head > 64 && head * 2 > entries.count {
      entries.removeFirst(head)
      head = 0
    }
  }
}

/// The header lines of a queued request as byte ranges of its head, four UInt32 each (name
/// start and end, value start and end), stored in the queue's memory before the request's
/// bytes: the slot writer's header table, without a RequestHead.
struct HeaderTable: RandomAccessCollection {
  static let entrySize = 4 * MemoryLayout<UInt32>.size

  let base: UnsafeRawPointer
  let count: Int

  var startIndex: Int { 0 }
  var endIndex: Int { count }

  subscript(index: Int) -> (name: Range<Int>, value: Range<Int>) {
    let entry = base + index * Self.entrySize
    func bound(_ field: Int) -> Int {
      Int(entry.loadUnaligned(fromByteOffset: field * 4, as: UInt32.self))
    }
    return (name: bound(0)..<bound(1), value: bound(2)..<bound(3))
  }

  /// Writes `headers`' ranges at `memory` (room for `headers.count` entries).
  static func store(_ headers: [HeaderField], at memory: UnsafeMutableRawPointer) {
    for (index, header) in headers.enumerated() {
      let entry = memory + index * entrySize
      entry.storeBytes(of: UInt32(header.name.lowerBound), toByteOffset: 0, as: UInt32.self)
      entry.storeBytes(of: UInt32(header.name.upperBound), toByteOffset: 4, as: UInt32.self)
      entry.storeBytes(of: UInt32(header.value.lowerBound), toByteOffset: 8, as: UInt32.self)
      entry.storeBytes(of: UInt32(header.value.upperBound), toByteOffset: 12, as: UInt32.self)
    }
  }
}
