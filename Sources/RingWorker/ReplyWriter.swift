import CRingABI
import ReplyHeaderRules

/// Why a reply could not be built. The library has then answered the request with a 502.
public enum ReplyError: Error, Equatable, CustomStringConvertible {
  case wrongOrder(String)
  case invalidStatus(Int)
  case invalidHeader(String)
  case framingHeader(String)
  case noRoom(needed: Int, available: Int)
  /// A streamed reply's client is gone (closed, timed out): the reply was ended.
  case clientGone
  /// A streamed reply's writes do not add up to its declared length.
  case lengthMismatch(String)
  /// The channel closed while a streamed reply waited for the client (broker gone, channel
  /// broken or shut down).
  case channelClosed(String)

  public var description: String {
    switch self {
    case .wrongOrder(let why): return why
    case .invalidStatus(let status): return "status \(status) is not 200..599"
    case .invalidHeader(let why): return "invalid reply header: \(why)"
    case .framingHeader(let name):
      return "header '\(name)' is written by the front (framing); do not set it"
    case .noRoom(let needed, let available):
      return "reply needs \(needed) bytes, the slot has \(available) left"
    case .clientGone: return "the client is gone"
    case .lengthMismatch(let why): return why
    case .channelClosed(let why): return "the channel closed: \(why)"
    }
  }
}

/// Writes a reply straight into the request's slot: start with a status, add headers, take the
/// body pointer, send. The front adds status line, Content-Length, Date and Connection.
///
/// Every call that fails on a request not answered yet answers it: the library publishes a 502
/// (no headers, a short body if it fits) before it throws, so that the client is never left
/// waiting for the request timeout and the worker serves on. Calls on a request already
/// answered throw without touching anything.
public struct ReplyWriter {
  let record: UnsafeMutablePointer<RequestRecord>

  static let failureBody: StaticString = "the worker could not build its reply\n"

  /// Runs one reply step; if it throws, answers the request with a 502 first.
  @inline(__always)
  func answeringOnFailure<T>(_ step: () throws(ReplyError) -> T) throws(ReplyError) -> T {
    do {
      return try step()
    } catch {
      answerWithBadGateway()
      throw error
    }
  }

  /// Publishes a 502 over whatever was written, unless the request is already answered.
  private func answerWithBadGateway() {
    answerAtOnce(status: 502, body: Self.failureBody)
  }

  /// Publishes `status` with `body` (dropped when it does not fit) and no header lines over
  /// whatever was written, unless the request is already answered. A streamed reply whose
  /// first part went out is ended with RB_RESP_ABORT instead: the front closes the connection.
  private func answerAtOnce(status: Int, body: StaticString) {
    guard record.pointee.phase != .idle else { return }
    // No part left the window yet: it is free for the next reply at once.
    if record.pointee.inStreamWindow && record.pointee.headPending { returnStreamWindow() }
    if record.pointee.phase == .streaming && !record.pointee.headPending {
      publishPart(flags: UInt32(RB_RESP_END | RB_RESP_ABORT), bodyLength: 0)
      return
    }
    let start = record.pointee.replyOffset
    let room = record.pointee.slotSize - start
    let length = body.utf8CodeUnitCount <= room ? body.utf8CodeUnitCount : 0
    if length > 0 {
      (record.pointee.memory! + start).copyMemory(from: body.utf8Start, byteCount: length)
    }
    record.pointee.status = UInt32(status)
    record.pointee.headerCursor = start
    let worker = Unmanaged<Worker>.fromOpaque(record.pointee.worker!).takeUnretainedValue()
    worker.complete(record, headerLength: 0, bodyOffset: start, bodyLength: length)
  }

  static let abortBody: StaticString = "the worker could not complete this request\n"

  /// Gives up on the reply, whatever was written: the request is answered at once with
  /// `status` (500...599; anything else answers 502 and throws) and a short body. For a handler
  /// that hits an error midway. Throws, without effect, for a request already answered.
  public func abort(status: Int = 500) throws(ReplyError) {
    guard record.pointee.phase != .idle else {
      throw .wrongOrder("this request was already answered")
    }
    guard (500...599).contains(status) else {
      answerWithBadGateway()
      throw .invalidStatus(status)
    }
    answerAtOnce(status: status, body: Self.abortBody)
  }

