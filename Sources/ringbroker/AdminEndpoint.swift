import RingAdmin
import RingFront

/// The admin endpoint's own front server: one loop, a few connections, short timeouts; a
/// slow or hostile admin client can hold only these, never a client connection.
enum AdminEndpoint {
  static func server(listening address: ListenAddress) -> FrontServer {
    let config = FrontConfig(
      listen: address, headerTimeoutNs: 5_000_000_000, bodyTimeoutNs: 5_000_000_000,
      idleTimeoutNs: 30_000_000_000, maxConnections: 64, zeroCopyThreshold: 0)
    return FrontServer(config: config, threads: 1) { _ in
      AdminResponder { AdminResponder.ownReport(stuckAfterNs: 1_000_000_000) }
    }
  }
}

/// The admin address cannot be served (in use, not resolvable): named as the option.
struct AdminStartFailure: Error, CustomStringConvertible {
  var error: Error
  var description: String { "--admin: \(error)" }
}
