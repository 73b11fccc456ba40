import CURing
import Glibc
import HTTP1

/// Streamed request bodies, the loop's side (FrontHandler, "Streamed request bodies"): bytes
/// move from the receive buffer into the handler's room as room frees up; the connection is
/// read only while there is room, so a client uploading faster than its worker takes the body
/// waits in the kernel, and front memory per connection stays bounded whatever the body size.
extension FrontLoop {
  /// Before the streamed request goes to the handler: takes the body's framing from the reader
  /// and sends 100 Continue when the client waits for it.
  func beginBodyStream(_ connection: Connection) {
    let taken = connection.reader.takeBodyStream(connection.buffer)
    connection.bodyStream = BodyStream(
      framing: taken.framing, decoded: taken.decoded, ticket: connection.ticket)
    if taken.sendContinue { queueStaticReply(connection, StaticReplies.continue100) }
  }

  /// Thread-safe only on the loop's thread, like every handler call: the request of `ticket`
  /// has room for (more of) its body at `token`. Feeding resumes in the loop's deferred work.
  public func resumeBody(_ ticket: ReplyTicket, token: UInt64) {
    guard let connection = handlingConnection(ticket), connection.bodyStream != nil else {
      return
    }
    if token != 0 {
      connection.bodyStream!.token = token
      connection.bodyStream!.ticket = ticket  // begun before the request's serial was taken
    }
    markReady(connection)
  }

  /// Moves what the buffer holds into the handler's room, part by part, then reads more only
  /// if there is room for it.
  func pumpBody(_ connection: Connection) {
    guard connection.lifecycle == .open, connection.bodyStream != nil else { return }
    while let stream = connection.bodyStream {
      guard stream.token != 0,
        let room = handler.bodyRoom(token: stream.token, ticket: stream.ticket)
      else {
        connection.bodyStream!.waitingForRoom = true
        return
      }
      connection.bodyStream!.waitingForRoom = false
      let written: Int
      let isLast: Bool
      do {
        (written, isLast) = try fill(room, from: connection)
      } catch {
        failBodyStream(connection, error)
        return
      }
      guard written > 0 || isLast else { break }
      handler.bodyWritten(
        token: stream.token, ticket: stream.ticket, count: written, isLast: isLast)
      if isLast {
        finishBodyStream(connection)
        return
      }
    }
    // Room, and nothing buffered: read more.
    guard !connection.receiving else { return }
    connection.bodyStream!.clientWaitStartedAt = now
    connection.bytesWanted = BodyStream.receiveBytes
    armReceive(connection)
  }

  /// Writes body bytes into `room`: the decoded prefix first, then the buffer (de-chunked
  /// straight into the room; decoding never grows data, so `room.count` input bytes fit).
  private func fill(_ room: UnsafeMutableRawBufferPointer, from connection: Connection)
    throws(HTTPError) -> (written: Int, isLast: Bool)
  {
    var stream = connection.bodyStream!
    defer { connection.bodyStream = stream }
    let prefix = stream.decoded.bytes
    if stream.decodedSent < prefix.count {
      let count = min(room.count, prefix.count - stream.decodedSent)
      room.baseAddress!.copyMemory(
        from: prefix.baseAddress! + stream.decodedSent, byteCount: count)
      stream.decodedSent += count
      var isLast = false
      if stream.decodedSent == prefix.count, case .chunked(let decoder) = stream.framing {
        isLast = decoder.isComplete
      }
      return (count, isLast)
    }
    let raw = connection.buffer.readable
    switch stream.framing {
    case .contentLength(let remaining):
      let count = min(remaining, raw.count, room.count)
      if count > 0 { room.baseAddress!.copyMemory(from: raw.baseAddress!, byteCount: count) }
      connection.buffer.consume(count)
      stream.framing = .contentLength(remaining: remaining - count)
      return (count, remaining == count)
    case .chunked(var decoder):
      let input = UnsafeRawBufferPointer(rebasing: raw[0..<min(raw.count, room.count)])
      var count = 0
      let consumed = try decoder.decode(input) { piece in
        (room.baseAddress! + count).copyMemory(from: piece.baseAddress!, byteCount: piece.count)
        count += piece.count
      }
      connection.buffer.consume(consumed)
      stream.framing = .chunked(decoder)
      return (count, decoder.isComplete)
    }
  }

  /// The last part went to the handler: the connection is an ordinary one waiting for its
  /// reply again (pipelined bytes stay in the buffer for the next request).
  private func finishBodyStream(_ connection: Connection) {
    connection.bodyStream!.decoded.releaseMemory()
    connection.bodyStream = nil
    connection.bytesWanted = 1
    if !connection.buffer.isEmpty { connection.requestStartedAt = now }
    if connection.handling && connection.buffer.isEmpty { armReceive(connection) }
  }

  /// The body cannot arrive whole (bad framing, over --max-body, body timeout): the handler
  /// hears so, the client gets the error and the connection closes. A reply the handler sends
  /// later finds the request gone and is only released.
  func failBodyStream(_ connection: Connection, _ error: HTTPError) {
    abortBodyStream(connection)
    // Once a streamed reply's head went out, an error status can no longer reach the client:
    // closing is what tells it the exchange failed.
    if connection.stream.framing != .none {
      closeStream(connection)
      return
    }
    setHandling(connection, false)
    replyFramingError(connection, error)
  }

  /// Tells the handler the body will not arrive whole, and forgets the stream.
  func abortBodyStream(_ connection: Connection) {
    guard var stream = connection.bodyStream else { return }
    connection.bodyStream = nil
    stream.decoded.releaseMemory()
    if stream.token != 0 { handler.bodyAborted(token: stream.token, ticket: stream.ticket) }
  }

  /// A reply came before the body's end: the rest is not read (no copy of it is wanted), and
  /// the connection closes after the reply (lingering, so the reply is not reset away).
  func stopBodyStreamForReply(_ connection: Connection) {
    guard var stream = connection.bodyStream else { return }
    connection.bodyStream = nil
    stream.decoded.releaseMemory()
    connection.replyKeepAlive = false
  }

  /// When the body times out: only while the loop waits for the client, not for room.
  func bodyStreamDeadline(_ connection: Connection) -> UInt64? {
    guard let stream = connection.bodyStream, !stream.waitingForRoom, connection.receiving
    else { return nil }
    return stream.clientWaitStartedAt + config.bodyTimeoutNs
  }
}
