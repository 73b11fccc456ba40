/// Counters of one loop, written by its thread only (read them from that thread, e.g. in the
/// handler's poll, to publish metrics).
public struct FrontStats {
  public var connectionsAccepted: UInt64 = 0
  /// Accepted beyond maxConnections or during a stop, and closed at once.
  public var connectionsRejected: UInt64 = 0
  /// Idle keep-alive connections closed at maxConnections to admit a new client.
  public var idleConnectionsReclaimed: UInt64 = 0
  public var requests: UInt64 = 0
  /// Replies the front generated for malformed requests (4xx/5xx from HTTP1).
  public var framingErrors: UInt64 = 0
  public var headerTimeouts: UInt64 = 0
  public var idleTimeouts: UInt64 = 0
  public var sendTimeouts: UInt64 = 0
  public var copySends: UInt64 = 0
  public var zeroCopySends: UInt64 = 0
  public var bytesReceived: UInt64 = 0
  public var bytesSent: UInt64 = 0
}
