import CRingABI

/// Per-slot state of a request the worker holds. Records live at stable addresses (one per
/// slot), so that a `rw_request *` handed to C stays valid until the reply is sent.
struct RequestRecord {
  enum Phase: UInt8 { case idle, received, replying, bodyTaken }

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

  var head: UnsafePointer<rb_request_head> {
    UnsafePointer(memory!.assumingMemoryBound(to: rb_request_head.self))
  }

}
