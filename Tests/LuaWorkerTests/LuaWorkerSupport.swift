// The test process plays the front: it writes requests into a real channel and reads the replies
// of a real ringworker-lua process (adapted from Tests/RingChannelTests/TestSupport.swift; test
// targets cannot import each other).
import CRingABI
import Foundation
import Glibc
import RingChannel
import TestSupport
import XCTest

let luaWorkerExecutable = Products.path("ringworker-lua")

/// workers/lua/examples.
let examplesDirectory = Products.luaExamples

/// A reply as the front received it, copied out of the slot.
struct WorkerReply {
  var status: Int
  var headers: [(name: String, value: String)]
  var body: [UInt8]
  /// Came in parts (a streamed reply), and the length the first part declared, if any.
  var streamed = false
  var declaredLength: UInt64? = nil
  /// The worker gave up midway (RB_RESP_ABORT): the body is incomplete.
  var aborted = false

  var text: String { String(decoding: body, as: UTF8.self) }

  func header(_ name: String) -> String? {
    headers.first { $0.name.lowercased() == name.lowercased() }?.value
  }

  /// The body parsed as a JSON object.
  func json() throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(body))
    return try XCTUnwrap(object as? [String: Any], "reply body is not a JSON object: \(text)")
  }
}

/// A directory under /tmp for app files written by a test, removed with the fixture.
final class TemporaryDirectory {
  let path: String

  init() {
    var template = Array("/tmp/ringworker-lua-test.XXXXXX".utf8CString)
    path = String(cString: mkdtemp(&template)!)
  }

