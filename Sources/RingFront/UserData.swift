/// What an io_uring completion belongs to. The kind sits in the top 8 bits of user_data and the
/// low 56 bits carry its payload, so the handler's 56-bit tokens and the loop's own operations
/// share one ring without ever being confused.
enum OpKind: UInt8 {
  /// An SQE the handler submitted; payload = the handler's token.
  case handler = 1
  /// The multishot accept on this loop's listening socket.
  case accept = 2
  /// A recv into a connection's buffer; payload = connection index.
  case receive = 3
  /// A send(msg) of queued replies; payload = send operation index.
  case send = 4
  /// The read on the loop's wake pipe that another thread writes to stop the loop.
  case wakeup = 5
  /// Cancellations and other operations whose completion needs no action.
  case ignored = 6
}

enum UserData {
  static let payloadBits: UInt64 = 56
  static let payloadMask: UInt64 = (1 << 56) - 1

  @inline(__always)
  static func encode(_ kind: OpKind, _ payload: UInt64) -> UInt64 {
    (UInt64(kind.rawValue) << payloadBits) | (payload & payloadMask)
  }

  @inline(__always)
  static func kind(_ value: UInt64) -> OpKind? {
    OpKind(rawValue: UInt8(truncatingIfNeeded: value >> payloadBits))
  }

  @inline(__always)
  static func payload(_ value: UInt64) -> UInt64 { value & payloadMask }
}
