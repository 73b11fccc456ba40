import HTTP1

/// Requests that found every worker full wait here, copied out of the connection's buffer
/// (the only case where the front keeps a second copy), until a worker has room or their
/// deadline passes. Bounded in count and bytes: beyond that, the front answers 503 at once.
struct RequestQueue {
  struct Entry {
    var ticket: ReplyTicket
    var bytes: [UInt8]  // head, then body
    var headLength: Int
    var parsed: RequestHead
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
    let size = request.head.count + request.body.count
    guard count < maxCount, bytes + size <= maxBytes else { return false }
    var copy = [UInt8](request.head)
    copy.append(contentsOf: request.body)
    entries.append(
      Entry(ticket: ticket, bytes: copy, headLength: request.head.count, parsed: request.parsed, deadline: deadline))
    bytes += size
    return true
  }

  var first: Entry? { head < entries.count ? entries[head] : nil }

  mutating func removeFirst() {
    bytes -= entries[head].bytes.count
    head += 1
    if head > 64 && head * 2 > entries.count {
      entries.removeFirst(head)
      head = 0
    }
  }
}
