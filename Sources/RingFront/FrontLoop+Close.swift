import CURing
import Glibc

extension FrontLoop {
  /// Closes the connection without another byte: in-flight operations are cancelled, and the
  /// fd and the slot are given up once the kernel handed every operation back.
  func abort(_ connection: Connection) {
    switch connection.lifecycle {
    case .aborted, .free: return
    default: break
    }
    connection.lifecycle = .aborted
    recordUnanswered(connection)
    abortBodyStream(connection)
    if connection.receiving || connection.sendOperation != nil {
      let sqe = ring.nextSQE()
      io_uring_prep_cancel_fd(sqe, connection.fd, UInt32(IORING_ASYNC_CANCEL_ALL))
      sqe.pointee.user_data = UserData.encode(.ignored, 0)
    }
    finishClosingIfPossible(connection)
  }

  /// Takes the next closing step the connection's state allows.
  func finishClosingIfPossible(_ connection: Connection) {
    switch connection.lifecycle {
    case .open:
      if isDraining && connection.isIdle { abort(connection) }
    case .closingAfterSend:
      if connection.handling {
        // The client left while its request was with the handler: wait for the reply, unless
        // the handler was told the client is gone and may never answer.
        if connection.handlerToldGone { abort(connection) }
        return
      }
      guard connection.replies.isEmpty, connection.sendOperation == nil else { return }
      if connection.peerClosed {
        abort(connection)
        return
      }
      // Half-close and read until the client closes: closing with unread request bytes would
      // make the kernel send a reset, which can destroy the reply before the client reads it.
      shutdown(connection.fd, Int32(SHUT_WR))
      connection.lifecycle = .lingering
      connection.lingerUntil = now + config.lingerTimeoutNs
      connection.bytesWanted = 1
      if !connection.receiving {
        connection.buffer.clear()
        armReceive(connection)
      }
    case .aborted:
      guard !connection.receiving, connection.sendOperation == nil else { return }
      if connection.fd >= 0 {
        close(connection.fd)
        connection.fd = -1
        for reply in connection.replies { retire(reply.release, on: connection) }
        connection.replies.removeAll(keepingCapacity: true)
        setHandling(connection, false)
      }
      if connection.zeroCopyOperations.isEmpty { freeConnection(connection) }
    case .lingering, .free:
      break
    }
  }

  private func freeConnection(_ connection: Connection) {
    deadlines[Int(connection.index)] = 0
    connection.reset()
    freeSlots.append(connection.index)
    liveConnections -= 1
  }
}
