import CRingABI
import CURing
import Glibc
import HTTP1
import RingChannel

extension FrontLoop {
  /// Queues a recv into the free end of the connection's buffer, growing it if the request being
  /// read needs more room.
  func armReceive(_ connection: Connection) {
    guard !connection.receiving, connection.fd >= 0 else { return }
    let wanted = max(connection.bytesWanted, 2048)
    guard connection.buffer.reserve(atLeast: wanted, limit: receiveLimit) else {
      // Only a request beyond every limit can fill the largest buffer.
      replyFramingError(connection, HTTPError(status: 413, reason: "request too large"))
      return
    }
    let sqe = ring.nextSQE()
    io_uring_prep_recv(
      sqe, connection.fd, connection.buffer.writable, connection.buffer.freeSpace, 0)
    sqe.pointee.user_data = UserData.encode(.receive, UInt64(connection.index))
    connection.receiving = true
  }

  func receiveCompleted(_ connection: Connection, result: Int32) {
    connection.receiving = false
    switch connection.lifecycle {
    case .open:
      if result > 0 {
        if !connection.reader.hasPartialRequest(connection.buffer) && connection.requestsServed > 0
        {
          connection.requestStartedAt = now
        }
        connection.buffer.commit(Int(result))
        connection.lastActivity = now
        stats.pointee.bytes_received &+= UInt64(result)
        markReady(connection)
      } else if result == -EINTR || result == -EAGAIN || result == -ENOBUFS {
        if !connection.handling || connection.buffer.isEmpty { armReceive(connection) }
      } else if result == 0 && connection.handling {
        abortBodyStream(connection)  // a body still on its way will not arrive whole
        // The client closed its side while its request is with the handler. It may only have
        // half-closed and still read, so a reply still goes out; but no further request is read,
        // and isConnectionAlive tells the handler it may drop the request.
        connection.peerClosed = true
        connection.lifecycle = .closingAfterSend
      } else if result == 0 && (!connection.replies.isEmpty || connection.sendOperation != nil) {
        // Half-closed after pipelining: the replies already queued still go out.
        connection.peerClosed = true
        connection.lifecycle = .closingAfterSend
        markReady(connection)
      } else {
        abort(connection)
      }
    case .closingAfterSend, .lingering:
      if result > 0 {
        connection.buffer.clear()
        armReceive(connection)
      } else if connection.lifecycle == .lingering || result != 0 {
        abort(connection)
      } else {
        connection.peerClosed = true
        markReady(connection)
      }
    case .aborted:
      finishClosingIfPossible(connection)
    case .free:
      break
    }
  }

  /// Replies a connection may have queued or being sent before the loop stops handing over
  /// (and so reading) its next pipelined request, as nginx does: a client that pipelines and
  /// does not read then holds at most this many replies (worker slots, head chunks), its further
  /// requests wait in the kernel and its sends block. Reading resumes as sends complete. 4 still
  /// lets a pipelining client's replies leave in batches, while one client can pin only 4 of a
  /// worker's 26 slots: it takes fourteen clients that never read to hold every slot of two
  /// workers (each is closed by the send timeout, --idle-timeout).
  static let maxRepliesAhead = 4

  /// Moves the connection's request forward: parse, read the body, hand a complete request to
  /// the handler. Pipelined requests that the handler answers at once are handled in the same
  /// pass, so their replies leave in one sendmsg.
  func pump(_ connection: Connection) {
    if connection.bodyStream != nil { return pumpBody(connection) }
    if connection.heldBackByReplies && connection.replies.count < Self.maxRepliesAhead {
      connection.heldBackByReplies = false
      // What waited in the buffer gets the full header timeout from now on.
      if !connection.buffer.isEmpty { connection.requestStartedAt = now }
    }
    while connection.lifecycle == .open && !connection.handling && !connection.receiving {
      guard connection.replies.count < Self.maxRepliesAhead else {
        connection.heldBackByReplies = true
        return
      }
      let step = connection.reader.advance(&connection.buffer)
      if connection.headCompletedAt == 0 && connection.reader.hasHead {
        connection.headCompletedAt = wallClock
      }
      switch step {
      case .needMore(let bytes):
        connection.bytesWanted = bytes
        armReceive(connection)
        return
      case .sendContinue:
        queueStaticReply(connection, StaticReplies.continue100)
      case .failed(let error):
        replyFramingError(connection, error)
        return
      case .complete:
        dispatchRequest(connection)
      case .streamBody:
        beginBodyStream(connection)
        dispatchRequest(connection)
      }
    }
  }

  private func dispatchRequest(_ connection: Connection) {
    let head = connection.reader.head
    setHandling(connection, true)
    connection.handedAt = now
    connection.serial &+= 1
    connection.replyKeepAlive = head.keepAlive && !isDraining
    connection.replyOmitsBody = head.isHeadMethod
    connection.requestVersionMinor = head.versionMinor
    stats.pointee.requests &+= 1
    let origin = RequestOrigin(
      remote: connection.remote, local: connection.local, scheme: UInt32(RB_SCHEME_HTTP),
      receivedUnixNanoseconds: connection.headCompletedAt)
    connection.headCompletedAt = 0
    let request = connection.reader.request(in: connection.buffer, origin: origin)
    captureForAccessLog(connection, request)
    handler.handle(request, ticket: connection.ticket, loop: self)
    // The request's bytes were valid only during handle(); what follows is the next request.
    connection.reader.finish(&connection.buffer)
    connection.buffer.shrinkIfIdle()  // a large body is done: do not keep its buffer while idle
    connection.bytesWanted = 1
    connection.requestStartedAt = connection.buffer.isEmpty ? 0 : now
    // While the handler works, a recv notices a client that goes away. Only into an empty buffer:
    // pipelined bytes must stay put for the next pump, and they wait in the kernel meanwhile.
    if connection.bodyStream != nil {
      markReady(connection)  // the body follows (pumpBody)
    } else if connection.handling && connection.buffer.isEmpty {
      armReceive(connection)
    }
  }
}
