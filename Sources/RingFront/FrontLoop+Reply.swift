import CURing
import Glibc
import HTTP1
import ReplyHeaderRules

extension FrontLoop {
  // MARK: - The handler's side

  /// Queues the reply to `ticket`. The front writes the status line, Date, Content-Length and
  /// Connection, then copies `headerBlock` ("Name: value\r\n" lines, no framing headers) after
  /// them into its own memory and checks the copy (ReplyHeaderRules): the handler's memory may
  /// be shared with a process that can rewrite it at any time, and what the front checked must
  /// be what it sends. `body` is sent straight from the handler's memory, which must stay valid
  /// until `released(token:)`; a small one (`copiedBodyLimit`) is copied after the head instead,
  /// and the token released at once. HEAD requests, 204 and 304 get no body. A refused reply
  /// (invalid status or header lines) is answered with 502 instead; the token is released
  /// either way.
  @discardableResult
  public func reply(
    _ ticket: ReplyTicket, status: Int, headerBlock: UnsafeRawBufferPointer,
    body: UnsafeRawBufferPointer,
    releaseToken: UInt64
  ) -> ReplyOutcome {
    guard let connection = handlingConnection(ticket) else {
      pendingReleases.append(releaseToken)
      return .clientGone
    }
    stopBodyStreamForReply(connection)
    guard (200...599).contains(status) else {
      refuse(connection, releaseToken: releaseToken, body: "handler produced status \(status)\n")
      return .invalidStatus
    }
    let bodyForbidden = status == 204 || status == 304
    let sendsBody = !bodyForbidden && !connection.replyOmitsBody
    let copiesBody = sendsBody && body.count <= Self.copiedBodyLimit
    // When the body is copied, or none is sent, nothing of the handler's memory is read once
    // the reply is queued: its token goes back at once.
    let releasesAtOnce = copiesBody || !sendsBody
    guard
      let (chunk, length, pooled) = writeCheckedHead(
        connection, status: status, headerBlock: headerBlock,
        contentLength: bodyForbidden ? nil : body.count, spare: copiesBody ? body.count : 0)
    else {
      refuse(
        connection, releaseToken: releaseToken, body: "the handler wrote invalid reply headers\n")
      return .invalidHeaders
    }
    if releasesAtOnce {
      let copied = copiesBody ? body.count : 0
      if let source = body.baseAddress, copied > 0 {
        (chunk + length).copyMemory(from: source, byteCount: copied)
      }
      pendingReleases.append(releaseToken)
      connection.replies.append(
        PendingReply(
          front: UnsafeRawPointer(chunk), frontLength: length + copied,
          release: ReleaseItem(token: nil, storage: chunk, storageIsPooled: pooled)))
    } else {  // a body too large to copy, sent from the handler's memory
      connection.replies.append(
        PendingReply(
          front: UnsafeRawPointer(chunk), frontLength: length, body: body.baseAddress,
          bodyLength: body.count,
          release: ReleaseItem(token: releaseToken, storage: chunk, storageIsPooled: pooled)))
    }
    recordReply(connection, status: status, bodyBytes: sendsBody ? body.count : 0)
    finishHandling(connection)
    return .queued
  }

  /// Bodies up to this size are copied after the reply's head rather than sent from the
  /// handler's memory: a memcpy of a short body costs less than the second iovec, and the
  /// handler's memory (a worker's slot) is free again as soon as the reply is queued, not
  /// once the kernel took it. Larger bodies go out from where the handler wrote them.
  static let copiedBodyLimit = 1024

  /// Writes the reply head into front memory: status line and framing headers, then the
  /// handler's header lines copied after them and checked on the copy (ReplyHeaderRules), then
  /// the blank line; `spare` more bytes of room stay free after it (a streamed reply's first
  /// chunk-size line and end). A pooled chunk unless the block is unusually large. Nil, with
  /// nothing kept, when the copied lines break the rules.
  @inline(__always)
  func writeCheckedHead(
    _ connection: Connection, status: Int, headerBlock: UnsafeRawBufferPointer,
    contentLength: Int?, chunked: Bool = false, spare: Int
  ) -> (chunk: UnsafeMutableRawPointer, length: Int, pooled: Bool)? {
    let capacity = ReplyHeadWriter.maxLength + headerBlock.count + 2 + spare
    let pooled = capacity <= HeadChunkPool.chunkSize
    // Only unusually large header blocks miss the pool: a rare path, so malloc is fine there.
    let chunk = pooled ? headChunks.take() : malloc(capacity)!
    var length = headWriter.write(
      into: chunk, status: status, contentLength: contentLength,
      connection: connectionDirective(connection), unixSeconds: unixSeconds, chunked: chunked)
    if let source = headerBlock.baseAddress, headerBlock.count > 0 {
      (chunk + length).copyMemory(from: source, byteCount: headerBlock.count)
    }
    guard
      ReplyHeaderRules.isValidBlock(
        UnsafeRawBufferPointer(start: chunk + length, count: headerBlock.count))
    else {
      if pooled { headChunks.give(chunk) } else { free(chunk) }
      return nil
    }
    countReply(connection, status: status)
    length += headerBlock.count
    length += ReplyHeadWriter.copy("\r\n", to: chunk + length)
    return (chunk, length, pooled)
  }

  /// Answers 502 in place of a reply the front will not send, and releases the reply's memory.
  func refuse(_ connection: Connection, releaseToken: UInt64, body: String) {
    stopBodyStreamForReply(connection)
    pendingReleases.append(releaseToken)
    queueErrorReply(connection, status: 502, body: body, extraHeaders: "")
    finishHandling(connection)
  }

