import CRingABI

/// Per-slot state of a request the worker holds. Records live at stable addresses (one per
/// slot), so that a `rw_request *` handed to C stays valid until the reply is sent.
struct RequestRecord {
  /// `streaming`: the reply's first part was published (ReplyWriter.write); `idle` once the
  /// last part or a whole reply is.
  enum Phase: UInt8 { case idle, received, replying, bodyTaken, streaming }

  var phase = Phase.idle
  var slot: UInt32 = 0
  var requestID: UInt64 = 0
  var memory: UnsafeMutableRawPointer? = nil
  var slotSize = 0
  var status: UInt32 = 0
  /// Where the next reply header line goes, from the slot start.
  var headerCursor = 0
  var worker: UnsafeMutableRawPointer? = nil  // Unmanaged<Worker>, for the C entry points
  /// Where reply header lines start: from the request descriptor, so that replying needs no
  /// read of the slot's request head (one cache miss less per hop).
  var replyOffset = 0
  /// This slot's room for the text forms of the request's addresses (remote, then local, each
  /// rb_endpoint.maximumTextLength bytes): formatted on demand, so that reading an address as
  /// text allocates nothing per request. Part of one allocation the Worker makes at attach.
  var addressText: UnsafeMutablePointer<CChar>? = nil
  /// How far the request's body was read (RequestBody.swift).
  var body = BodyReadState()

  // A streamed reply (ringabi.h, "Streamed replies"): its body goes out in parts from two
  // halves of the reply room after the header lines, so the worker fills one half while the
  // front sends the other.
  /// Parts published and not yet credited (RB_REQ_PART_SENT). Kept after the last part: a
  /// credit pushed before the front took it may still come.
  var partsInFlight = 0
  /// No part is published yet: a failure can still answer 502.
  var headPending = false
  /// A credit said the client is gone (RB_REQ_CLIENT_GONE).
  var clientGone = false
  /// From ReplyWriter.setLength; RB_LENGTH_UNDECLARED when none.
  var declaredLength = RB_LENGTH_UNDECLARED
  /// Body bytes written so far.
  var bodyWritten: UInt64 = 0
  /// Where the two halves start (the first right after the header lines and the declared
  /// length) and how large each is; 0 before the first write.
  var halvesStart = 0
  var halfSize = 0
  /// The half being filled (0 or 1) and its bytes not yet published.
  var half = 0
  var halfFill = 0
  /// The halves are the channel's stream window, not this slot's room (ringabi.h, "Stream
  /// window"): offsets count from the window, and parts carry RB_RESP_IN_STREAM_WINDOW.
  var inStreamWindow = false

  var head: UnsafePointer<rb_request_head> {
    UnsafePointer(memory!.assumingMemoryBound(to: rb_request_head.self))
  }

}
