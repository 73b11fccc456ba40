import CRingABI
import Glibc
import RingChannel

/// The baselines: the same 64-byte exchange over a Unix socketpair or a pair of pipes, with a
/// child process echoing (round trips) or draining (throughput).
struct StreamBench {
  enum Kind { case socketpair, pipe }
  let kind: Kind
  private static let messageSize = 64

  func run(_ options: BenchOptions) throws -> BenchResult {
    let (toChild, fromParent, toParent, fromChild) = try makeChannels()
    let child = try ChildProcess.spawn(
      executable: selfExecutable(), arguments: ["--child", "echo", String(options.messages)],
      inherit: [(fromParent, 100), (toParent, 101)])
    close(fromParent)
    if toParent != fromParent { close(toParent) }
    defer {
      close(toChild)
      if fromChild != toChild { close(fromChild) }
      child.wait()
    }
    var message = [UInt8](repeating: 7, count: Self.messageSize)
    var samples = LatencySamples(capacity: options.roundTrips)
    for iteration in 0..<(options.roundTrips + options.roundTrips / 10) {
      let start = rb_monotonic_ns()
      try writeAll(toChild, &message)
      try readAll(fromChild, &message)
      if iteration >= options.roundTrips / 10 { samples.add(rb_monotonic_ns() - start) }
    }
    // Throughput: the child switches to draining after a zero-filled message.
    var switchMessage = [UInt8](repeating: 0, count: Self.messageSize)
    try writeAll(toChild, &switchMessage)
    try readAll(fromChild, &switchMessage)
    let start = rb_monotonic_ns()
    for _ in 0..<options.messages { try writeAll(toChild, &message) }
    var done = [UInt8](repeating: 0, count: 1)
    try readAll(fromChild, &done)
    let seconds = Double(rb_monotonic_ns() - start) / 1e9
    return BenchResult(
      transport: kind == .socketpair ? "unix socketpair" : "pipe", mode: "block",
      roundTripP50: samples.percentile(0.50), roundTripP99: samples.percentile(0.99),
      messagesPerSecond: Double(options.messages) / seconds)
  }

  /// (parent writes, child reads, child writes, parent reads)
  private func makeChannels() throws -> (Int32, Int32, Int32, Int32) {
    switch kind {
    case .socketpair:
      var pair: [Int32] = [0, 0]
      guard
        socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair)
          == 0
      else { throw ChannelError.system("socketpair", errno: errno) }
      return (pair[0], pair[1], pair[1], pair[0])
    case .pipe:
      var down: [Int32] = [0, 0]
      var up: [Int32] = [0, 0]
      guard pipe(&down) == 0, pipe(&up) == 0 else {
        throw ChannelError.system("pipe", errno: errno)
      }
      for fd in down + up { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
      return (down[1], down[0], up[1], up[0])
    }
  }
}

func writeAll(_ fd: Int32, _ bytes: inout [UInt8]) throws {
  var offset = 0
  while offset < bytes.count {
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
    if n < 0 && errno == EINTR { continue }
    guard n > 0 else { throw ChannelError.system("write", errno: errno) }
    offset += n
  }
}

func readAll(_ fd: Int32, _ bytes: inout [UInt8]) throws {
  var offset = 0
  while offset < bytes.count {
    let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
    if n < 0 && errno == EINTR { continue }
    guard n > 0 else { throw ChannelError.system("read", errno: n == 0 ? EPIPE : errno) }
    offset += n
  }
}
