// A child process for the channel tests: the worker (or a deliberately bad worker, or a small
// front) on the far side of a real channel.
//
//   ringchannel-child echo            serve: reply = FNV-1a of the body (8 bytes) + the body
//   ringchannel-child garbage KIND    take one request, then write an invalid reply of KIND
//                                     (head-backwards: a valid reply, then once the front
//                                     took it, the response-ring head moved back to 0)
//   ringchannel-child front NAME      create a channel named NAME, spawn an echo worker on it,
//                                     print "ready <worker pid>", serve until killed
//   ringchannel-child http            a worker for broker tests: /sleep/MS answers after MS ms,
//                                     /exit exits at once (status 3), /pid answers its pid,
//                                     /bytes/N answers N bytes of "x",
//                                     /bad-header, /bad-status, /bad-body make a reply call
//                                     fail (CR/LF in a header value, status 1000, a body larger
//                                     than the slot), /abort gives up on a started reply with
//                                     503 (and tries again, which must fail), anything else
//                                     "ok <path>"
//   ringchannel-child rewrite-queued  worker 0's first process is a rogue: it never takes a
//                                     request, waits until 4 sit in its ring, rewrites them in
//                                     their slots (target -> /echo, impossible offsets), exits;
//                                     every other process serves like `http`
//   ringchannel-child broken-broker NAME  looks like a broker to ringstat (an info block named
//                                     NAME) with one channel the front marked broken and did
//                                     not replace; prints "ready", sleeps until killed
//   ringchannel-child break-tail      the first process of each position serves like `http`
//                                     for one ring's worth of requests, then, idle, writes an
//                                     impossible request-ring tail, says so on stderr, sleeps;
//                                     later processes serve like `http`
//   ringchannel-child stray-body-ack  worker 0's first process is a rogue: it takes one
//                                     request (one with no streamed body), acknowledges a body
//                                     part it was never given (RB_RESP_BODY_TAKEN), says so on
//                                     stderr and sleeps; every other process serves like `http`
//   ringchannel-child rewrite-headers a hostile worker for broker tests: answers every request
//                                     with a valid header line and a ~60 KB body, then ~150 ms
//                                     later rewrites that header line in the slot into one that
//                                     ends the head and smuggles a "299 Evil" response
//                                     (on /invalid: rewritten before the reply is published;
//                                     on /small: a short body, itself rewritten ~150 ms later)
//   ringchannel-child ignore-claims   worker 0's first process takes one request without
//                                     claiming it, waits until the front took it back (its
//                                     claim word 0), answers it anyway with a valid reply
//                                     "rogue", says so on stderr and sleeps; every other
//                                     process serves like `http`
//   ringchannel-child rogue-parts KIND  worker 0's first process takes one request and answers
//                                     it with streamed reply parts that break the protocol
//                                     as KIND says (too-many, outside, before-reply,
//                                     beyond-length, short-end, later-status, outside-window,
//                                     far-window, window-hang), then sleeps;
//                                     every other process serves like `http`
import CRingABI
import Glibc
import RingChannel
import RingWorker

setvbuf(stdout, nil, _IOLBF, 0)
let arguments = Array(CommandLine.arguments.dropFirst())

func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
  var hash: UInt64 = 0xcbf2_9ce4_8422_2325
  for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
  return hash
}

func serveEcho() -> Int32 {
  let worker: Worker
  do { worker = try Worker.fromEnvironment() } catch {
    fputs("child: \(error)\n", stderr)
    return 1
  }
  while true {
    switch worker.next() {
    case .request(let request):
      do {
        try request.reply.start(status: 200)
        let out = try request.reply.body()
        out.storeBytes(of: fnv1a(request.body), toByteOffset: 0, as: UInt64.self)
        if !request.body.isEmpty {
          (out.baseAddress! + 8).copyMemory(
            from: request.body.baseAddress!, byteCount: request.body.count)
        }
        try request.reply.send(bodyLength: 8 + request.body.count)
      } catch {
        fputs("child: \(error)\n", stderr)
        return 1
      }
    case .timeout: continue
    case .exit: return 0
    }
  }
}

