import CRingABI
import HTTP1
import RingChannel

extension RequestSlotWriter.Parts {
  /// Where a parsed request's method, target, path and query lie in its raw head, with the
  /// request flags its head sets (keep-alive, HEAD).
  init(_ head: RequestHead) {
    var flags: UInt32 = head.keepAlive ? UInt32(RB_REQ_KEEP_ALIVE) : 0
    if head.isHeadMethod { flags |= UInt32(RB_REQ_HEAD) }
    self.init(
      method: head.method, target: head.target, path: head.path, query: head.query,
      httpVersion: 10 + head.versionMinor, flags: flags)
  }
}

extension RequestHead {
  /// The header lines' name and value ranges in the raw head, as the slot writer takes them.
  var headerRanges: LazyMapSequence<[HeaderField], (name: Range<Int>, value: Range<Int>)> {
    headers.lazy.map { (name: $0.name, value: $0.value) }
  }
}
