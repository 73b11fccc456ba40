import CRingABI

/// The check `Worker` makes on every request before handing it out: each size and span of the
/// request head lies inside the request's bytes, so that no accessor ever reads outside the
/// slot. The front writes requests right, but a slot's bytes are shared memory, and a request
/// can arrive from another worker's ring (re-dispatched after that worker died). A request that
/// fails it breaks the channel. Reads a few lines the handler reads anyway; no allocation.
enum RequestHeadCheck {
  /// True when every span of the request head at `memory` lies within `length` bytes.
  @inline(__always)
  static func isValid(_ memory: UnsafeRawPointer, length: Int) -> Bool {
    let headSize = MemoryLayout<rb_request_head>.size
    guard length >= headSize else { return false }
    let head = memory.load(as: rb_request_head.self)
    // 64-bit arithmetic: no sum of 32-bit fields can overflow.
    let size = Int(head.request_size)
    guard size >= headSize, size <= length else { return false }
    let headerCount = Int(head.header_count)
    guard headerCount <= (size - headSize) / MemoryLayout<rb_header>.size else { return false }
    func inside(_ span: rb_span) -> Bool { Int(span.offset) + Int(span.length) <= size }
    guard inside(head.method), inside(head.target), inside(head.path), inside(head.query),
      inside(head.body)
    else { return false }
    let table = (memory + headSize).assumingMemoryBound(to: rb_header.self)
    for index in 0..<headerCount where !inside(table[index].name) || !inside(table[index].value) {
      return false
    }
    return true
  }
}