/// Waits for the next request descriptor in the ring and takes it (not released), claiming
/// it the way the worker library does (ringabi.h, "Slot claims"), so that the front does not
/// take it back while this hand-made worker takes its time.
func takeOne(
  _ requests: inout RingConsumer<rb_request_descriptor>, in segment: ChannelSegment
) -> rb_request_descriptor {
  while true {
    if case .entry(let entry) = requests.pop() {
      if Int(entry.slot) < segment.slotCount {
        _ = rb_compare_exchange_u64(
          segment.claimWord(Int(entry.slot)), entry.request_id, ~entry.request_id)
      }
      return entry
    }
    usleep(100)
  }
}

/// Writes one invalid response of the given kind into the response ring, the way a buggy or
/// hostile worker could, then waits to be killed.
func writeGarbage(kind: String) -> Int32 {
  guard let fdText = getenv("RINGWORKER_FD"), let fd = Int32(String(cString: fdText)),
    let segment = try? ChannelSegment.attach(fd: fd)
  else { return 1 }
  var requests = RingConsumer<rb_request_descriptor>(segment.requestRing)
  var responses = RingProducer<rb_response_descriptor>(segment.responseRing)
  let request = takeOne(&requests, in: segment)
  var reply = rb_response_descriptor(
    slot: request.slot, status: 200, request_id: request.request_id, header_length: 0,
    flags: 0, body_offset: request.reply_offset, body_length: 0)
  switch kind {
  case "slot": reply.slot = 1_000_000
  case "other-slot": reply.slot = request.slot + 1
  case "request-id": reply.request_id &+= 77
  case "status": reply.status = 999
  case "body-length": reply.body_length = UInt32.max - 10
  case "body-offset": reply.body_offset = 0
  case "header-length": reply.header_length = 50_000_000
  case "flags": reply.flags = 0xdead
  case "head-jump":
    // An index far beyond anything written.
    rb_store_release_u64(&segment.responseRing.control.pointee.head, 1 << 40)
    pause()
    return 0
  case "head-backwards":
    // A valid reply first; once the front has taken it (released its ring entry), the head
    // moves back behind the front's tail.
    _ = responses.push(reply)
    responses.publish()
    if responses.claimWake() { responses.wakeConsumer() }
    while rb_load_acquire_u64(&segment.responseRing.control.pointee.tail) == 0 { usleep(1000) }
    rb_store_release_u64(&segment.responseRing.control.pointee.head, 0)
    pause()
    return 0
  default: return 2
  }
  _ = responses.push(reply)
  responses.publish()
  if responses.claimWake() { responses.wakeConsumer() }
  pause()
  return 0
}

/// Runs `rogue` in worker 0's first process; every other worker, and worker 0 once respawned,
/// serves as `http` does (so the broker has an innocent worker, and a replacement serves).
func asFirstWorkerZero(_ rogue: (Worker, ChannelSegment) -> Int32) -> Int32 {
  guard let worker = openWorker() else { return 1 }
  let segment = worker.segment
  guard segment.header.pointee.worker_id == 0, segment.header.pointee.front.restarts == 0 else {
    return serveHTTP(worker)
  }
  return rogue(worker, segment)
}

