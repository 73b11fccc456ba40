import CRingABI
import HTTP1
import RingChannel

/// Where a connection is in its life. Only `open` reads requests.
enum ConnectionLifecycle {
  /// Slot unused.
  case free
  case open
  /// No more requests: send what is queued, then linger.
  case closingAfterSend
  /// Write side shut down; read and discard until the client closes or the linger time ends.
  case lingering
  /// Closing: waiting for in-flight operations to come back, then the fd is closed and, once
  /// every zero-copy notification arrived, the slot is freed.
  case aborted
}

/// One client connection of a front loop. Slots are reused; `generation` tells a late reply for
/// an earlier occupant apart.
/// The buffers and queues are @exclusivity(unchecked): only the owning loop's thread touches
/// them, and the dynamic checks showed up in profiles.
final class Connection {
  let index: UInt32
  var generation: UInt32 = 0
  var fd: Int32 = -1
  var lifecycle = ConnectionLifecycle.free

  @exclusivity(unchecked) var buffer = ReceiveBuffer()
  @exclusivity(unchecked) var reader: RequestReader
  /// The body of the request with the handler, while it streams (FrontLoop+BodyStream).
  @exclusivity(unchecked) var bodyStream: BodyStream?
  /// How many more bytes the request being read needs at least (a hint for buffer growth).
  var bytesWanted = 1
  /// A recv into `buffer` is in flight. While `handling`, only into an empty buffer (to notice a
  /// client that leaves); pipelined bytes then wait in the kernel, which is the backpressure.
  var receiving = false

  /// A request is with the handler and its reply was not queued yet.
  var handling = false
  /// The connection has FrontLoop.maxRepliesAhead replies unsent: no request is read until sends
  /// make room, so the wait is the client's (the send timeout applies, not the header timeout).
  var heldBackByReplies = false
  var serial: UInt32 = 0
  var replyKeepAlive = true
  var replyOmitsBody = false
  var requestVersionMinor = 1
  var requestsServed = 0

  /// The reply being streamed to this connection (its parts still coming from the handler).
  var stream = ReplyStream()

  /// Replies queued or partly sent, in request order.
  @exclusivity(unchecked) var replies: [PendingReply] = []
  /// The sendmsg in flight, if any; one at a time keeps replies in order.
  var sendOperation: UInt32?
  /// Zero-copy sends whose notification is outstanding, oldest first.
  @exclusivity(unchecked) var zeroCopyOperations: [UInt32] = []
  /// The client's end and ours, read once at accept: every request of the connection carries
  /// them, and no request costs a syscall for them.
  var remote = rb_endpoint()
  var local = rb_endpoint()
  /// CLOCK_REALTIME ns when the loop found the current request's head complete; 0 before.
  var headCompletedAt: UInt64 = 0
  /// Large replies may go out with SENDMSG_ZC (false for clients on this host).
  var mayZeroCopy = false
  /// The client closed its side; no linger needed after the last reply.
  var peerClosed = false
  /// The handler gave up the reply being streamed (FrontLoop.closeReply): the deferred work
  /// closes the connection, outside the handler's call.
  var closeRequested = false
  /// isConnectionAlive told the handler this client is gone: it may drop the request unanswered.
  var handlerToldGone = false

  // Timers (CLOCK_MONOTONIC ns).
  var requestStartedAt: UInt64 = 0
  /// When the request in `handling` was handed over (for the reply latency); 0 when none.
  var handedAt: UInt64 = 0
  var lastActivity: UInt64 = 0
  var lastSendProgress: UInt64 = 0
  var lingerUntil: UInt64 = 0

  var inReadyList = false

  // The access log (FrontLoop+AccessLog).
  /// What the current request's line needs from its head; nil without an access log.
  @exclusivity(unchecked) var logCapture: AccessLogCapture?
  /// Who wrote the current request's reply (FrontLoop.noteUpstream).
  @exclusivity(unchecked) var upstream = UpstreamNote()
  /// The status of the streamed reply being sent (0: none), and its body bytes queued so far.
  @exclusivity(unchecked) var streamedStatus = 0
  @exclusivity(unchecked) var streamedBodyBytes = 0

  init(index: UInt32, limits: HTTPLimits, capturesForAccessLog: Bool = false) {
    self.index = index
    self.reader = RequestReader(limits: limits)
    if capturesForAccessLog { logCapture = AccessLogCapture() }
  }

  deinit { logCapture?.release() }

  var ticket: ReplyTicket { ReplyTicket(connection: index, generation: generation, serial: serial) }

  /// Nothing in progress: no request being read, handled or answered.
  var isIdle: Bool {
    lifecycle == .open && !handling && replies.isEmpty && sendOperation == nil
      && !reader.hasPartialRequest(buffer)
  }

  /// Back to a fresh state for the next occupant of the slot.
  func reset() {
    generation &+= 1
    fd = -1
    lifecycle = .free
    buffer.clear()
    buffer.shrinkIfIdle()
    reader.reset()
    reader.releaseMemory()
    bodyStream?.decoded.releaseMemory()
    bodyStream = nil
    bytesWanted = 1
    receiving = false
    handling = false
    heldBackByReplies = false
    serial = 0
    replyKeepAlive = true
    replyOmitsBody = false
    requestVersionMinor = 1
    requestsServed = 0
    stream = ReplyStream()
    replies.removeAll(keepingCapacity: true)
    sendOperation = nil
    zeroCopyOperations.removeAll(keepingCapacity: true)
    mayZeroCopy = false
    remote = rb_endpoint()
    local = rb_endpoint()
    headCompletedAt = 0
    peerClosed = false
    handlerToldGone = false
    closeRequested = false
    requestStartedAt = 0
    handedAt = 0
    lastActivity = 0
    lastSendProgress = 0
    lingerUntil = 0
    inReadyList = false
    logCapture?.isCurrent = false
    upstream = UpstreamNote()
    streamedStatus = 0
    streamedBodyBytes = 0
  }
}