  /// Writes `text` to `name` in this directory and returns its path.
  @discardableResult
  func write(_ name: String, _ text: String) throws -> String {
    let file = path + "/" + name
    try text.write(toFile: file, atomically: false, encoding: .utf8)
    return file
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `executable` with `arguments` to completion (killed, and a thrown error, after 30 s);
/// returns its exit code and stderr.
func runToExit(_ executable: String, _ arguments: [String]) throws -> Spawn.Result {
  try Spawn.run(executable, arguments, timeout: 30)
}

/// A channel with a worker process attached: ringworker-lua on an app by default.
final class WorkerFixture {
  let segment: ChannelSegment
  let front: FrontChannel
  let child: ChildProcess
  /// The worker's stderr.
  let logPath: String
  private var nextID: UInt64 = 1
  /// The child was reaped (or is being waited for): deinit leaves it alone.
  private var stopped = false
  /// Where the last request dispatched has its reply start in its slot (RequestSlotWriter).
  private(set) var lastReplyOffset = 0

  init(
    executable: String = luaWorkerExecutable, arguments: [String], spinNanoseconds: Int = 0,
    parameters: ChannelParameters = .standard
  ) throws {
    segment = try ChannelSegment.create(name: "ringworker-lua-test", parameters: parameters)
    segment.header.pointee.state = UInt32(RB_STATE_RUNNING)
    front = FrontChannel(segment: segment)
    logPath = "/tmp/ringworker-lua-test-\(getpid())-\(UInt64.random(in: 0..<UInt64.max)).log"
    let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    defer { close(log) }
    child = try ChildProcess.spawn(
      executable: executable, arguments: arguments,
      environment: ["RINGWORKER_FD": "100", "RINGWORKER_SPIN_NS": String(spinNanoseconds)],
      inherit: [(segment.fd, 100), (log, 2)])
  }

  convenience init(app: String, spinNanoseconds: Int = 0) throws {
    try self.init(arguments: [app], spinNanoseconds: spinNanoseconds)
  }

  deinit {
    if !stopped { child.killAndReap() }
    unlink(logPath)
  }

  /// What the worker wrote to stderr so far.
  var log: String {
    (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
  }

  /// Sends one request and waits for its reply. `id`: the request id to use instead of the
  /// next of the fixture's own.
  func request(
    _ method: String = "GET", _ target: String, headers: [(String, String)] = [],
    body: [UInt8] = [],
    id chosenID: UInt64? = nil, origin: RequestOrigin = WorkerFixture.defaultOrigin
  ) throws -> WorkerReply {
    let id = chosenID ?? nextID
    if chosenID == nil { nextID += 1 }
    let prepared = PreparedRequest(method, target, headers: headers)
    // A body that does not fit a slot with its reply room streams through the slot's body
    // window in parts, as the front sends it (ringabi.h, "Streamed request bodies").
    let streamsBody = !fits(prepared, bodyLength: body.count)
    let slot = try XCTUnwrap(
      streamsBody
        ? dispatchStreamingBody(prepared, id: id, origin: origin)
        : dispatch(prepared, body: body, id: id, origin: origin),
      "no free slot for the request")
    var bodySent = 0
    var bodyEnded = !streamsBody
    var poll: FrontChannel.ReplyPoll
    while true {
      // Every window half the worker freed gets the next part, at most two unacknowledged.
      while !bodyEnded, let room = front.bodyRoom(slot: slot) {
        let length = min(room.count, body.count - bodySent)
        body[bodySent..<bodySent + length].withUnsafeBytes {
          room.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[...]))
        }
        bodySent += length
        bodyEnded = bodySent == body.count
        XCTAssertTrue(front.sendBodyPart(slot: slot, length: length, last: bodyEnded))
      }
      wake()
      poll = awaitReply(front)
      guard case .bodyTaken(let taken) = poll else { break }
      XCTAssertEqual(taken, slot)
      front.releaseResponses()
    }
    switch poll {
    case .reply(let reply):
      XCTAssertEqual(reply.requestID, id)
      var result = WorkerReply(
        status: reply.status, headers: parseHeaderBlock(reply.headerBlock), body: Array(reply.body))
      if reply.part != .whole {
        result.streamed = true
        result.declaredLength = reply.declaredLength
        try collectParts(after: reply, into: &result)
      }
      front.releaseResponses()
      front.releaseSlot(reply.slot)
      return result
    case .broken(let reason):
      throw TestError("channel broken: \(reason)")
    case .bodyTaken:
      throw TestError("a body acknowledgement for a request without a streamed body")
    case .none:
      throw TestError("no reply within the timeout; worker log:\n\(log)")
    }
  }

  /// The rest of a streamed reply, each part credited once its bytes are copied, as the front
  /// does once they are sent.
  private func collectParts(after first: ValidatedReply, into result: inout WorkerReply) throws {
    var part = first
    while !part.isLast {
      front.releaseResponses()
      front.partSent(slot: part.slot, clientGone: false)
      wake()
      switch awaitReply(front) {
      case .reply(let next):
        result.body += next.body
        part = next
      case .broken(let reason):
        throw TestError("channel broken mid-stream: \(reason)")
      case .bodyTaken:
        throw TestError("a body acknowledgement in the middle of a streamed reply")
      case .none:
        throw TestError("no reply part within the timeout; worker log:\n\(log)")
      }
    }
    result.aborted = part.isAborted
  }

  func request(
    _ method: String = "GET", _ target: String, headers: [(String, String)] = [], body: String
  )
    throws -> WorkerReply
  {
    try request(method, target, headers: headers, body: Array(body.utf8))
  }

  /// Writes a request into a free slot and queues it; nil when no slot is free.
  @discardableResult
  func dispatch(
    _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
    id: UInt64
  ) -> Int? {
    dispatch(PreparedRequest(method, target, headers: headers), body: body, id: id)
  }

  /// What the front would write for a client at 192.0.2.7:40000 talking to 127.0.0.1:8080.
  static let defaultOrigin = RequestOrigin(
    remote: rb_endpoint(ipv4: (192, 0, 2, 7), port: 40000),
    local: rb_endpoint(ipv4: (127, 0, 0, 1), port: 8080),
    receivedUnixNanoseconds: 1_700_000_000_000_000_000)

  /// Dispatches a request laid out beforehand: what a benchmark loop repeats.
  @discardableResult
  func dispatch(
    _ request: PreparedRequest, body: [UInt8] = [], id: UInt64,
    origin: RequestOrigin = WorkerFixture.defaultOrigin
  ) -> Int? {
    let needed = RequestSlotWriter.requiredBytes(
      headerCount: request.headers.count, rawHeadLength: request.raw.count, bodyLength: body.count)
    guard let (slot, memory) = front.acquireSlot(requestBytes: needed) else { return nil }
    let written = request.raw.withUnsafeBytes { rawHead in
      body.withUnsafeBytes {
        RequestSlotWriter.write(
          into: memory, rawHead: rawHead, parts: request.parts, headers: request.headers, body: $0,
          requestID: id, origin: origin)!
      }
    }
    lastReplyOffset = written.replyOffset
    XCTAssertTrue(
      front.dispatch(
        slot: slot, length: written.length, requestID: id, replyOffset: written.replyOffset,
        flags: 0,
        now: rb_monotonic_ns()))
    return slot
  }

  /// True when `request` with a body of `bodyLength` bytes fits a slot whole, reply room
  /// included (what the front checks before it writes a body into the slot).
  func fits(_ request: PreparedRequest, bodyLength: Int) -> Bool {
    let needed = RequestSlotWriter.requiredBytes(
      headerCount: request.headers.count, rawHeadLength: request.raw.count, bodyLength: bodyLength)
    let largest = segment.layout.slotClasses.map(\.spec.slotSize).max()!
    return needed + FrontChannel.minimumReplyRoom <= largest
  }

  /// Dispatches `request` with RB_REQ_BODY_STREAM and an empty in-slot body, its slot's reply
  /// room kept as the front keeps it (Dispatcher.fillSlot): the body follows in parts.
  func dispatchStreamingBody(_ request: PreparedRequest, id: UInt64, origin: RequestOrigin)
    -> Int?
  {
    let needed = RequestSlotWriter.requiredBytes(
      headerCount: request.headers.count, rawHeadLength: request.raw.count, bodyLength: 0)
    guard
      let (slot, memory) = front.acquireSlot(
        requestBytes: BodyWindow.requiredBytes(requestLength: needed))
    else { return nil }
    var parts = request.parts
    parts.flags |= UInt32(RB_REQ_BODY_STREAM)
    let written = request.raw.withUnsafeBytes { rawHead in
      RequestSlotWriter.write(
        into: memory, rawHead: rawHead, parts: parts, headers: request.headers,
        body: UnsafeRawBufferPointer(start: nil, count: 0), requestID: id, origin: origin)!
    }
    let replyOffset = BodyWindow.replyOffset(
      slotSize: memory.count, requestLength: written.length,
      replyRoom: FrontChannel.minimumReplyRoom)!
    lastReplyOffset = replyOffset
    XCTAssertTrue(
      front.dispatch(
        slot: slot, length: written.length, requestID: id, replyOffset: replyOffset,
        flags: UInt32(RB_REQ_BODY_STREAM), now: rb_monotonic_ns(),
        bodyWindow: BodyWindow(requestLength: written.length, replyOffset: replyOffset)))
    return slot
  }

  func wake() {
    front.publishAndWake()
  }

  /// Asks the worker to stop and returns its wait status; throws (the worker killed) when it
  /// has not exited within 30 s.
  func stop() throws -> Int32 {
    front.sendControl(flags: UInt32(RB_REQ_SHUTDOWN))
    wake()
    return try waitForExit()
  }

  /// Waits for the worker to exit by itself and returns its wait status; throws (the worker
  /// killed) when it has not within `timeout` seconds.
  func waitForExit(timeout: Double = 30) throws -> Int32 {
    stopped = true
    return try child.wait(timeout: timeout, "ringworker-lua")
  }
}

/// "Name: value\r\n" lines, as the worker library writes them.
func parseHeaderBlock(_ block: UnsafeRawBufferPointer) -> [(name: String, value: String)] {
  String(decoding: block, as: UTF8.self).components(separatedBy: "\r\n").compactMap { line in
    guard let colon = line.firstIndex(of: ":") else { return nil }
    return (
      String(line[..<colon]),
      String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
    )
  }
}

/// FNV-1a over 32 bits, as examples/echo.lua computes it, in lower-case hex.
func fnv1a32(_ bytes: [UInt8]) -> String {
  var hash: UInt32 = 0x811c_9dc5
  for byte in bytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
  let hex = String(hash, radix: 16)
  return String(repeating: "0", count: 8 - hex.count) + hex
}

/// A request head as the front's parser would have indexed it: raw bytes and their parts.
struct PreparedRequest {
  var raw: [UInt8]
  var parts: RequestSlotWriter.Parts
  var headers: [(name: Range<Int>, value: Range<Int>)] = []

  init(_ method: String, _ target: String, headers: [(String, String)] = []) {
    raw = Array("\(method) \(target) HTTP/1.1\r\n".utf8)
    let targetStart = method.utf8.count + 1
    let targetEnd = targetStart + target.utf8.count
    let question = Array(target.utf8).firstIndex(of: UInt8(ascii: "?"))
    let pathEnd = question.map { targetStart + $0 } ?? targetEnd
    let queryStart = question.map { targetStart + $0 + 1 } ?? targetEnd
    for (name, value) in headers {
      let nameStart = raw.count
      raw += Array(name.utf8) + Array(": ".utf8)
      let valueStart = raw.count
      raw += Array(value.utf8)
      self.headers.append((nameStart..<nameStart + name.utf8.count, valueStart..<raw.count))
      raw += Array("\r\n".utf8)
    }
    raw += Array("\r\n".utf8)
    parts = RequestSlotWriter.Parts(
      method: 0..<method.utf8.count, target: targetStart..<targetEnd, path: targetStart..<pathEnd,
      query: queryStart..<targetEnd, httpVersion: 11, flags: 0)
  }
}
