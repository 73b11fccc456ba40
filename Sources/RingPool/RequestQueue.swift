import HTTP1
import RingChannel
import RingFront

/// Requests that found every worker full wait here, copied out of the connection's buffer
/// (the only case where the front keeps a second copy), until a worker has room or their
/// deadline passes. Bounded in count and bytes: beyond that, the front answers 503 at once.
struct RequestQueue {
  enum Payload {
    /// A request as parsed from a connection: head then body in `bytes`.
    case parsed(bytes: [UInt8], headLength: Int, head: RequestHead, origin: RequestOrigin)
    /// A request already laid out in a slot (taken back from a worker that died before it
    /// took it), checked against its checksum: its offsets are slot-relative, so it is copied
    /// into the next slot as is.
    case slotImage(bytes: [UInt8], replyOffset: Int, checksum: UInt64)
    /// The head of a request whose body streams: the body is still unread, in the client's
    /// socket, and follows once the request has a slot.
    case streamedHead(bytes: [UInt8], head: RequestHead, origin: RequestOrigin)

    var size: Int {
      switch self {
      case .parsed(let bytes, _, _, _), .slotImage(let bytes, _, _), .streamedHead(let bytes, _, _):
        return bytes.count
      }
    }
  }

  struct Entry {
    var ticket: ReplyTicket
    var payload: Payload
    var deadline: UInt64
  }

  let maxCount: Int
  let maxBytes: Int
  private var entries: [Entry] = []
  private var head = 0
  private(set) var bytes = 0

  init(maxCount: Int, maxBytes: Int) {
    self.maxCount = maxCount
    self.maxBytes = maxBytes
  }

  var count: Int { entries.count - head }
  var isEmpty: Bool { count == 0 }

  mutating func append(_ request: IncomingRequest, ticket: ReplyTicket, deadline: UInt64) -> Bool {
    var copy = [UInt8](request.head)
    copy.append(contentsOf: request.body)
    return append(
      Entry(
        ticket: ticket,
        payload: .parsed(
          bytes: copy, headLength: request.head.count, head: request.parsed,
          origin: request.origin),
        deadline: deadline))
  }

  /// Adds an entry; false when the queue is full.
  mutating func append(_ entry: Entry) -> Bool {
    let size = entry.payload.size
    guard count < maxCount, bytes + size <= maxBytes else { return false }
    entries.append(entry)
    bytes += size
    return true
  }

  var first: Entry? { head < entries.count ? entries[head] : nil }

  /// What `visit` decides for one entry.
  enum Decision {
    case remove
    case keep
    /// Keep this one and leave the rest unvisited (nothing behind it can be placed now).
    case keepAndStop
  }

  /// Visits the entries in order and removes those `decide` is done with; the others keep
  /// their places (a request that cannot be placed yet must not hold up those behind it).
  /// Stopping early costs nothing for the entries left unvisited: under overload the queue
  /// holds thousands, and the dispatcher visits it on every loop turn.
  mutating func visit(_ decide: (Entry) -> Decision) {
    var kept = head
    var read = head
    while read < entries.count {
      let decision = decide(entries[read])
      if decision == .remove {
        bytes -= entries[read].payload.size
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

  mutating func removeFirst() {
    bytes -= entries[head].payload.size
    head += 1
    compactIfWorthIt()
  }

  /// Entries before `head` are gone: they are dropped once they are most of the array.
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
