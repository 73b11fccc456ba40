import Foundation
import TestSupport
import XCTest

/// Request metadata (ABI version 2) through a real broker and real workers: what the front read
/// from the connection at accept reaches the worker, and request ids are unique across front
/// threads.
final class RequestMetadataTests: XCTestCase {
  /// The front reads its clock once per loop iteration, possibly just before the request's
  /// bytes are taken in: its stamp may precede the client's send by up to one iteration.
  static let clockSlack: UInt64 = 100_000_000

  /// The lines the example workers print on /echo after the request line.
  struct Origin: Equatable {
    var remote: String
    var remotePort: Int
    var local: String
    var localPort: Int
    var id: UInt64
    var scheme: String
    /// CLOCK_REALTIME ns when the broker had the head.
    var received: UInt64
  }

  static func origin(in echo: String) throws -> Origin {
    var fields: [String: [String]] = [:]
    for line in echo.split(separator: "\n").dropFirst().prefix(5) {
      let words = line.split(separator: " ").map(String.init)
      fields[words[0]] = Array(words.dropFirst())
    }
    guard let remote = fields["remote"], remote.count == 2, let remotePort = Int(remote[1]),
      let local = fields["local"], local.count == 2, let localPort = Int(local[1]),
      let id = fields["id"]?.first.flatMap({ UInt64($0) }), let scheme = fields["scheme"]?.first,
      let received = fields["received"]?.first.flatMap({ UInt64($0) })
    else { throw TestError("no origin lines in the echo:\n\(echo)") }
    return Origin(
      remote: remote[0], remotePort: remotePort, local: local[0], localPort: localPort, id: id,
      scheme: scheme, received: received)
  }

  static func realtimeNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
  }

  /// The client socket's own port, as the kernel chose it.
  static func sourcePort(of client: RawHTTPClient) -> Int {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let rc = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(client.fd, $0, &length) }
    }
    precondition(rc == 0, "getsockname: errno \(errno)")
    return Int(UInt16(bigEndian: address.sin_port))
  }

  /// Several connections to two front threads, two requests each: every echo shows the
  /// client's real source port, the listen port, and an id no other request has; both threads
  /// (the top 8 bits of the id) served some.
  func testCWorkerEchoShowsTheConnectionAndUniqueIDsAcrossThreads() throws {
    let broker = try BrokerProcess([
      "--threads", "2", "--workers", "2", "--worker", Products.cWorker,
    ])
    defer { _ = broker.stop() }
    var ids = Set<UInt64>()
    var threads = Set<UInt64>()
    for connection in 0..<16 {
      let client = try RawHTTPClient(port: broker.port)
      let sourcePort = Self.sourcePort(of: client)
      var idsOfThisConnection: [UInt64] = []
      for request in 0..<2 {
        let sentAt = Self.realtimeNanoseconds()
        try client.send(Requests.post("/echo", body: "c\(connection) r\(request)"))
        let echo = try client.readResponse()
        let answeredAt = Self.realtimeNanoseconds()
        XCTAssertEqual(echo.status, 200)
        XCTAssertTrue(echo.bodyText.hasSuffix("\n\nc\(connection) r\(request)"), echo.bodyText)
        let origin = try Self.origin(in: echo.bodyText)
        XCTAssertEqual(origin.remote, "127.0.0.1")
        XCTAssertEqual(origin.remotePort, sourcePort, "the client's real source port")
        XCTAssertEqual(origin.local, "127.0.0.1")
        XCTAssertEqual(origin.localPort, Int(broker.port), "the broker's listen port")
        XCTAssertEqual(origin.scheme, "http")
        XCTAssertTrue(
          (sentAt - Self.clockSlack...answeredAt).contains(origin.received),
          "head received at \(origin.received), sent at \(sentAt), answered at \(answeredAt)")
        XCTAssertNotEqual(origin.id, 0)
        XCTAssertTrue(ids.insert(origin.id).inserted, "id \(origin.id) seen twice")
        threads.insert(origin.id >> 56)
        idsOfThisConnection.append(origin.id)
      }
      XCTAssertNotEqual(idsOfThisConnection[0], idsOfThisConnection[1])
    }
    XCTAssertEqual(ids.count, 32)
    // SO_REUSEPORT spreads connections by a hash of their addresses: 16 connections all on one
    // of two threads happen once in 32,768 runs.
    XCTAssertEqual(threads, [0, 1], "ids from both front threads, thread index in the top 8 bits")
  }

  func testSwiftWorkerEchoShowsTheConnection() throws {
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.path("swift-hello-worker"),
    ])
    defer { _ = broker.stop() }
    let client = try RawHTTPClient(port: broker.port)
    let sentAt = Self.realtimeNanoseconds()
    try client.send(Requests.post("/echo", body: "x"))
    let origin = try Self.origin(in: try client.readResponse().bodyText)
    XCTAssertTrue(
      (sentAt - Self.clockSlack...Self.realtimeNanoseconds()).contains(origin.received))
    XCTAssertEqual(origin.remote, "127.0.0.1")
    XCTAssertEqual(origin.remotePort, Self.sourcePort(of: client))
    XCTAssertEqual(origin.localPort, Int(broker.port))
    XCTAssertEqual(origin.scheme, "http")
    XCTAssertEqual(origin.id >> 56, 0, "one front thread: thread index 0")
  }

  /// A Lua app sees the same through a real broker.
  func testLuaAppSeesTheConnection() throws {
    let app = NSTemporaryDirectory() + "meta-\(getpid()).lua"
    try """
    return function(req)
      return 200, nil, table.concat({ req.remote_addr, req.remote_port, req.id, req.scheme }, " ")
    end
    """.write(toFile: app, atomically: true, encoding: .utf8)
    defer { unlink(app) }
    let broker = try BrokerProcess(["--workers", "1", app])
    defer { _ = broker.stop() }
    let client = try RawHTTPClient(port: broker.port)
    var seen: [String] = []
    for _ in 0..<2 {
      try client.send(Requests.get("/"))
      let words = try client.readResponse().bodyText.split(separator: " ").map(String.init)
      XCTAssertEqual(words.count, 4, "\(words)")
      guard words.count == 4 else { return }
      XCTAssertEqual(words[0], "127.0.0.1")
      XCTAssertEqual(Int(words[1]), Self.sourcePort(of: client))
      XCTAssertNotNil(UInt64(words[2]), words[2])
      XCTAssertEqual(words[3], "http")
      seen.append(words[2])
    }
    XCTAssertNotEqual(seen[0], seen[1], "each request has its own id")
  }
}