  public func start(status: Int) throws(ReplyError) {
    try answeringOnFailure { () throws(ReplyError) in
      switch record.pointee.phase {
      case .received: break
      case .idle: throw .wrongOrder("this request was already answered")
      case .replying, .bodyTaken, .streaming:
        throw .wrongOrder("reply already started for this request")
      }
      guard (200...599).contains(status) else { throw .invalidStatus(status) }
      record.pointee.status = UInt32(status)
      record.pointee.headerCursor = record.pointee.replyOffset
      record.pointee.phase = .replying
    }
  }

  public func addHeader(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    throws(ReplyError)
  {
    try answeringOnFailure { () throws(ReplyError) in
      try writeHeader(name: name, value: value)
    }
  }

  private func writeHeader(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    throws(ReplyError)
  {
    guard record.pointee.phase == .replying else {
      throw .wrongOrder("headers go after start and before the body")
    }
    // The rules the front checks the copied block by: a header refused here would only turn
    // into a 502 there.
    guard ReplyHeaderRules.isName(name) else {
      throw .invalidHeader("name '\(String(decoding: name, as: UTF8.self))' is not a token")
    }
    guard ReplyHeaderRules.isValue(value) else {
      throw .invalidHeader(
        "value of '\(String(decoding: name, as: UTF8.self))' has control characters")
    }
    if ReplyHeaderRules.isFramingName(name) {
      throw .framingHeader(String(decoding: name, as: UTF8.self))
    }
    let needed = name.count + 2 + value.count + 2
    let cursor = record.pointee.headerCursor
    let available = record.pointee.slotSize - cursor
    guard needed <= available else { throw .noRoom(needed: needed, available: available) }
    let out = record.pointee.memory! + cursor
    out.copyMemory(from: name.baseAddress!, byteCount: name.count)
    (out + name.count).storeBytes(of: 0x203A, as: UInt16.self)  // ": "
    if !value.isEmpty {
      (out + name.count + 2).copyMemory(from: value.baseAddress!, byteCount: value.count)
    }
    (out + needed - 2).storeBytes(of: 0x0A0D, as: UInt16.self)  // "\r\n"
    record.pointee.headerCursor = cursor + needed
  }

  public func addHeader(_ name: String, _ value: String) throws(ReplyError) {
    var name = name
    var value = value
    let result: Result<Void, ReplyError> = name.withUTF8 { n in
      value.withUTF8 { v in
        Result { () throws(ReplyError) in
          try addHeader(name: UnsafeRawBufferPointer(n), value: UnsafeRawBufferPointer(v))
        }
      }
    }
    try result.get()
  }

  /// Writable body memory in shared memory, right after the headers.
  public func body() throws(ReplyError) -> UnsafeMutableRawBufferPointer {
    try answeringOnFailure { () throws(ReplyError) in
      guard record.pointee.phase == .replying || record.pointee.phase == .bodyTaken else {
        throw .wrongOrder("start the reply before taking its body")
      }
      record.pointee.phase = .bodyTaken
      let cursor = record.pointee.headerCursor
      return UnsafeMutableRawBufferPointer(
        start: record.pointee.memory! + cursor, count: record.pointee.slotSize - cursor)
    }
  }

  /// Finishes the reply with `bodyLength` bytes of body; hands the slot back to the front.
  public func send(bodyLength: Int) throws(ReplyError) {
    try answeringOnFailure { () throws(ReplyError) in
      let phase = record.pointee.phase
      guard phase == .replying || phase == .bodyTaken else {
        throw .wrongOrder("start the reply before sending it")
      }
      let cursor = record.pointee.headerCursor
      let available = record.pointee.slotSize - cursor
      guard bodyLength >= 0, bodyLength <= available else {
        throw .noRoom(needed: bodyLength, available: available)
      }
      let worker = Unmanaged<Worker>.fromOpaque(record.pointee.worker!).takeUnretainedValue()
      worker.complete(
        record, headerLength: cursor - record.pointee.replyOffset, bodyOffset: cursor,
        bodyLength: bodyLength)
    }
  }

  /// The whole reply at once: status, optional Content-Type, body copied into the slot. A body
  /// larger than the reply room is streamed, its length declared.
  public func send(status: Int, contentType: String?, body: UnsafeRawBufferPointer)
    throws(ReplyError)
  {
    try start(status: status)
    if let contentType { try addHeader("Content-Type", contentType) }
    if body.count > record.pointee.slotSize - record.pointee.headerCursor {
      try setLength(UInt64(body.count))
      try write(body)
      try end()
      return
    }
    let out = try self.body()
    if !body.isEmpty { out.baseAddress!.copyMemory(from: body.baseAddress!, byteCount: body.count) }
    try send(bodyLength: body.count)
  }
}
