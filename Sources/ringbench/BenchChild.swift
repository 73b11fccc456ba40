import Glibc
import RingWorker

/// The child side of each benchmark: `worker` serves a channel with empty 200 replies; `echo N`
/// echoes 64-byte messages on fd 100 → fd 101 until a zero-filled one, then drains N messages
/// and answers one byte.
func runBenchChild(_ arguments: [String]) -> Int32 {
  switch arguments.first {
  case "worker":
    let worker: Worker
    do { worker = try Worker.fromEnvironment() } catch {
      fputs("ringbench child: \(error)\n", stderr)
      return 1
    }
    while case .request(let request) = worker.next() {
      do {
        try request.reply.start(status: 200)
        try request.reply.send(bodyLength: 0)
      } catch {
        fputs("ringbench child: \(error)\n", stderr)
        return 1
      }
    }
    return 0
  case "echo":
    let messages = Int(arguments.dropFirst().first ?? "") ?? 0
    var message = [UInt8](repeating: 0, count: 64)
    do {
      while true {
        try readAll(100, &message)
        try writeAll(101, &message)
        if message.allSatisfy({ $0 == 0 }) { break }
      }
      var drain = [UInt8](repeating: 0, count: 64 * 1024)
      var remaining = messages * 64
      while remaining > 0 {
        let n = read(100, &drain, min(drain.count, remaining))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return 1 }
        remaining -= n
      }
      var done: [UInt8] = [1]
      try writeAll(101, &done)
    } catch { return 1 }
    return 0
  default:
    fputs("ringbench child: unknown mode\n", stderr)
    return 2
  }
}