  /// Queues a reply the front writes entirely: `Content-Type: text/plain`, the given extra
  /// header lines (e.g. "Retry-After: 1\r\n") and a short body. For 502/503/504 and the like.
  public func replyError(
    _ ticket: ReplyTicket, status: Int, body: String, extraHeaders: String = ""
  ) {
    guard let connection = handlingConnection(ticket) else { return }
    stopBodyStreamForReply(connection)
    queueErrorReply(connection, status: status, body: body, extraHeaders: extraHeaders)
    finishHandling(connection)
  }

  /// Queues a raw operation of the handler's own, for what the typed ones (futex wait and wake,
  /// process exit, cancel: FrontLoop+Operations) do not cover. The SQE is zeroed before
  /// `prepare` fills it; the loop sets user_data afterwards, and the completion comes back
  /// through `completed(token:...)`. Tokens are 56 bits.
  public func submit(token: UInt64, _ prepare: (UnsafeMutablePointer<io_uring_sqe>) -> Void) {
    let sqe = ring.nextSQE()
    memset(sqe, 0, MemoryLayout<io_uring_sqe>.size)
    prepare(sqe)
    sqe.pointee.user_data = Self.userData(forHandlerToken: token)
  }

  /// The user_data the loop puts on a handler SQE: what cancelling a handler's operation
  /// (IORING_OP_ASYNC_CANCEL, `cancel(operation:token:)`) targets.
  public static func userData(forHandlerToken token: UInt64) -> UInt64 {
    UserData.encode(.handler, token)
  }

  /// False once the client of `ticket` is gone (closed, reset, or timed out) or the reply was
  /// already queued. After a false the handler may drop the request without replying; a reply
  /// it sends anyway is delivered if the client only half-closed, or just released.
  public func isConnectionAlive(_ ticket: ReplyTicket) -> Bool {
    guard let connection = handlingConnection(ticket) else { return false }
    guard connection.peerClosed else { return true }
    // Closed from here on unless the handler answers before the deferred work runs.
    connection.handlerToldGone = true
    markReady(connection)
    return false
  }

  // MARK: - Internals

  func handlingConnection(_ ticket: ReplyTicket) -> Connection? {
    guard Int(ticket.connection) < connections.count else { return nil }
    let connection = connections[Int(ticket.connection)]
    guard connection.generation == ticket.generation, connection.serial == ticket.serial,
      connection.handling,
      connection.lifecycle == .open || connection.lifecycle == .closingAfterSend
    else { return nil }
    return connection
  }

  func finishHandling(_ connection: Connection) {
    setHandling(connection, false)
    connection.requestsServed += 1
    if !connection.replyKeepAlive || isDraining { connection.lifecycle = .closingAfterSend }
    markReady(connection)
  }

  func connectionDirective(_ connection: Connection) -> ConnectionDirective {
    if !connection.replyKeepAlive || isDraining || connection.lifecycle != .open { return .close }
    return connection.requestVersionMinor == 0 ? .keepAlive : .implicit
  }

  /// A malformed request: its status with a short body, `Connection: close`, then close.
  func replyFramingError(_ connection: Connection, _ error: HTTPError) {
    guard connection.lifecycle == .open else { return }
    stats.pointee.framing_errors &+= 1
    captureRefusedRequest(connection)
    connection.replyKeepAlive = false
    connection.replyOmitsBody = false
    let reason = error.reason.isEmpty ? HTTPStatus.reasonPhrase(error.status) : error.reason
    queueErrorReply(connection, status: error.status, body: reason + "\n", extraHeaders: "")
    connection.lifecycle = .closingAfterSend
    markReady(connection)
  }

  /// Writes a whole reply into one allocation (error paths only, so malloc is fine here), and
  /// records it.
  func queueErrorReply(_ connection: Connection, status: Int, body: String, extraHeaders: String) {
    var body = body
    var extra = extraHeaders
    let omitBody = connection.replyOmitsBody
    let length = ReplyHeadWriter.maxLength + extra.utf8.count + 32 + body.utf8.count
    let storage = malloc(length)!
    countReply(connection, status: status)
    var p = storage
    p += headWriter.write(
      into: p, status: status, contentLength: body.utf8.count,
      connection: connectionDirective(connection),
      unixSeconds: unixSeconds)
    p += ReplyHeadWriter.copy("Content-Type: text/plain\r\n", to: p)
    p += Self.copyUTF8(&extra, to: p)
    p += ReplyHeadWriter.copy("\r\n", to: p)
    if !omitBody { p += Self.copyUTF8(&body, to: p) }
    connection.replies.append(
      PendingReply(
        front: UnsafeRawPointer(storage), frontLength: p - storage,
        release: ReleaseItem(token: nil, storage: storage, storageIsPooled: false)))
    recordReply(connection, status: status, bodyBytes: omitBody ? 0 : body.utf8.count)
  }

  static func copyUTF8(_ text: inout String, to destination: UnsafeMutableRawPointer) -> Int {
    text.withUTF8 { utf8 in
      if utf8.count > 0 { destination.copyMemory(from: utf8.baseAddress!, byteCount: utf8.count) }
      return utf8.count
    }
  }

  func queueStaticReply(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
    connection.replies.append(
      PendingReply(front: bytes.baseAddress!, frontLength: bytes.count, release: ReleaseItem()))
    markReady(connection)
  }
}
