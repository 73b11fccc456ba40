import Glibc

/// What must be given back once the kernel no longer reads a reply's memory.
struct ReleaseItem {
  /// The handler's release token; nil for replies the front wrote itself.
  var token: UInt64?
  /// Memory the front allocated for this reply: a head chunk from the pool, or a malloc'd block
  /// (a large head, an error reply).
  var storage: UnsafeMutableRawPointer?
  var storageIsPooled = false
}

/// One reply queued on a connection, as two byte ranges sent in order without copying: the
/// front's bytes and the body.
struct PendingReply {
  /// In front-owned memory: the whole head (status line through the blank line, handler header
  /// lines included, as checked), or a whole reply the front wrote itself. Nothing a handler or
  /// worker writes later can change these bytes.
  var front: UnsafeRawPointer
  var frontLength: Int
  /// The handler's body, sent from its memory: body bytes cannot change the framing.
  var body: UnsafeRawPointer? = nil
  var bodyLength = 0
  /// Front bytes sent after the body, stored right after `frontLength` in `front`: the end of
  /// a streamed reply's chunked framing ("\r\n0\r\n\r\n").
  var trailerLength = 0
  /// Bytes already accepted by the kernel.
  var sent = 0
  var release: ReleaseItem

  var total: Int { frontLength + bodyLength + trailerLength }
  var unsentBodyBytes: Int { max(0, min(bodyLength, total - trailerLength - sent)) }

  /// Writes iovecs for the bytes not sent yet into `iov` (at most `room`); returns how many.
  func writeUnsent(to iov: UnsafeMutablePointer<iovec>, room: Int) -> Int {
    var skip = sent
    var used = 0
    func add(_ base: UnsafeRawPointer?, _ length: Int) {
      guard length > 0, used < room else { return }
      if skip >= length {
        skip -= length
        return
      }
      iov[used] = iovec(
        iov_base: UnsafeMutableRawPointer(mutating: base! + skip), iov_len: length - skip)
      skip = 0
      used += 1
    }
    add(front, frontLength)
    add(body, bodyLength)
    add(front + frontLength, trailerLength)
    return used
  }
}
