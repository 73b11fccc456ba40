import Foundation
import TestSupport

/// A few client threads, each keeping several keep-alive connections busy (one request in flight
/// per connection), counting requests sent and replies received so a test can compare them with
/// ringstat's counters at any moment.
final class LoadClient {
  private let lock = NSLock()
  private var sentCount = 0
  private var receivedCount = 0
  private var failures: [String] = []
  private var threads: [Thread] = []
  private let finished = CountingSemaphore()

  var sent: Int { lock.withLock { sentCount } }
  var received: Int { lock.withLock { receivedCount } }
  var errors: [String] { lock.withLock { failures } }

  /// Starts `threads` threads × `connections` connections × `rounds` requests each.
  func start(port: UInt16, threads: Int, connections: Int, rounds: Int) {
    for index in 0..<threads {
      let thread = Thread { [self] in
        defer { finished.signal() }
        do {
          let sockets = try (0..<connections).map { _ in try RawHTTPClient(port: port) }
          for round in 0..<rounds {
            for (c, socket) in sockets.enumerated() {
              lock.withLock { sentCount += 1 }
              try socket.send(Requests.get("/t\(index)/c\(c)/r\(round)"))
            }
            for (c, socket) in sockets.enumerated() {
              let reply = try socket.readResponse()
              guard reply.status == 200, reply.bodyText == "ok /t\(index)/c\(c)/r\(round)" else {
                throw TestError("unexpected reply \(reply.status) \(reply.bodyText)")
              }
              lock.withLock { receivedCount += 1 }
            }
          }
        } catch {
          lock.withLock { failures.append("\(error)") }
        }
      }
      self.threads.append(thread)
      thread.start()
    }
  }

  /// Waits for every thread to finish; throws when they have not within `timeout` seconds.
  func wait(timeout: Double = 120) throws {
    let deadline = Date().addingTimeInterval(timeout)
    for _ in threads {
      guard finished.wait(timeout: max(0, deadline.timeIntervalSinceNow)) else {
        throw TestError("the load client's threads did not finish within \(timeout) s")
      }
    }
  }
}