/// Streamed reply parts that break the protocol (ringabi.h, "Streamed replies"), written
/// straight into the rings the way a buggy or hostile worker could.
func rogueParts(kind: String) -> Int32 {
  asFirstWorkerZero { worker, segment in
    var requests = RingConsumer<rb_request_descriptor>(segment.requestRing)
    var responses = RingProducer<rb_response_descriptor>(segment.responseRing)
    let request = takeOne(&requests, in: segment)
    requests.release()
    let slot = segment.slot(Int(request.slot))!
    let start = Int(request.reply_offset)
    let header: StaticString = "X-Rogue: 1\r\n"
    (slot.baseAddress! + start).copyMemory(
      from: header.utf8Start, byteCount: header.utf8CodeUnitCount)
    let headerLength = header.utf8CodeUnitCount
    let bodyStart = start + headerLength + 8
    func part(
      status: UInt32 = 0, headers: Int = 0, flags: Int, offset: Int = bodyStart, length: Int = 10,
      publish: Bool = true
    ) {
      _ = responses.push(
        rb_response_descriptor(
          slot: request.slot, status: status, request_id: request.request_id,
          header_length: UInt32(headers), flags: UInt32(RB_RESP_CHUNK | flags),
          body_offset: UInt32(offset), body_length: UInt32(length)))
      guard publish else { return }
      responses.publish()
      if responses.claimWake() { responses.wakeConsumer() }
      usleep(50_000)
    }
    func first(flags: Int = 0, offset: Int = bodyStart, length: Int = 10, publish: Bool = true) {
      part(
        status: 200, headers: headerLength, flags: flags, offset: offset, length: length,
        publish: publish)
    }
    func declare(_ length: UInt64) {
      (slot.baseAddress! + start + headerLength).storeBytes(of: length, as: UInt64.self)
    }
    switch kind {
    case "too-many":  // a third part while two wait for credits: all published at once
      first(publish: false)
      part(flags: 0, publish: false)
      part(flags: 0)
    case "outside":
      first()
      part(flags: 0, offset: slot.count - 5, length: 100)
    case "before-reply":
      first(offset: 0)
    case "beyond-length":
      declare(5)
      first(flags: RB_RESP_LENGTH, length: 10)
    case "short-end":
      declare(1000)
      first(flags: RB_RESP_LENGTH, length: 10)
      part(flags: RB_RESP_END, length: 0)
    case "outside-window":  // a window part that ends past the stream window
      let window = segment.streamWindow.count
      first()
      part(flags: RB_RESP_IN_STREAM_WINDOW, offset: window - 5, length: 100)
    case "far-window":  // an offset no window has
      first()
      part(flags: RB_RESP_IN_STREAM_WINDOW, offset: Int(UInt32.max) - 4, length: 4)
    case "later-status":
      first()
      part(status: 200, flags: 0)
    case "window-hang":  // one part in the stream window, then nothing, ever
      let text: StaticString = "0123456789"
      segment.streamWindow.baseAddress!.copyMemory(
        from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
      first(flags: RB_RESP_IN_STREAM_WINDOW, offset: 0, length: 10)
    default: return 2
    }
    // The worker stays (unused): its deinit would publish its own view of the rings.
    while true { withExtendedLifetime(worker) { _ = pause() } }
  }
}

/// A minimal front: creates a channel, spawns an echo worker on it, and keeps both alive.
func runFront(name: String) -> Int32 {
  do {
    let segment = try ChannelSegment.create(name: name, parameters: .standard)
    let child = try ChildProcess.spawn(
      executable: "/proc/self/exe", arguments: ["echo"], environment: ["RINGWORKER_FD": "100"],
      inherit: [(segment.fd, 100)])
    print("ready \(child.pid)")
    while true { pause() }
  } catch {
    fputs("child: \(error)\n", stderr)
    return 1
  }
}

func openWorker() -> Worker? {
  do { return try Worker.fromEnvironment() } catch {
    fputs("child: \(error)\n", stderr)
    return nil
  }
}

/// A worker that ignores the claim protocol (ringabi.h, "Slot claims"): it answers a request
/// the front revoked and ran elsewhere, which must break only its own channel.
func ignoreClaims() -> Int32 {
  asFirstWorkerZero { worker, segment in
    var requests = RingConsumer<rb_request_descriptor>(segment.requestRing)
    var responses = RingProducer<rb_response_descriptor>(segment.responseRing)
    var request: rb_request_descriptor
    while true {
      if case .entry(let entry) = requests.pop() {
        request = entry
        break
      }
      usleep(100)
    }
    requests.release()
    let deadline = rb_monotonic_ns() + 10_000_000_000
    while rb_load_acquire_u64(segment.claimWord(Int(request.slot))) != 0
      && rb_monotonic_ns() < deadline
    {
      usleep(1000)
    }
    let slot = segment.slot(Int(request.slot))!
    let body: StaticString = "rogue"
    (slot.baseAddress! + Int(request.reply_offset)).copyMemory(
      from: body.utf8Start, byteCount: body.utf8CodeUnitCount)
    _ = responses.push(
      rb_response_descriptor(
        slot: request.slot, status: 200, request_id: request.request_id, header_length: 0,
        flags: UInt32(RB_RESP_FINAL), body_offset: request.reply_offset,
        body_length: UInt32(body.utf8CodeUnitCount)))
    responses.publish()
    if responses.claimWake() { responses.wakeConsumer() }
    fputs("child: answered a request the front took back\n", stderr)
    while true { withExtendedLifetime(worker) { _ = pause() } }
  }
}

/// Makes one reply call fail the way `path` asks; false for any other path.
func failReply(_ request: Request, path: String) -> Bool {
  let failed: ReplyError?
  do {
    switch path {
    case "/bad-header":
      try request.reply.start(status: 200)
      try request.reply.addHeader("X-Split", "a\r\nInjected: yes")
    case "/bad-status":
      try request.reply.start(status: 1000)
    case "/bad-body":
      try request.reply.start(status: 200)
      try request.reply.send(bodyLength: request.reply.body().count + 1)
    case "/abort":
      // Gives up midway: the header written so far must not go out.
      try request.reply.start(status: 200)
      try request.reply.addHeader("X-Half", "done")
      try request.reply.abort(status: 503)
      try request.reply.abort(status: 503)  // answered already: throws, nothing happens
    default:
      return false
    }
    failed = nil
  } catch {
    failed = error
  }
  fputs("child: \(path): \(failed.map { "\($0)" } ?? "no error")\n", stderr)
  return true
}

func serveHTTP(_ worker: Worker? = openWorker(), replies limit: Int = .max) -> Int32 {
  guard let worker else { return 1 }
  for _ in 0..<limit {
    guard case .request(let request) = worker.next() else { return 0 }
    let path = String(decoding: request.path, as: UTF8.self)
    if path.hasPrefix("/sleep/"), let ms = UInt32(path.dropFirst(7)) { usleep(ms * 1000) }
    if path == "/exit" { exit(3) }
    if failReply(request, path: path) { continue }
    let text = path == "/pid" ? "\(getpid())" : "ok \(path)"
    var bytes = Array(text.utf8)
    if path.hasPrefix("/bytes/"), let count = Int(path.dropFirst(7)) {
      bytes = [UInt8](repeating: UInt8(ascii: "x"), count: count)
    }
    do {
      try bytes.withUnsafeMutableBytes {
        try request.reply.send(
          status: 200, contentType: "text/plain", body: UnsafeRawBufferPointer($0))
      }
    } catch {
      fputs("child: \(error)\n", stderr)
    }
  }
  return 0
}

/// A rogue worker (worker 0, first process only): never takes a request; once four wait in its
/// ring, rewrites each in its slot (even ones: target and path -> /echo; odd ones: spans far
/// outside the slot and a huge header count), then exits, leaving them to be re-dispatched.
func rewriteQueued() -> Int32 {
  asFirstWorkerZero { worker, segment in
    let control = segment.requestRing.control
    let tail = rb_load_acquire_u64(&control.pointee.tail)
    let deadline = rb_monotonic_ns() + 20_000_000_000
    var head = tail
    while head &- tail < 4 && rb_monotonic_ns() < deadline {
      usleep(1000)
      head = rb_load_acquire_u64(&control.pointee.head)
    }
    let entries = segment.requestRing.entries.assumingMemoryBound(to: rb_request_descriptor.self)
    var index = tail
    while index < head {
      let descriptor = entries[Int(index & UInt64(segment.requestRing.capacity - 1))]
      if let slot = segment.slot(Int(descriptor.slot)) {
        let request = slot.baseAddress!.assumingMemoryBound(to: rb_request_head.self)
        if index % 2 == 0 {
          // The first five bytes of the target become "/echo": a forged GET /echo.
          let target = request.pointee.target
          if target.length >= 5 {
            let echo: StaticString = "/echo"
            (slot.baseAddress! + Int(target.offset)).copyMemory(
              from: echo.utf8Start, byteCount: 5)
            request.pointee.target.length = 5
            request.pointee.path = rb_span(offset: target.offset, length: 5)
            request.pointee.query = rb_span(offset: target.offset, length: 0)
          }
        } else {
          request.pointee.method = rb_span(offset: 0xFFFF_0000, length: 0x1000)
          request.pointee.path = rb_span(offset: 0x7FFF_FFF0, length: 0x100)
          request.pointee.header_count = 1_000_000
        }
      }
      index &+= 1
    }
    fputs("child: rewrote \(head &- tail) queued request(s)\n", stderr)
    return 0
  }
}

/// The first process of a position serves one ring's worth of requests (so that the front's
/// next push re-reads the tail), then writes an impossible tail while idle and sleeps.
func breakTail() -> Int32 {
  guard let worker = openWorker() else { return 1 }
  let segment = worker.segment
  guard segment.header.pointee.front.restarts == 0 else { return serveHTTP(worker) }
  let capacity = Int(segment.header.pointee.request_capacity)
  guard serveHTTP(worker, replies: capacity) == 0 else { return 1 }
  worker.flush()
  let control = segment.requestRing.control
  rb_store_release_u64(&control.pointee.tail, rb_load_acquire_u64(&control.pointee.head) + 1 << 40)
  fputs("child: wrote an impossible request-ring tail\n", stderr)
  while true { pause() }
}

/// A hostile worker that, once attached, overwrites the layout words of its channel header
/// (values no layout can have: a segment of UINT64_MAX bytes, 2^32-1 slots of 2 GiB), then
/// serves as `http` does. The front never reads them again; readers of the channel (ringstat,
/// the admin endpoint) must refuse them without trapping.
func corruptHeader() -> Int32 {
  guard let worker = openWorker() else { return 1 }
  let header = worker.segment.header
  header.pointee.segment_size = UInt64.max
  header.pointee.request_ring_offset = UInt64.max
  withUnsafeMutableBytes(of: &header.pointee.slot_classes) { raw in
    let classes = raw.bindMemory(to: rb_slot_class.self)
    for index in classes.indices {
      classes[index].slot_size = UInt32.max & ~4095
      classes[index].slot_count = UInt32.max
    }
  }
  fputs("child: corrupted its channel header\n", stderr)
  return serveHTTP(worker)
}

/// What ringstat sees of a broker that found a broken channel and has not replaced its worker.
func runBrokenBroker(name: String) -> Int32 {
  do {
    let info = try BrokerInfo(name: name, listen: "127.0.0.1:1", workerTarget: 1)
    let segment = try ChannelSegment.create(name: "ringbroker-w0", parameters: .standard)
    segment.header.pointee.worker_id = 0
    segment.header.pointee.worker_pid = UInt32(getpid())
    segment.header.pointee.created_ns = rb_monotonic_ns()
    segment.header.pointee.state = UInt32(RB_STATE_BROKEN)
    info.info.pointee.channel_count = 1
    print("ready")
    while true { withExtendedLifetime((info, segment)) { _ = pause() } }
  } catch {
    fputs("child: \(error)\n", stderr)
    return 1
  }
}

/// A worker that changes a reply after publishing it. Each reply carries `original` as its only
/// header line; 150 ms later (while the front may still hold the reply queued for a client that
/// does not read) the worker overwrites those bytes in the slot with `injected`, of the same
/// length, which ends the head early. The body is built so that, if the front sent the header
/// bytes from shared memory, the client would parse one extra response, `299 Evil`: the front's
/// Content-Length counts the injected bytes after the blank line as body, so the body's last
/// bytes (the evil response) are left over and read as the next response. On /small the reply
/// has the short body `smallBody`, and 150 ms later the worker overwrites the body itself
/// (the front copies bodies that short, FrontLoop.copiedBodyLimit).
func rewriteHeaders() -> Int32 {
  let worker: Worker
  do { worker = try Worker.fromEnvironment() } catch {
    fputs("child: \(error)\n", stderr)
    return 1
  }
  let evil = Array("HTTP/1.1 299 Evil\r\nX-Evil: 1\r\nContent-Length: 0\r\n\r\n".utf8)
  // "X-A: " + value + CRLF, as long as the blank line that ends the head early, the filler
  // after it and the evil response together need (see above).
  let original = Array(("X-A: " + String(repeating: "a", count: evil.count + 6 - 7) + "\r\n").utf8)
  var injected = Array("X: y\r\n\r\n".utf8)
  injected += [UInt8](repeating: UInt8(ascii: "z"), count: original.count - injected.count)
  precondition(original.count == injected.count && original.count - 6 == evil.count)
  let bodyLength = 60_000
  let smallBody = Array("the body the worker first wrote".utf8)
  let rewrittenBody = Array("REWRITTEN AFTER THE REPLY LEFT!".utf8)
  precondition(smallBody.count == rewrittenBody.count)
  let delayNs: UInt64 = 150_000_000
  // Header lines (or small bodies) of replies already published, and when to rewrite them.
  var pending: [(address: UnsafeMutableRawPointer, bytes: [UInt8], due: UInt64)] = []
  var rewritten = 0
  var rewrittenBodies = 0
  var reportedAll = 0
  while true {
    let now = rb_monotonic_ns()
    while let first = pending.first, first.due <= now {
      pending.removeFirst()
      first.bytes.withUnsafeBytes {
        first.address.copyMemory(from: $0.baseAddress!, byteCount: $0.count)
      }
      // Tests wait for these lines: by then the front holds rewritten replies, if any.
      if first.bytes == rewrittenBody {
        rewrittenBodies += 1
        fputs("rewrite-headers: rewrote \(rewrittenBodies) small bodies\n", stderr)
        continue
      }
      rewritten += 1
      if rewritten <= 32 { fputs("rewrite-headers: rewrote \(rewritten) header lines\n", stderr) }
    }
    if pending.isEmpty && rewritten + rewrittenBodies > reportedAll {
      reportedAll = rewritten + rewrittenBodies
      fputs("rewrite-headers: every reply rewritten\n", stderr)
    }
    switch worker.next(timeoutMilliseconds: 5) {
    case .request(let request):
      do {
        try request.reply.start(status: 200)
        try request.reply.addHeader(
          "X-A", String(decoding: original[5..<original.count - 2], as: UTF8.self))
        let body = try request.reply.body()
        let headerLine = body.baseAddress! - original.count
        // This slot is in use again, so its previous reply was taken: nothing to rewrite there.
        pending.removeAll { $0.address == headerLine || $0.address == body.baseAddress! }
        if request.path.elementsEqual("/small".utf8) {
          smallBody.withUnsafeBytes {
            body.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count)
          }
          try request.reply.send(bodyLength: smallBody.count)
          pending.append((body.baseAddress!, rewrittenBody, rb_monotonic_ns() + delayNs))
          continue
        }
        let length = min(bodyLength, body.count)
        memset(body.baseAddress!, Int32(UInt8(ascii: "b")), length - evil.count)
        evil.withUnsafeBytes {
          (body.baseAddress! + length - evil.count).copyMemory(
            from: $0.baseAddress!, byteCount: $0.count)
        }
        if request.path.elementsEqual("/invalid".utf8) {
          // Invalid before it is published: the front must refuse it (502).
          injected.withUnsafeBytes {
            headerLine.copyMemory(from: $0.baseAddress!, byteCount: $0.count)
          }
          try request.reply.send(bodyLength: length)
          continue
        }
        try request.reply.send(bodyLength: length)
        pending.append((headerLine, injected, rb_monotonic_ns() + delayNs))
      } catch {
        fputs("child: \(error)\n", stderr)
        return 1
      }
    case .timeout: continue
    case .exit: return 0
    }
  }
}

