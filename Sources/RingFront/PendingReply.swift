import Glibc

/// What must be given back once the kernel no longer reads a reply's memory.
struct ReleaseItem {
  /// The handler's release token; nil for replies the front wrote itself.
  var token: UInt64?
  /// Memory the front allocated for this reply: a head chunk from the pool, or a malloc'd error
  /// message.
  var storage: UnsafeMutableRawPointer?
  var storageIsPooled = false
}

/// One reply queued on a connection, as up to four byte ranges sent in order without copying:
/// the front's head bytes, the handler's header lines, the blank line, the body.
struct PendingReply {
  var front: UnsafeRawPointer
  var frontLength: Int
  var headers: UnsafeRawPointer? = nil
  var headersLength = 0
  /// 2 when the blank line ending the head follows the handler's header lines, else 0 (the
  /// front's bytes then already contain it).
  var terminatorLength = 0
  var body: UnsafeRawPointer? = nil
  var bodyLength = 0
  /// Bytes already accepted by the kernel.
  var sent = 0
  var release: ReleaseItem

  var total: Int { frontLength + headersLength + terminatorLength + bodyLength }
  var unsentBodyBytes: Int { min(bodyLength, total - sent) }

  static let terminator: UnsafeRawPointer = {
    let p = UnsafeMutableRawPointer.allocate(byteCount: 2, alignment: 1)
    p.storeBytes(of: 0x0D, toByteOffset: 0, as: UInt8.self)
    p.storeBytes(of: 0x0A, toByteOffset: 1, as: UInt8.self)
    return UnsafeRawPointer(p)
  }()

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
    add(headers, headersLength)
    add(Self.terminator, terminatorLength)
    add(body, bodyLength)
    return used
  }
}
