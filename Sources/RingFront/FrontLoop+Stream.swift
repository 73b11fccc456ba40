import Glibc

/// How the body of a streamed reply is delimited on the wire, chosen at its first part.
enum StreamFraming: UInt8 {
  /// No streamed reply in progress.
  case none
  /// Content-Length from the declared length: parts go out as they are.
  case contentLength
  /// `Transfer-Encoding: chunked` (HTTP/1.1, no declared length): each part is a chunk.
  case chunked
  /// HTTP/1.0 without a declared length: the body ends when the connection closes.
  case closeDelimited
  /// HEAD, 204, 304: no body; parts are released unsent.
  case noBody
  /// The stream was given up (worker gone, timeout, abort): the connection closes, later
  /// parts are released unsent.
  case closing
}

/// The streamed reply of a connection: its framing and where the chunked framing stands.
struct ReplyStream {
  var framing = StreamFraming.none
  /// Chunked: a data chunk went out; its closing CRLF goes before the next chunk-size line.
  var chunkOpen = false
}

extension FrontLoop {
  /// Front bytes around one part's body at most: "\r\n" + 16 hex digits + "\r\n" before it,
  /// "\r\n0\r\n\r\n" after it.
  static let maxPartFramingLength = 32

  /// Empty front bytes for parts that need no framing of their own.
  static let noFrontBytes = UnsafeRawPointer(
    UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))

  // MARK: - The handler's side

  /// Queues the first part of a streamed reply to `ticket`: the head as `reply` writes it (the
  /// header lines copied and checked the same way), framed by `declaredLength`: Content-Length
  /// when given, else `Transfer-Encoding: chunked` for HTTP/1.1 or a body ended by closing the
  /// connection for HTTP/1.0. HEAD, 204 and 304 send no body (HEAD keeps the framing header its
  /// GET would get). Later parts follow with `continueReply`; the one with `isLast` ends the
  /// reply, and the connection then serves its next request as after any reply. The body
  /// bytes of every part go out straight from the handler's memory, which must stay valid
  /// until the part's `released(token:)`. A refused head is answered with 502 (the outcome
  /// says why) and the stream is over: later parts come back released, as for a gone client.
  @discardableResult
  public func startReply(
    _ ticket: ReplyTicket, status: Int, headerBlock: UnsafeRawBufferPointer,
    declaredLength: UInt64?, body: UnsafeRawBufferPointer, isLast: Bool, releaseToken: UInt64
  ) -> ReplyOutcome {
    guard let connection = handlingConnection(ticket), connection.stream.framing == .none else {
      pendingReleases.append(releaseToken)
      return .clientGone
    }
    guard (200...599).contains(status) else {
      refuse(connection, releaseToken: releaseToken, body: "handler produced status \(status)\n")
      return .invalidStatus
    }
    let bodyForbidden = status == 204 || status == 304
    let framing: StreamFraming
    if bodyForbidden || connection.replyOmitsBody {
      framing = .noBody
    } else if declaredLength != nil {
      framing = .contentLength
    } else if connection.requestVersionMinor >= 1 {
      framing = .chunked
    } else {
      framing = .closeDelimited
      connection.replyKeepAlive = false
    }
    let lengthKnown = !bodyForbidden && declaredLength != nil
    guard
      let (chunk, headLength, pooled) = writeCheckedHead(
        connection, status: status, headerBlock: headerBlock,
        contentLength: lengthKnown ? Int(declaredLength!) : nil,
        chunked: !bodyForbidden && declaredLength == nil && connection.requestVersionMinor >= 1,
        spare: Self.maxPartFramingLength)
    else {
      refuse(
        connection, releaseToken: releaseToken, body: "the handler wrote invalid reply headers\n")
      return .invalidHeaders
    }
    connection.stream = ReplyStream(framing: framing)
    connection.streamedStatus = status
    let (length, trailer) = writePartFraming(
      connection, bodyLength: body.count, isLast: isLast, into: chunk, at: headLength)
    queuePart(
      connection, front: UnsafeRawPointer(chunk), frontLength: length, trailerLength: trailer,
      body: body, isLast: isLast,
      release: ReleaseItem(token: releaseToken, storage: chunk, storageIsPooled: pooled))
    return .queued
  }

  /// Queues a later part of the reply `startReply` began; `isLast` ends it. `.clientGone` when
  /// the stream is over (client gone, stream given up): the part is released unsent.
  @discardableResult
  public func continueReply(
    _ ticket: ReplyTicket, body: UnsafeRawBufferPointer, isLast: Bool, releaseToken: UInt64
  ) -> ReplyOutcome {
    guard let connection = handlingConnection(ticket), connection.stream.framing != .none,
      connection.stream.framing != .closing
    else {
      pendingReleases.append(releaseToken)
      return .clientGone
    }
    if connection.stream.framing == .chunked && (isLast || body.count > 0) {
      let chunk = headChunks.take()
      let (length, trailer) = writePartFraming(
        connection, bodyLength: body.count, isLast: isLast, into: chunk, at: 0)
      queuePart(
        connection, front: UnsafeRawPointer(chunk), frontLength: length, trailerLength: trailer,
        body: body, isLast: isLast,
        release: ReleaseItem(token: releaseToken, storage: chunk, storageIsPooled: true))
    } else {
      queuePart(
        connection, front: Self.noFrontBytes, frontLength: 0, trailerLength: 0, body: body,
        isLast: isLast, release: ReleaseItem(token: releaseToken))
    }
    return .queued
  }

  /// The handler gave up on its reply midway: the connection closes once what was queued
  /// before is accounted for, so the client sees an incomplete body, never a wrong one. Before
  /// any part went out the client gets a 502 instead. The token is released either way.
  public func abortReply(_ ticket: ReplyTicket, releaseToken: UInt64) {
    guard let connection = handlingConnection(ticket) else {
      pendingReleases.append(releaseToken)
      return
    }
    if connection.stream.framing == .none {
      refuse(connection, releaseToken: releaseToken, body: "the worker gave up on this reply\n")
      return
    }
    // Released behind the parts queued before it, like any part.
    connection.replies.append(
      PendingReply(
        front: Self.noFrontBytes, frontLength: 0, release: ReleaseItem(token: releaseToken)))
    closeStream(connection)
  }

  /// Closes the connection of a reply that can no longer complete (its worker died or stalled
  /// after the head went out); false when the client of `ticket` is gone already. Parts still
  /// queued are released unsent.
  @discardableResult
  public func closeReply(_ ticket: ReplyTicket) -> Bool {
    guard let connection = handlingConnection(ticket) else { return false }
    closeStream(connection)
    return true
  }

  /// True while the reply to `ticket` can still reach its client: parts sent from now on may
  /// arrive. No side effects (unlike `isConnectionAlive`).
  public func isReplyOpen(_ ticket: ReplyTicket) -> Bool {
    guard let connection = handlingConnection(ticket) else { return false }
    return connection.stream.framing != .closing
  }

  // MARK: - Internals

  /// The connection is closed from the deferred work, not from inside the handler's call: an
  /// abort releases tokens, and the handler must not be called back from its own call.
  func closeStream(_ connection: Connection) {
    connection.stream = ReplyStream(framing: .closing)
    connection.closeRequested = true
    markReady(connection)
  }

  /// Writes the chunked framing of one part into `chunk`: the chunk-size line before the body
  /// at `start` (none for an empty body: a zero-size chunk would end the reply), and, for the
  /// last part, the end after it. Returns where the bytes before the body end and how many
  /// follow it. Other framings write nothing.
  private func writePartFraming(
    _ connection: Connection, bodyLength: Int, isLast: Bool,
    into chunk: UnsafeMutableRawPointer, at start: Int
  ) -> (length: Int, trailer: Int) {
    guard connection.stream.framing == .chunked else { return (start, 0) }
    var p = chunk + start
    if bodyLength > 0 {
      if connection.stream.chunkOpen { p += ReplyHeadWriter.copy("\r\n", to: p) }
      p += ReplyHeadWriter.writeHex(bodyLength, to: p)
      p += ReplyHeadWriter.copy("\r\n", to: p)
      connection.stream.chunkOpen = true
    }
    let length = p - chunk
    guard isLast else { return (length, 0) }
    var trailer = 0
    if connection.stream.chunkOpen { trailer += ReplyHeadWriter.copy("\r\n", to: p) }
    trailer += ReplyHeadWriter.copy("0\r\n\r\n", to: p + trailer)
    return (length, trailer)
  }

  /// Queues one part behind the connection's earlier replies (it counts in `replies`, like any
  /// reply). A part with nothing to send is released at once, except a last part behind
  /// others: it frees the slot, so it waits for them. The last part ends the stream.
  private func queuePart(
    _ connection: Connection, front: UnsafeRawPointer, frontLength: Int, trailerLength: Int,
    body: UnsafeRawBufferPointer, isLast: Bool, release: ReleaseItem
  ) {
    let bodyLength = connection.stream.framing == .noBody ? 0 : body.count
    connection.streamedBodyBytes += bodyLength
    if frontLength + bodyLength + trailerLength == 0 && (!isLast || connection.replies.isEmpty) {
      if let storage = release.storage {
        if release.storageIsPooled { headChunks.give(storage) } else { free(storage) }
      }
      if let token = release.token { pendingReleases.append(token) }
    } else {
      connection.replies.append(
        PendingReply(
          front: front, frontLength: frontLength,
          body: bodyLength > 0 ? body.baseAddress : nil, bodyLength: bodyLength,
          trailerLength: trailerLength, release: release))
    }
    if isLast {
      connection.stream = ReplyStream()
      // A body still streaming in (an echo that ended first) is not read further.
      stopBodyStreamForReply(connection)
      recordReply(
        connection, status: connection.streamedStatus, bodyBytes: connection.streamedBodyBytes)
      finishHandling(connection)
    } else {
      markReady(connection)
    }
  }
}