switch arguments.first {
case "http": exit(serveHTTP())
case "ignore-claims": exit(ignoreClaims())
case "rogue-parts": exit(rogueParts(kind: arguments.count > 1 ? arguments[1] : ""))
case "rewrite-headers": exit(rewriteHeaders())
case "rewrite-queued": exit(rewriteQueued())
case "break-tail": exit(breakTail())
case "corrupt-header": exit(corruptHeader())
case "stray-body-ack": exit(strayBodyAcknowledgement())
case "broken-broker": exit(runBrokenBroker(name: arguments.count > 1 ? arguments[1] : "broken"))
case "echo": exit(serveEcho())
case "garbage": exit(writeGarbage(kind: arguments.count > 1 ? arguments[1] : ""))
case "front": exit(runFront(name: arguments.count > 1 ? arguments[1] : "ringbroker-test"))
default:
  fputs(
    "usage: ringchannel-child echo | garbage KIND | front NAME | http | rewrite-headers"
      + " | rewrite-queued | break-tail | broken-broker NAME\n", stderr)
  exit(2)
}

/// Worker 0's first process takes one request and acknowledges a body part of it that the front
/// never sent: the front must break this channel only, and answer that request 502.
func strayBodyAcknowledgement() -> Int32 {
  asFirstWorkerZero { worker, segment in
    guard case .request(let request) = worker.next() else { return 1 }
    // The slot is the one whose memory holds the request.
    let address = UnsafeRawPointer(request.method.baseAddress!)
    guard
      let slot = (0..<segment.slotCount).first(where: {
        let memory = UnsafeRawBufferPointer(segment.slot($0)!)
        return address >= memory.baseAddress! && address < memory.baseAddress! + memory.count
      })
    else { return 1 }
    var responses = RingProducer<rb_response_descriptor>(segment.responseRing)
    _ = responses.push(
      rb_response_descriptor(
        slot: UInt32(slot), status: 0, request_id: request.requestID, header_length: 0,
        flags: UInt32(RB_RESP_BODY_TAKEN), body_offset: 0, body_length: 0))
    responses.publish()
    responses.wakeConsumer()
    fputs("child: acknowledged a body part it was never given\n", stderr)
    // The worker must outlive its request records (its deinit frees them).
    return withExtendedLifetime(worker) { () -> Int32 in
      while true { pause() }
    }
  }
}
