import HTTP1

/// Every request's reply is recorded in one place, `recordReply`: the access log line (when
/// there is an access log) is written there, and whatever else counts replies belongs there
/// too. It runs when a reply is queued (the handler's, or one the front writes itself), when a
/// streamed reply's last part is queued, and when a connection closes while its request still
/// waits for its reply (499, or a streamed reply's status with the body bytes queued so far).
extension FrontLoop {
  // MARK: - The handler's side

  /// Says who wrote the reply the handler is about to queue for `ticket`: the worker (nil when
  /// the handler answers itself, e.g. a 504), the request id that worker saw (0: none) and the
  /// time the request spent there (nil: not measured). The access log line of the request
  /// carries them. Call it before `reply` / `startReply` (or before any part of a streamed
  /// reply; the last call counts); a ticket whose request was answered already is ignored.
  /// No allocation.
  public func noteUpstream(
    _ ticket: ReplyTicket, worker: Int?, requestID: UInt64, upstreamNs: UInt64?
  ) {
    guard let connection = handlingConnection(ticket) else { return }
    connection.upstream = UpstreamNote(
      worker: worker ?? -1, requestID: requestID, nanoseconds: upstreamNs ?? .max)
  }

  // MARK: - Internals

  /// The one place a finished reply is recorded: `status` and the reply's body bytes as queued
  /// (none for HEAD, 204, 304). Called exactly once per request that reached a reply or was
  /// given up (see the type's comment).
  func recordReply(_ connection: Connection, status: Int, bodyBytes: Int) {
    // What the handler noted is this request's only: the next one starts without.
    let upstream = connection.upstream
    connection.upstream = UpstreamNote()
    connection.streamedStatus = 0
    connection.streamedBodyBytes = 0
    guard let accessLog, var capture = connection.logCapture else { return }
    // Every request is captured before its reply; an empty request line is the fallback.
    if !capture.isCurrent {
      capture.captureUnparsed(UnsafeRawBufferPointer(start: nil, count: 0), headers: [])
    }
    let record = AccessLogRecord(
      unixNanoseconds: wallClock, status: status,
      bodyBytes: bodyBytes, upstream: upstream)
    let line = accessLog.writer.reserve(AccessLogFormatter.maximumLength(capture))
    accessLog.writer.commit(accessLog.formatter.write(record, capture, to: line))
    capture.isCurrent = false
    connection.logCapture = capture
  }

  /// The request handed to the handler now: what its line needs, before the buffer is reused.
  @inline(__always)
  func captureForAccessLog(_ connection: Connection, _ request: IncomingRequest) {
    connection.logCapture?.capture(head: request.head, parsed: request.parsed)
  }

  /// The front refuses what the connection sent (a framing error or a timeout): the request's
  /// line as far as it came, unless the handler had the request already (its body failed).
  func captureRefusedRequest(_ connection: Connection) {
    guard connection.logCapture.map({ !$0.isCurrent }) ?? false else { return }
    let bytes = connection.buffer.readable
    // A path or host is set once the whole request line parsed (the error is in a field, or
    // the body): the line's parts go in the log as for any request.
    if let head = connection.reader.currentHead(), !head.path.isEmpty || !head.host.isEmpty,
      head.target.upperBound <= bytes.count
    {
      connection.logCapture!.capture(head: bytes, parsed: head)
    } else {
      connection.logCapture!.captureUnparsed(
        bytes, headers: connection.reader.currentHead()?.headers ?? [])
    }
  }

  /// The connection closes while its request waits for its reply: a streamed reply that began
  /// is recorded with what was queued of it, else the request is recorded as 499 (nginx's
  /// "client closed the connection"; also when a stop past --drain-timeout closes it).
  func recordUnanswered(_ connection: Connection) {
    guard connection.handling else { return }
    let status = connection.streamedStatus
    recordReply(
      connection, status: status == 0 ? 499 : status, bodyBytes: connection.streamedBodyBytes)
  }

  /// Lines written so far go out (the timer scan calls this, and the loop at its end).
  func flushAccessLog() { accessLog?.writer.flush() }
}
