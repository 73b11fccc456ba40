import HTTP1

extension FrontLoop {
  /// Timeouts are checked this often; they are seconds long, so 100 ms is precise enough and
  /// the scan of the deadline array stays negligible even with 10k connections.
  static let timerScanInterval: UInt64 = 100_000_000

  /// Recomputes the connection's earliest deadline after a state change.
  func rearmTimer(_ connection: Connection) {
    var deadline: UInt64 = 0
    func consider(_ candidate: UInt64) {
      if deadline == 0 || candidate < deadline { deadline = candidate }
    }
    switch connection.lifecycle {
    case .lingering:
      consider(connection.lingerUntil)
    case .open, .closingAfterSend:
      if connection.sendOperation != nil {
        consider(connection.lastSendProgress + config.idleTimeoutNs)
      }
      if let bodyDeadline = bodyStreamDeadline(connection) { consider(bodyDeadline) }
      if connection.lifecycle == .open && !connection.handling && !connection.heldBackByReplies {
        if waitsForRequest(connection) {
          consider(requestDeadline(connection))
        } else if connection.replies.isEmpty && connection.sendOperation == nil {
          consider(connection.lastActivity + config.idleTimeoutNs)
        }
      }
    case .aborted, .free:
      break
    }
    deadlines[Int(connection.index)] = deadline
  }

  /// When a request being read gets 408: its head must be complete within the header timeout
  /// from its start; its body may take as long as it keeps coming, each read within the body
  /// timeout of the last (like nginx's client_body_timeout), so a slow upload that progresses
  /// is never cut off.
  private func requestDeadline(_ connection: Connection) -> UInt64 {
    connection.reader.isReadingBody
      ? connection.lastActivity + config.bodyTimeoutNs
      : connection.requestStartedAt + config.headerTimeoutNs
  }

  /// A request was begun (or the client connected and owes its first one) and is incomplete.
  private func waitsForRequest(_ connection: Connection) -> Bool {
    connection.reader.hasPartialRequest(connection.buffer) || connection.requestsServed == 0
  }

  func scanTimers() {
    lastTimerScan = now
    if !acceptArmed && acceptRetryAt != 0 && now >= acceptRetryAt { armAccept() }
    for i in 0..<connections.count {
      let deadline = deadlines[i]
      if deadline != 0 && deadline <= now { timerExpired(connections[i]) }
    }
    runDeferredWork()
    flushAccessLog()
  }

  private func timerExpired(_ connection: Connection) {
    switch connection.lifecycle {
    case .lingering:
      abort(connection)
    case .open, .closingAfterSend:
      if connection.sendOperation != nil
        && now >= connection.lastSendProgress + config.idleTimeoutNs
      {
        // The client stopped reading; its reply cannot leave.
        stats.pointee.send_timeouts &+= 1
        abort(connection)
      } else if let bodyDeadline = bodyStreamDeadline(connection), now >= bodyDeadline {
        stats.pointee.header_timeouts &+= 1
        failBodyStream(connection, HTTPError(status: 408, reason: "request timeout"))
      } else if connection.lifecycle == .open && !connection.handling
        && !connection.heldBackByReplies
      {
        if waitsForRequest(connection) {
          if now >= requestDeadline(connection) {
            stats.pointee.header_timeouts &+= 1
            replyFramingError(connection, HTTPError(status: 408, reason: "request timeout"))
          }
        } else if connection.replies.isEmpty && connection.sendOperation == nil
          && now >= connection.lastActivity + config.idleTimeoutNs
        {
          stats.pointee.idle_timeouts &+= 1
          abort(connection)
        }
      }
    case .aborted, .free:
      break
    }
    rearmTimer(connection)
  }
}
