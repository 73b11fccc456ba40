import HTTP1
import RingChannel

/// One complete request as the loop hands it to its handler.
///
/// Every pointer is valid only during `FrontHandler.handle`: the bytes live in the connection's
/// receive buffer (and, for chunked bodies, its decode buffer), which the loop reuses as soon as
/// `handle` returns. A handler that answers later must copy what it needs (the dispatcher copies
/// the request into a worker slot, which is the one copy the design allows).
public struct IncomingRequest {
  /// Raw request head: request line through the blank line (CRLFCRLF).
  public var head: UnsafeRawBufferPointer
  /// HTTP1's parse of `head`; every range is relative to `head`.
  public var parsed: RequestHead
  /// The decoded body (chunked framing removed); empty when the request has none.
  public var body: UnsafeRawBufferPointer
  /// The connection's endpoints and scheme, and when the head was complete: what the request
  /// head in a worker slot carries (ABI version 2).
  public var origin: RequestOrigin

  public init(
    head: UnsafeRawBufferPointer, parsed: RequestHead, body: UnsafeRawBufferPointer,
    origin: RequestOrigin
  ) {
    self.head = head
    self.parsed = parsed
    self.body = body
    self.origin = origin
  }
}

/// Names one request on one connection, so a late reply can never reach the wrong client:
/// the generation changes when a connection slot is reused, the serial with every request.
public struct ReplyTicket: Hashable, CustomStringConvertible {
  public let connection: UInt32
  public let generation: UInt32
  public let serial: UInt32

  public init(connection: UInt32, generation: UInt32, serial: UInt32) {
    self.connection = connection
    self.generation = generation
    self.serial = serial
  }

  public var description: String { "ticket(\(connection).\(generation)#\(serial))" }
}

/// What a front loop calls. One handler instance per loop thread; every call comes from that
/// loop's thread, so a handler needs no locks for its own state.
public protocol FrontHandler: AnyObject {
  /// A complete request. The handler must later call exactly one of `loop.reply` /
  /// `loop.replyError` with this ticket; it may do so inside this call. The loop hands the next
  /// request of the same connection over only after that reply was queued.
  func handle(_ request: IncomingRequest, ticket: ReplyTicket, loop: FrontLoop)

  /// Called every loop iteration before the loop waits, and at least every tick; `now` is
  /// CLOCK_MONOTONIC nanoseconds.
  func poll(loop: FrontLoop, now: UInt64)

  /// The memory of the reply sent with this token may be reused: the send finished (for
  /// zero-copy sends, after the kernel's notification), failed, or the connection was gone.
  /// Never called from inside `reply`; always from the loop itself.
  func released(token: UInt64)

  /// Completion of an SQE the handler submitted through `loop.submit`.
  func completed(token: UInt64, result: Int32, flags: UInt32, loop: FrontLoop)

  /// Called only when the loop found no work and is about to block in io_uring: the moment to
  /// arm wake-ups that cost the other side a syscall. Return false (or call `keepPolling`) when
  /// work turned up meanwhile and the loop must not block.
  func prepareToWait(loop: FrontLoop) -> Bool

  /// True while the handler still owes replies or holds reply memory the kernel may touch;
  /// a graceful stop waits for it (up to the drain deadline).
  var hasWork: Bool { get }
}

extension FrontHandler {
  public func prepareToWait(loop: FrontLoop) -> Bool { true }
}
