import CRingABI

/// Lays out one request in a slot: `rb_request_head` (with the request's id and origin), the
/// header table, the raw head bytes, the body, then reply room. The front writes it into its own
/// copy of the slot (FrontChannel.acquireSlot), which `dispatch` copies into shared memory.
public enum RequestSlotWriter {
  public struct Written {
    public var length: Int
    public var replyOffset: Int
    @inlinable init(length: Int, replyOffset: Int) {
      self.length = length
      self.replyOffset = replyOffset
    }
  }

  /// Where each part of the request lies in `rawHead` (byte ranges), as a parser found them.
  public struct Parts {
    public var method: Range<Int>
    public var target: Range<Int>
    public var path: Range<Int>
    public var query: Range<Int>
    public var httpVersion: Int
    public var flags: UInt32

    public init(
      method: Range<Int>, target: Range<Int>, path: Range<Int>, query: Range<Int>,
      httpVersion: Int, flags: UInt32
    ) {
      self.method = method
      self.target = target
      self.path = path
      self.query = query
      self.httpVersion = httpVersion
      self.flags = flags
    }
  }

  /// Where the reply starts after a request of `requestBytes`: 16-aligned, as the ABI says.
  @inline(__always)
  public static func replyOffset(afterRequestBytes requestBytes: Int) -> Int {
    (requestBytes + 15) & ~15
  }

  /// Whether a request of `requestBytes` fits a slot of `slotSize` with any reply room at all:
  /// the one rule for the writer, slot selection and the front's 413.
  @inline(__always)
  public static func fits(requestBytes: Int, slotSize: Int) -> Bool {
    replyOffset(afterRequestBytes: requestBytes) < slotSize
  }

  /// Bytes a request needs in a slot, before reply room.
  @inline(__always)
  public static func requiredBytes(headerCount: Int, rawHeadLength: Int, bodyLength: Int) -> Int {
    MemoryLayout<rb_request_head>.size + headerCount * MemoryLayout<rb_header>.size + rawHeadLength
      + bodyLength
  }

  /// Writes the request; nil when it leaves no reply room in the slot.
  @inlinable
  public static func write<Headers: Collection>(
    into slot: UnsafeMutableRawBufferPointer, rawHead: UnsafeRawBufferPointer, parts: Parts,
    headers: Headers, body: UnsafeRawBufferPointer, requestID: UInt64, origin: RequestOrigin
  ) -> Written? where Headers.Element == (name: Range<Int>, value: Range<Int>) {
    let tableOffset = MemoryLayout<rb_request_head>.size
    let rawOffset = tableOffset + headers.count * MemoryLayout<rb_header>.size
    let bodyOffset = rawOffset + rawHead.count
    let length = bodyOffset + body.count
    guard fits(requestBytes: length, slotSize: slot.count) else { return nil }
    let replyOffset = replyOffset(afterRequestBytes: length)
    let base = slot.baseAddress!
    func span(_ range: Range<Int>) -> rb_span {
      rb_span(offset: UInt32(rawOffset + range.lowerBound), length: UInt32(range.count))
    }
    let head = rb_request_head(
      request_size: UInt32(length), header_count: UInt32(headers.count),
      method: span(parts.method), target: span(parts.target), path: span(parts.path),
      query: span(parts.query),
      body: rb_span(offset: UInt32(bodyOffset), length: UInt32(body.count)),
      http_version: UInt32(parts.httpVersion), flags: parts.flags, request_id: requestID,
      received_unix_ns: origin.receivedUnixNanoseconds, remote: origin.remote,
      local: origin.local, scheme: origin.scheme, reserved: 0)
    base.storeBytes(of: head, as: rb_request_head.self)
    var entry = base + tableOffset
    for header in headers {
      let field = rb_header(name: span(header.name), value: span(header.value))
      entry.storeBytes(of: field, as: rb_header.self)
      entry += MemoryLayout<rb_header>.size
    }
    if !rawHead.isEmpty {
      (base + rawOffset).copyMemory(from: rawHead.baseAddress!, byteCount: rawHead.count)
    }
    if !body.isEmpty {
      (base + bodyOffset).copyMemory(from: body.baseAddress!, byteCount: body.count)
    }
    return Written(length: length, replyOffset: replyOffset)
  }
}
