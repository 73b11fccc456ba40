import Foundation

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
          let sockets = try (0..<connections).map { _ in try HTTPConnection(port: port) }
          for round in 0..<rounds {
            for (c, socket) in sockets.enumerated() {
              lock.withLock { sentCount += 1 }
              try socket.sendGet("/t\(index)/c\(c)/r\(round)")
            }
            for (c, socket) in sockets.enumerated() {
              let reply = try socket.readReply()
              guard reply.status == 200, reply.body == "ok /t\(index)/c\(c)/r\(round)" else {
                throw TestError("unexpected reply \(reply.status) \(reply.body)")
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

  func wait() {
    for _ in threads { finished.wait() }
  }
}

/// A counting semaphore from NSCondition (no Dispatch needed).
final class CountingSemaphore {
  private let condition = NSCondition()
  private var count = 0

  func signal() {
    condition.lock()
    count += 1
    condition.signal()
    condition.unlock()
  }

  func wait() {
    condition.lock()
    while count == 0 { condition.wait() }
    count -= 1
    condition.unlock()
  }
}
