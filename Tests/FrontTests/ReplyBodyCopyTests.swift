import Glibc
import TestSupport
import XCTest

@testable import RingFront

/// A small reply body is copied after the reply's head, so the handler's memory (a worker's
/// slot) comes back as soon as the reply is queued; a large one is sent from the handler's
/// memory, which comes back only once the kernel took it.
final class ReplyBodyCopyTests: XCTestCase {
  func testASmallBodysMemoryComesBackBeforeItsReplyIsSent() throws {
    let responder = SizedBodyResponder()
    let server = FrontServer(
      config: FrontConfig(listen: ListenAddress(host: "127.0.0.1", port: 0)), threads: 1
    ) { _ in responder }
    try server.start()
    defer {
      server.stop()
      server.wait()
    }
    // The client reads nothing yet: the 32 MiB reply fills the socket buffers and its send
    // stays in flight, and the small reply queues behind it.
    let client = try RawHTTPClient(port: server.boundAddress.port, receiveBufferSize: 64 * 1024)
    try client.send(Requests.get("/big") + Requests.get("/small"))
    XCTAssertTrue(
      waitUntil(timeout: 10) { responder.smallReleased.value == 1 },
      "the small body's memory is held until its reply is sent")
    XCTAssertEqual(responder.bigReleased.value, 0, "the large body is still being sent")

    let big = try client.readResponse()
    XCTAssertEqual(big.body.count, SizedBodyResponder.bigSize)
    XCTAssertTrue(big.body.allSatisfy { $0 == UInt8(ascii: "b") })
    XCTAssertEqual(try client.readResponse().bodyText, "small /small")
    XCTAssertTrue(waitUntil(timeout: 10) { responder.bigReleased.value == 1 })
  }
}

/// Answers at once: "/big" with 32 MiB of "b", anything else with "small PATH". Each body lives
/// in memory of its own until `released`, which is counted by size.
final class SizedBodyResponder: FrontHandler, @unchecked Sendable {
  static let bigSize = 32 << 20
  let smallReleased = Counter()
  let bigReleased = Counter()
  private var bodies: [UInt64: UnsafeMutableRawBufferPointer] = [:]
  private var nextToken: UInt64 = 1

  func handle(_ request: IncomingRequest, ticket: ReplyTicket, loop: FrontLoop) {
    let path = String(
      decoding: UnsafeRawBufferPointer(rebasing: request.head[request.parsed.path]), as: UTF8.self)
    let body: UnsafeMutableRawBufferPointer
    if path == "/big" {
      body = .allocate(byteCount: Self.bigSize, alignment: 64)
      body.initializeMemory(as: UInt8.self, repeating: UInt8(ascii: "b"))
    } else {
      let text = Array("small \(path)".utf8)
      body = .allocate(byteCount: text.count, alignment: 1)
      body.copyBytes(from: text)
    }
    let token = nextToken
    nextToken += 1
    bodies[token] = body
    loop.reply(
      ticket, status: 200, headerBlock: UnsafeRawBufferPointer(start: nil, count: 0),
      body: UnsafeRawBufferPointer(body), releaseToken: token)
  }

  func released(token: UInt64) {
    guard let body = bodies.removeValue(forKey: token) else { return }
    (body.count == Self.bigSize ? bigReleased : smallReleased).increment()
    // Whatever the front still sends from here on must not come from this memory.
    memset(body.baseAddress!, 0x58, body.count)
    body.deallocate()
  }

  func completed(token: UInt64, result: Int32, flags: UInt32, loop: FrontLoop) {}
  func poll(loop: FrontLoop, now: UInt64) {}
  var hasWork: Bool { !bodies.isEmpty }
}
