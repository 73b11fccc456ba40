import CRingABI
import Glibc
import RingChannel

/// Round trips and throughput over a real channel: this process is the front (FrontChannel),
/// a child process is the worker (the RingWorker library, as any worker uses it).
struct ChannelBench {
  let spinning: Bool

  private static let rawHead = Array("GET /bench HTTP/1.1\r\nHost: bench\r\n\r\n".utf8)
  private static let parts = RequestSlotWriter.Parts(
    method: 0..<3, target: 4..<10, path: 4..<10, query: 10..<10, httpVersion: 11, flags: 0)
  private static let headers = [(name: 21..<25, value: 27..<32)]
  /// A loopback client, as the front would describe it: the head is as large as in production.
  private static let origin = RequestOrigin(
    remote: rb_endpoint(ipv4: (127, 0, 0, 1), port: 40000),
    local: rb_endpoint(ipv4: (127, 0, 0, 1), port: 8080), receivedUnixNanoseconds: rb_realtime_ns())

  func run(_ options: BenchOptions) throws -> BenchResult {
    let segment = try ChannelSegment.create(name: "ringbench", parameters: .standard)
    segment.header.pointee.state = UInt32(RB_STATE_RUNNING)
    let child = try ChildProcess.spawn(
      executable: selfExecutable(), arguments: ["--child", "worker"],
      environment: ["RINGWORKER_FD": "100", "RINGWORKER_SPIN_NS": spinning ? "-1" : "0"],
      inherit: [(segment.fd, 100)])
    let front = FrontChannel(segment: segment)
    defer {
      front.sendControl(flags: UInt32(RB_REQ_SHUTDOWN))
      front.publishAndWake()
      child.wait()
    }
    var samples = LatencySamples(capacity: options.roundTrips)
    for iteration in 0..<(options.roundTrips + options.roundTrips / 10) {
      let start = rb_monotonic_ns()
      try send(front, id: UInt64(iteration + 1), now: start)
      try awaitReply(front, now: start)
      if iteration >= options.roundTrips / 10 { samples.add(rb_monotonic_ns() - start) }
    }
    let messagesPerSecond = try throughput(front, messages: options.messages)
    return BenchResult(
      transport: "ringbroker channel", mode: spinning ? "spin" : "sleep",
      roundTripP50: samples.percentile(0.50), roundTripP99: samples.percentile(0.99),
      messagesPerSecond: messagesPerSecond)
  }

  private func send(_ front: FrontChannel, id: UInt64, now: UInt64) throws {
    guard let (slot, memory) = front.acquireSlot(requestBytes: 128) else {
      throw ChannelError.broken("no free slot")
    }
    let written = Self.rawHead.withUnsafeBytes { raw in
      RequestSlotWriter.write(
        into: memory, rawHead: raw, parts: Self.parts, headers: Self.headers,
        body: UnsafeRawBufferPointer(start: nil, count: 0), requestID: id, origin: Self.origin)!
    }
    guard
      front.dispatch(
        slot: slot, length: written.length, requestID: id, replyOffset: written.replyOffset,
        flags: 0, now: now)
    else { throw ChannelError.broken(front.brokenReason ?? "dispatch failed") }
  }

  /// Publishes, wakes the worker when it sleeps, and waits for one reply: by spinning, or by
  /// sleeping on the response ring's futex word.
  /// `now` is the caller's clock reading, as the front loop reads the clock once per iteration.
  private func awaitReply(_ front: FrontChannel, now: UInt64) throws {
    front.publishAndWake()
    while true {
      if spinning && !front.hasPendingReply() {
        rb_cpu_relax()
        continue
      }
      switch front.nextReply(now: now) {
      case .reply(let reply):
        front.releaseResponses()
        front.releaseSlot(reply.slot)
        return
      case .broken(let reason): throw ChannelError.broken(reason)
      case .bodyTaken: throw ChannelError.broken("body acknowledgement from a bench worker")
      case .none:
        if spinning {
          rb_cpu_relax()
        } else {
          front.sleepUntilReplyPending(timeoutNanoseconds: 1_000_000_000)
        }
      }
    }
  }

  /// Messages per second with up to 32 requests in flight (fewer when the channel has fewer
  /// slots), published in batches.
  private func throughput(_ front: FrontChannel, messages: Int) throws -> Double {
    var sent = 0
    var received = 0
    let start = rb_monotonic_ns()
    while received < messages {
      while sent < messages, front.inFlight < 32, front.freeSlotCount > 0 {
        sent += 1
        try send(front, id: UInt64(sent), now: 0)
      }
      front.publishAndWake()
      var progressed = false
      while case .reply(let reply) = front.nextReply(now: 0) {
        front.releaseSlot(reply.slot)
        received += 1
        progressed = true
      }
      front.releaseResponses()
      if let reason = front.brokenReason { throw ChannelError.broken(reason) }
      if !progressed {
        if spinning {
          rb_cpu_relax()
        } else {
          front.sleepUntilReplyPending(timeoutNanoseconds: 1_000_000_000)
        }
      }
    }
    return Double(messages) / (Double(rb_monotonic_ns() - start) / 1e9)
  }
}
