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
  /// The body is too large to collect (over `FrontHandler.wholeRequestLimit`): `body` is
  /// empty, and the body follows through `bodyRoom` / `bodyWritten` once the handler called
  /// `loop.resumeBody` (see FrontHandler).
  public var streamsBody: Bool

  public init(
    head: UnsafeRawBufferPointer, parsed: RequestHead, body: UnsafeRawBufferPointer,
    origin: RequestOrigin, streamsBody: Bool = false
  ) {
    self.head = head
    self.parsed = parsed
    self.body = body
    self.origin = origin
    self.streamsBody = streamsBody
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

  /// The memory of the reply sent with this token may be reused: the loop no longer reads it.
  /// That is once the send finished (for zero-copy sends, after the kernel's notification),
  /// failed, or the connection was gone; or, for a reply whose body the loop copied (small, or
  /// none sent), as soon as the reply was queued. It says nothing about delivery. Never called
  /// from inside `reply`; always from the loop itself.
  func released(token: UInt64)

  /// Completion of an operation the handler asked the loop for, with the token it gave: a
  /// typed one (`waitOnWord`, `wakeWord`, `watchProcessExit`, `cancel(operation:token:)`;
  /// FrontLoop+Operations) or a raw SQE from `loop.submit`. Each completes exactly once.
  func completed(token: UInt64, result: Int32, flags: UInt32, loop: FrontLoop)

  /// Called only when the loop found no work and is about to block in io_uring: the moment to
  /// arm wake-ups that cost the other side a syscall. Return false (or call `keepPolling`) when
  /// work turned up meanwhile and the loop must not block.
  func prepareToWait(loop: FrontLoop) -> Bool

  // MARK: Streamed request bodies
  //
  // A request whose body streams is handed over when its head is complete. The handler calls
  // `loop.resumeBody(ticket, token:)` once it has somewhere to put the body (the token names
  // that place, never 0), and again whenever room frees up. The loop then asks `bodyRoom`,
  // writes what the client sent into it and reports it with `bodyWritten`, until the last
  // part; while there is no room it does not read the connection (the client's upload waits
  // in the kernel). A body that cannot arrive whole (client gone, bad framing, over
  // --max-body, body timeout) is reported with `bodyAborted`; a reply that comes before the
  // body's end stops the stream and closes the connection after the reply.

  /// Requests needing more bytes than this (RequestSlotWriter.requiredBytes) stream their
  /// body; nil: bodies are collected whole (up to --max-body) before `handle`.
  var wholeRequestLimit: Int? { get }

  /// Where the next body bytes of the request named by `token` may go; nil: no room now.
  func bodyRoom(token: UInt64, ticket: ReplyTicket) -> UnsafeMutableRawBufferPointer?

  /// `count` bytes were written at the start of the last `bodyRoom`; `isLast`: the body ends.
  func bodyWritten(token: UInt64, ticket: ReplyTicket, count: Int, isLast: Bool)

  /// The body will not arrive whole.
  func bodyAborted(token: UInt64, ticket: ReplyTicket)

  /// True while the handler still owes replies or holds reply memory the kernel may touch;
  /// a graceful stop waits for it (up to the drain deadline).
  var hasWork: Bool { get }
}

extension FrontHandler {
  public func prepareToWait(loop: FrontLoop) -> Bool { true }
  public var wholeRequestLimit: Int? { nil }
  public func bodyRoom(token: UInt64, ticket: ReplyTicket) -> UnsafeMutableRawBufferPointer? {
    nil
  }
  public func bodyWritten(token: UInt64, ticket: ReplyTicket, count: Int, isLast: Bool) {}
  public func bodyAborted(token: UInt64, ticket: ReplyTicket) {}
}
