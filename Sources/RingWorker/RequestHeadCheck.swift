import CRingABI
import RingChannel

/// The check `Worker` makes on every request before handing it out: each size and span of the
/// request head lies inside the request's bytes, so that no accessor ever reads outside the
/// slot, and its metadata is what a front writes (known address families, a known scheme), so
/// that no accessor has to guess what an address or a scheme is. The front writes requests
/// right, but a slot's bytes are shared memory, and a request can arrive from another worker's
/// ring (re-dispatched after that worker died). A request that fails it breaks the channel.
/// Reads a few lines the handler reads anyway; no allocation.
enum RequestHeadCheck {
  enum Problem: Equatable {
    case spanOutside
    case badMetadata

    var description: StaticString {
      switch self {
      case .spanOutside: return "has a span outside its bytes"
      case .badMetadata: return "has an unknown address family or scheme"
      }
    }
  }

  /// Nil when the request head at `memory` is sound within `length` bytes.
  @inline(__always)
  static func problem(_ memory: UnsafeRawPointer, length: Int) -> Problem? {
    let headSize = MemoryLayout<rb_request_head>.size
    guard length >= headSize else { return .spanOutside }
    let head = memory.load(as: rb_request_head.self)
    // 64-bit arithmetic: no sum of 32-bit fields can overflow.
    let size = Int(head.request_size)
    guard size >= headSize, size <= length else { return .spanOutside }
    let headerCount = Int(head.header_count)
    guard headerCount <= (size - headSize) / MemoryLayout<rb_header>.size else {
      return .spanOutside
    }
    func inside(_ span: rb_span) -> Bool { Int(span.offset) + Int(span.length) <= size }
    guard inside(head.method), inside(head.target), inside(head.path), inside(head.query),
      inside(head.body)
    else { return .spanOutside }
    let table = (memory + headSize).assumingMemoryBound(to: rb_header.self)
    for index in 0..<headerCount where !inside(table[index].name) || !inside(table[index].value) {
      return .spanOutside
    }
    guard head.remote.isValid, head.local.isValid, isKnownScheme(head.scheme) else {
      return .badMetadata
    }
    return nil
  }

  @inline(__always)
  static func isKnownScheme(_ scheme: UInt32) -> Bool {
    scheme == UInt32(RB_SCHEME_HTTP) || scheme == UInt32(RB_SCHEME_HTTPS)
  }
}
