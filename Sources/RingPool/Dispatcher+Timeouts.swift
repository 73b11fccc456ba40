import BrokerLog
import CRingABI
import Glibc
import RingChannel
import RingFront

extension Dispatcher {
  /// Answers 504 for requests their worker has held longer than the request timeout, and kills
  /// that worker: a worker stuck in a handler would otherwise hold its slots forever (NGINX Unit
  /// leaves such workers hung). The log names the request, so the operator knows which one.
  /// A streamed reply's timeout counts from its last part or credit (like nginx's
  /// proxy_read_timeout): an expiry closes the client (its head is out), and a second one with
  /// no part in between takes the worker for stuck.
  func expireRequests(loop: some PoolLoop, now: UInt64) {
    guard let timeout = config.requestTimeoutNs else { return }
    for worker in workers {
      guard let channel = worker.channel, channel.inFlight > 0, let process = worker.process else {
        continue
      }
      var expired = 0
      for slot in worker.slots.indices {
        guard var entry = worker.slots[slot], now &- entry.dispatchedAt > timeout else { continue }
        if entry.streaming {
          // Waiting for the client, whose stall the send timeout (--idle-timeout) deals with;
          // the next credit restarts this clock.
          if channel.waitsForClient(slot: slot) { continue }
          if !entry.timedOut {
            // Its head went out: no 504 any more. The client's connection closes; the
            // worker hears so with its next part's credit and may serve on.
            entry.timedOut = true
            entry.dispatchedAt = now
            worker.slots[slot] = entry
            // Closed already by an earlier expiry: the worker wrote since, it is not stuck.
            guard loop.closeReply(entry.ticket) else { continue }
            channel.countError()
            Log.warning(
              "request \(Self.requestLine(in: channel, slot: slot, length: entry.length)) sent no "
                + "reply part for \(timeout / 1_000_000) ms on worker \(worker.id) (pid \(process.pid)): "
                + "closed its connection")
            continue
          }
        }
        // The slot stays with the dead worker's channel; its exit releases it without a reply.
        worker.slots[slot] = nil
        if entry.streamsBody { worker.streamedBodies -= 1 }
        expired += 1
        channel.countError()
        noteUpstream(of: entry, answeredBy: nil, loop: loop)
        loop.replyError(entry.ticket, status: 504, body: "the worker did not answer in time\n")
        Log.warning(
          "request \(Self.requestLine(in: channel, slot: slot, length: entry.length)) ran "
            + "\((now &- entry.dispatchedAt) / 1_000_000) ms on worker \(worker.id) (pid \(process.pid)): "
            + "answered 504, replacing the worker")
      }
      if expired > 0 { process.signal(SIGKILL) }
    }
  }

  /// Tells ringstat, per channel, since when its oldest request has waited for its reply (or
  /// a streamed one for its next part): what `ringstat --check` calls stuck. Every 100 ms.
  func publishOldestRequests() {
    for worker in workers {
      guard let channel = worker.channel else { continue }
      let oldest = worker.slots.lazy.compactMap { $0?.dispatchedAt }.min() ?? 0
      channel.noteOldestRequest(since: oldest)
    }
  }

  /// "METHOD TARGET" of the request the front wrote into `slot`, from its own copy
  /// (FrontChannel.requestBytes); the spans are checked all the same, and only printable
  /// ASCII reaches the log.
  static func requestLine(in channel: FrontChannel, slot: Int, length: Int) -> String {
    let bytes = channel.requestBytes(slot: slot, length: length)
    guard bytes.count >= MemoryLayout<rb_request_head>.size else { return "?" }
    let head = bytes.loadUnaligned(as: rb_request_head.self)
    func text(_ span: rb_span) -> String {
      let start = Int(span.offset)
      let end = start + min(Int(span.length), 200)
      guard end <= bytes.count else { return "?" }
      return String(
        decoding: bytes[start..<end].map { (0x21...0x7E).contains($0) ? $0 : UInt8(ascii: "?") },
        as: UTF8.self)
    }
    return text(head.method) + " " + text(head.target)
  }
}
