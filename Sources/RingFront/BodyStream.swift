import HTTP1

/// A connection's request body on its way to the handler while the request is already there
/// (FrontHandler, "Streamed request bodies"). Front memory per connection stays bounded: the
/// body passes through the receive buffer (capped while streaming) into the handler's room.
struct BodyStream {
  enum Framing {
    case contentLength(remaining: Int)
    /// Decoded straight into the handler's room.
    case chunked(ChunkedDecoder)
  }

  var framing: Framing
  /// What a chunked body had decoded before it grew past the limit: written first.
  var decoded: DecodedBody
  var decodedSent = 0
  var ticket: ReplyTicket
  /// The handler's name for where the body goes; 0 until it called `resumeBody`.
  var token: UInt64 = 0
  /// The last `bodyRoom` was nil: the wait is the handler's, no body timeout runs.
  var waitingForRoom = true
  /// When the loop began waiting for the client's next bytes (the body timeout runs from it).
  var clientWaitStartedAt: UInt64 = 0

  /// Receive size while streaming: the buffer holds at most about this much body.
  static let receiveBytes = 16 * 1024
}
