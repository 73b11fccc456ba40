import CRingABI
import RingChannel

/// A request, read in place from shared memory. Its byte views stay valid until the reply is
/// sent. Not thread-safe: one thread serves one request.
public struct Request {
  let record: UnsafeMutablePointer<RequestRecord>

  var head: UnsafePointer<rb_request_head> { record.pointee.head }

  @inline(__always)
  func bytes(_ span: rb_span) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(
      start: UnsafeRawPointer(record.pointee.memory!) + Int(span.offset), count: Int(span.length))
  }

  public var method: UnsafeRawBufferPointer { bytes(head.pointee.method) }
  /// Path plus ?query, as sent.
  public var target: UnsafeRawBufferPointer { bytes(head.pointee.target) }
  public var path: UnsafeRawBufferPointer { bytes(head.pointee.path) }
  /// Without the '?'; empty when absent.
  public var query: UnsafeRawBufferPointer { bytes(head.pointee.query) }
  /// The whole body when it is in the slot; empty when it streams (`bodyIsStreamed`: read it
  /// with `readBody(into:)` or `bodyChunks`, which work for every body).
  public var body: UnsafeRawBufferPointer {
    record.pointee.body.streams
      ? UnsafeRawBufferPointer(start: nil, count: 0) : bytes(head.pointee.body)
  }
  public var httpVersion: Int { Int(head.pointee.http_version) }
  public var headerCount: Int { Int(head.pointee.header_count) }

  /// The i-th header as sent.
  public func header(at index: Int) -> (
    name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
  )? {
    guard index >= 0, index < headerCount else { return nil }
    let table = UnsafeRawPointer(head + 1).assumingMemoryBound(to: rb_header.self)
    return (bytes(table[index].name), bytes(table[index].value))
  }

  /// The first header called `name` (ASCII case-insensitive).
  public func header(named name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    for index in 0..<headerCount {
      let field = header(at: index)!
      if asciiCaseInsensitiveEqual(field.name, name) { return field.value }
    }
    return nil
  }

  public func header(named name: String) -> String? {
    var name = name
    return name.withUTF8 { header(named: UnsafeRawBufferPointer($0)) }.map {
      String(decoding: $0, as: UTF8.self)
    }
  }

  /// The bytes this request's reply may take in its slot: its header lines ("Name: value\r\n"
  /// each) plus its body, from where the reply starts to the end of the slot (the request
  /// descriptor's reply_capacity). The same before and after the reply has started: it counts
  /// what the whole reply may take, so a worker can tell before starting whether a reply fits,
  /// and answer otherwise while it still can. It limits a reply sent whole (`body()`, `send`);
  /// a streamed reply (`write`, `end`) reuses the room as the client takes its parts, so its
  /// body has no limit.
  public var replyCapacity: Int { record.pointee.slotSize - record.pointee.replyOffset }

  // MARK: Metadata (ABI version 2; checked by RequestHeadCheck before the request is handed out)

  /// Unique among the requests of one broker process; stays the same when the request is moved
  /// to another worker after its worker died (see rb_request_head.request_id).
  public var requestID: UInt64 { head.pointee.request_id }
  /// CLOCK_REALTIME nanoseconds since the Unix epoch when the front had the complete head.
  public var receivedAt: UInt64 { head.pointee.received_unix_ns }
  /// The client's port.
  public var remotePort: Int { Int(head.pointee.remote.port) }
  /// The broker's port on this connection (its listen port).
  public var localPort: Int { Int(head.pointee.local.port) }

  /// The client's address as text ("127.0.0.1", "::1"), formatted into this request's slot
  /// record: valid until the reply is sent, no allocation.
  public var remoteAddressText: UnsafeRawBufferPointer {
    addressText(head.pointee.remote, at: record.pointee.addressText!)
  }
  /// The broker's address on this connection as text, like `remoteAddressText`.
  public var localAddressText: UnsafeRawBufferPointer {
    addressText(
      head.pointee.local, at: record.pointee.addressText! + rb_endpoint.maximumTextLength)
  }
  public var remoteAddress: String { String(decoding: remoteAddressText, as: UTF8.self) }
  public var localAddress: String { String(decoding: localAddressText, as: UTF8.self) }

  /// "http" or "https", from static memory.
  public var schemeText: UnsafeRawBufferPointer {
    let text: StaticString = head.pointee.scheme == UInt32(RB_SCHEME_HTTPS) ? "https" : "http"
    return UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
  }
  public var scheme: String { String(decoding: schemeText, as: UTF8.self) }

  private func addressText(_ endpoint: rb_endpoint, at buffer: UnsafeMutablePointer<CChar>)
    -> UnsafeRawBufferPointer
  {
    UnsafeRawBufferPointer(start: buffer, count: endpoint.formatAddress(into: buffer))
  }

  /// The reply, built in place in this request's slot.
  public var reply: ReplyWriter { ReplyWriter(record: record) }
}

@inline(__always)
func asciiCaseInsensitiveEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
  guard a.count == b.count else { return false }
  for i in 0..<a.count where a[i] != b[i] && asciiLowercased(a[i]) != asciiLowercased(b[i]) {
    return false
  }
  return true
}

@inline(__always)
func asciiLowercased(_ byte: UInt8) -> UInt8 {
  byte &- 0x41 < 26 ? byte | 0x20 : byte
}
