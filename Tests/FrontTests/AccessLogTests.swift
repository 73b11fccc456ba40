import Foundation
import TestSupport
import XCTest

/// --access-log: a line per request, the broker's own answers included, in nginx's combined
/// format (plus rid=, worker=, upstream=) or as JSON, whole lines whatever the client sent and
/// however many front threads write; reopened on SIGUSR1.
final class AccessLogTests: XCTestCase {
  func testCombinedLineFieldsAreExactlyTheRequestsAndNameTheWorker() throws {
    let log = AccessLogFile()
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--access-log", log.path,
    ])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let client = try RawHTTPClient(port: broker.port)
    try client.send(
      Requests.get(
        "/echo?x=1",
        headers: ["Referer: http://example.test/from", "User-Agent: TestAgent/1.0 (x)"]
      ))
    let echo = try client.readResponse()
    XCTAssertEqual(echo.status, 200)
    try client.send("HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\n")
    XCTAssertEqual(try client.readResponse(forHEAD: true).status, 200)
    try client.send(Requests.get("/bytes?n=100000"))
    XCTAssertEqual(try client.readResponse().body.count, 100_000)
    // Streamed without a declared length (HTTP/1.0: ends with the connection): the total is
    // known only at the end.
    let streamed = try RawHTTPClient(port: broker.port)
    try streamed.send("GET /bytes?n=70000&chunked=1 HTTP/1.0\r\n\r\n")
    XCTAssertEqual(try streamed.readResponse().body.count, 70_000)

    let lines = try XCTUnwrap(log.waitForLines(4), "lines: \(log.lines)")
    XCTAssertEqual(lines.count, 4, "\(lines)")
    let parsed = try lines.map { try XCTUnwrap(CombinedLogLine($0), "not combined: \($0)") }
    let workerID = try XCTUnwrap(ringstatChannels(brokerPid: broker.pid).first?["workerId"] as? Int)

    let first = parsed[0]
    XCTAssertEqual(first.remoteAddress, "127.0.0.1")
    XCTAssertEqual(first.request, "GET /echo?x=1 HTTP/1.1")
    XCTAssertEqual(first.status, 200)
    XCTAssertEqual(first.bodyBytes, echo.body.count)
    XCTAssertEqual(first.referer, "http://example.test/from")
    XCTAssertEqual(first.userAgent, "TestAgent/1.0 (x)")
    XCTAssertEqual(first.requestID, Self.requestID(inEcho: echo), "the id the worker saw")
    XCTAssertEqual(first.worker, String(workerID))
    XCTAssertNotNil(
      first.upstream.range(of: #"^\d+\.\d{3}$"#, options: .regularExpression), first.upstream)
    let time = try XCTUnwrap(Self.localTime.date(from: first.time), first.time)
    XCTAssertLessThan(abs(time.timeIntervalSinceNow), 60, first.time)

    XCTAssertEqual(parsed[1].request, "HEAD /echo HTTP/1.1")
    XCTAssertEqual(parsed[1].bodyBytes, 0, "HEAD sends no body")
    XCTAssertEqual(parsed[1].referer, "-")
    XCTAssertEqual(parsed[1].userAgent, "-")
    XCTAssertEqual(parsed[2].request, "GET /bytes?n=100000 HTTP/1.1")
    XCTAssertEqual(parsed[2].bodyBytes, 100_000)
    XCTAssertEqual(parsed[3].request, "GET /bytes?n=70000&chunked=1 HTTP/1.0")
    XCTAssertEqual(parsed[3].bodyBytes, 70_000)
    for line in parsed { XCTAssertEqual(line.worker, String(workerID)) }
  }

  func testJSONLinesParseAndCarryTheFields() throws {
    let log = AccessLogFile()
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--access-log", log.path,
      "--access-log-format", "json", "--max-body", "100",
    ])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let echo = try RawHTTPClient(port: broker.port).get(
      "/echo?y=2", headers: ["Referer: http://example.test/", "User-Agent: JSONAgent"])
    XCTAssertEqual(echo.status, 200)
    let tooLarge = try RawHTTPClient(port: broker.port)
    try tooLarge.send("POST /sum HTTP/1.0\r\nContent-Length: 1000\r\n\r\n")
    XCTAssertEqual(try tooLarge.readResponse().status, 413)

    let lines = try XCTUnwrap(log.waitForLines(2), "lines: \(log.lines)")
    let objects = try lines.map { line in
      try XCTUnwrap(
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
    }
    let workerID = try XCTUnwrap(ringstatChannels(brokerPid: broker.pid).first?["workerId"] as? Int)
    let worker = objects[0]
    XCTAssertEqual(worker["remote_addr"] as? String, "127.0.0.1")
    XCTAssertEqual(worker["method"] as? String, "GET")
    XCTAssertEqual(worker["target"] as? String, "/echo?y=2")
    XCTAssertEqual(worker["protocol"] as? String, "HTTP/1.1")
    XCTAssertEqual(worker["request"] as? String, "GET /echo?y=2 HTTP/1.1")
    XCTAssertEqual(worker["status"] as? Int, 200)
    XCTAssertEqual(worker["bytes"] as? Int, echo.body.count)
    XCTAssertEqual(worker["referer"] as? String, "http://example.test/")
    XCTAssertEqual(worker["user_agent"] as? String, "JSONAgent")
    XCTAssertEqual(worker["request_id"] as? String, Self.requestID(inEcho: echo))
    XCTAssertEqual(worker["worker"] as? Int, workerID)
    let upstream = try XCTUnwrap(worker["upstream_time"] as? Double, "\(worker)")
    XCTAssertTrue((0..<10).contains(upstream), "\(upstream)")
    let time = try XCTUnwrap(worker["time"] as? String)
    let date = try XCTUnwrap(Self.rfc3339.date(from: time), time)
    XCTAssertLessThan(abs(date.timeIntervalSinceNow), 60, time)

    let refused = objects[1]
    XCTAssertEqual(refused["method"] as? String, "POST")
    XCTAssertEqual(refused["protocol"] as? String, "HTTP/1.0")
    XCTAssertEqual(refused["status"] as? Int, 413)
    XCTAssertTrue(refused["user_agent"] is NSNull, "\(refused)")
    XCTAssertTrue(refused["referer"] is NSNull, "\(refused)")
    for key in ["worker", "upstream_time", "request_id"] {
      XCTAssertTrue(refused[key] is NSNull, "\(key): \(refused)")
    }
  }

  /// Quotes, backslashes, control bytes, bytes that are not UTF-8, a newline in the request
  /// line: each request is one line, in either format, and the client's bytes come back out.
  func testHostileRequestLinesAndUserAgentsStayOneValidLineEach() throws {
    let userAgent = Array("evil \"quoted\" \\back\\slash\ttab ".utf8) + [0xC3, 0xA9, 0xFF, 0x80]
    let accepted = Array("GET /q\"u\\ote?a=\"b\" HTTP/1.1".utf8)
    let refused = Array("GET /x".utf8) + [0x01, 0x1B] + Array("[31m\"y HTTP/1.1".utf8)
    let requests: [[UInt8]] = [
      accepted + Array("\r\nHost: t\r\nUser-Agent: ".utf8) + userAgent + [13, 10, 13, 10],
      refused + Array("\r\nUser-Agent: ".utf8) + userAgent + [13, 10, 13, 10],
      // A bare LF is refused where it stands: the "line" after it never becomes one.
      Array("GET /a\n1.2.3.4 - - [x] \"GET / HTTP/1.1\" 200 0 \"-\" \"-\"\r\n\r\n".utf8),
    ]
    for format in ["combined", "json"] {
      let log = AccessLogFile()
      let broker = try BrokerProcess([
        "--inline", "--access-log", log.path, "--access-log-format", format,
      ])
      for request in requests {
        let client = try RawHTTPClient(port: broker.port)
        try client.send(request)
        _ = try client.readResponse()
      }
      XCTAssertEqual(broker.stop(), 0)
      let lines = log.lines
      XCTAssertEqual(lines.count, 3, "\(format): \(lines)")
      guard lines.count == 3 else { continue }
      for line in lines {
        XCTAssertTrue(
          line.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F }, "\(format): control byte in \(line)")
      }
      if format == "combined" {
        let parsed = try lines.map { try XCTUnwrap(CombinedLogLine($0), $0) }
        XCTAssertTrue(lines.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }, "\(lines)")
        XCTAssertEqual(CombinedLogLine.unescape(parsed[0].request), accepted)
        XCTAssertEqual(CombinedLogLine.unescape(parsed[0].userAgent), userAgent)
        XCTAssertEqual(parsed[0].status, 200)
        XCTAssertEqual(CombinedLogLine.unescape(parsed[1].request), refused)
        XCTAssertEqual(parsed[1].status, 400)
        XCTAssertEqual(parsed[1].userAgent, "-", "no field of a refused request line is parsed")
        XCTAssertEqual(parsed[2].request, "GET /a")
        XCTAssertEqual(parsed[2].status, 400)
      } else {
        let objects = try lines.map { line in
          try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
        }
        // Well-formed UTF-8 stays as it is; a byte that is not UTF-8 is \u00hh.
        XCTAssertEqual(
          objects[0]["user_agent"] as? String, "evil \"quoted\" \\back\\slash\ttab é\u{FF}\u{80}")
        XCTAssertEqual(objects[0]["target"] as? String, "/q\"u\\ote?a=\"b\"")
        XCTAssertEqual(objects[1]["request"] as? String, "GET /x\u{1}\u{1B}[31m\"y HTTP/1.1")
        XCTAssertTrue(objects[1]["method"] is NSNull, "\(objects[1])")
        XCTAssertEqual(objects[1]["status"] as? Int, 400)
        XCTAssertEqual(objects[2]["request"] as? String, "GET /a")
      }
    }
  }

  /// 400, 413, 503 and 504 are the broker's: no worker, no upstream time. The 504's request
  /// reached a worker, so its line keeps the id that worker saw.
  func testTheBrokersOwnAnswersAreLoggedWithoutAWorker() throws {
    let log = AccessLogFile()
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--access-log", log.path,
      "--worker-depth", "1", "--queue-timeout", "0.3", "--timeout", "1", "--max-body", "100",
    ])
    defer { XCTAssertEqual(broker.stop(), 0) }
    // After a reply from the worker on the same connection: nothing of it stays for the next.
    let malformed = try RawHTTPClient(port: broker.port)
    XCTAssertEqual(try malformed.get("/").status, 200)
    try malformed.send("GET /bad HTTP/1.1\r\nNo-Colon\r\n\r\n")
    XCTAssertEqual(try malformed.readResponse().status, 400)
    let tooLarge = try RawHTTPClient(port: broker.port)
    try tooLarge.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
    XCTAssertEqual(try tooLarge.readResponse().status, 413)
    let slow = try RawHTTPClient(port: broker.port)
    try slow.send(Requests.get("/sleep?ms=3000"))
    XCTAssertTrue(waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: 1), broker.stderr)
    XCTAssertEqual(try get(broker.port, "/queued").status, 503)
    XCTAssertEqual(try slow.readResponse().status, 504)

    let lines = try XCTUnwrap(log.waitForLines(5), "lines: \(log.lines)")
    var parsed = try lines.map { try XCTUnwrap(CombinedLogLine($0), $0) }
    let answered = parsed.removeFirst()
    XCTAssertEqual("\(answered.request) \(answered.status)", "GET / HTTP/1.1 200")
    XCTAssertNotEqual(answered.worker, "-")
    XCTAssertEqual(
      parsed.map { "\($0.request) \($0.status)" },
      [
        "GET /bad HTTP/1.1 400", "POST /sum HTTP/1.1 413", "GET /queued HTTP/1.1 503",
        "GET /sleep?ms=3000 HTTP/1.1 504",
      ])
    for line in parsed {
      XCTAssertEqual(line.worker, "-", "\(line)")
      XCTAssertEqual(line.upstream, "-", "\(line)")
      XCTAssertEqual(line.requestID == "-", line.status != 504, "\(line)")
    }
    XCTAssertNotNil(UInt64(parsed[3].requestID), parsed[3].requestID)
  }

  /// A request whose client left while it waited for a worker is dropped unanswered: 499, as
  /// nginx logs it, and no bytes.
  func testARequestWhoseClientLeftBeforeItsReplyIs499() throws {
    let log = AccessLogFile()
    let broker = try BrokerProcess([
      "--workers", "1", "--worker", Products.cWorker, "--access-log", log.path,
      "--worker-depth", "1",
    ])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let slow = try RawHTTPClient(port: broker.port)
    try slow.send(Requests.get("/sleep?ms=1500"))
    XCTAssertTrue(waitForRequestsTaken(byWorkersOf: broker.pid, atLeast: 1), broker.stderr)
    let leaving = try RawHTTPClient(port: broker.port)
    try leaving.send(Requests.get("/left"))
    leaving.closeConnection()
    let lines = try XCTUnwrap(log.waitForLines(1), "lines: \(log.lines)")
    let left = try XCTUnwrap(CombinedLogLine(lines[0]), lines[0])
    XCTAssertEqual(left.request, "GET /left HTTP/1.1")
    XCTAssertEqual(left.status, 499)
    XCTAssertEqual(left.bodyBytes, 0)
    XCTAssertEqual(left.worker, "-")
    XCTAssertEqual(try slow.readResponse().status, 200)
    let both = try XCTUnwrap(log.waitForLines(2), "lines: \(log.lines)")
    XCTAssertEqual(CombinedLogLine(both[1])?.request, "GET /sleep?ms=1500 HTTP/1.1")
  }

  func testInlineRepliesAreLoggedWithoutAWorker() throws {
    let log = AccessLogFile()
    let broker = try BrokerProcess(["--inline", "--access-log", log.path])
    defer { XCTAssertEqual(broker.stop(), 0) }
    let client = try RawHTTPClient(port: broker.port)
    for path in ["/a", "/b"] { XCTAssertEqual(try client.get(path).status, 200) }
    let lines = try XCTUnwrap(log.waitForLines(2), "lines: \(log.lines)")
    let parsed = try lines.map { try XCTUnwrap(CombinedLogLine($0), $0) }
    XCTAssertEqual(parsed.map(\.request), ["GET /a HTTP/1.1", "GET /b HTTP/1.1"])
    for line in parsed {
      XCTAssertEqual(line.status, 200)
      XCTAssertEqual(line.bodyBytes, 12)
      XCTAssertEqual([line.requestID, line.worker, line.upstream], ["-", "-", "-"])
    }
  }

  func testStandardOutputWithADash() throws {
    let broker = try BrokerProcess(
      ["--inline", "--access-log", "-", "--access-log-format", "json"],
      capturesStandardOutput: true)
    defer { XCTAssertEqual(broker.stop(), 0) }
    XCTAssertEqual(try get(broker.port, "/to-stdout").status, 200)
    XCTAssertTrue(
      waitUntil(timeout: 5) { broker.stdout.contains(#""target":"/to-stdout""#) }, broker.stdout)
  }

  /// logrotate: rename, then SIGUSR1. Until the signal the broker writes on into the renamed
  /// file; after it, into a new file at the path.
  func testSIGUSR1AfterARenameStartsANewFileAndTheRenamedOneKeepsItsLines() throws {
    let log = AccessLogFile()
    let broker = try BrokerProcess(["--inline", "--access-log", log.path])
    defer { XCTAssertEqual(broker.stop(), 0) }
    XCTAssertEqual(try get(broker.port, "/before").status, 200)
    XCTAssertNotNil(log.waitForLines(1))
    try log.rotate()
    XCTAssertEqual(try get(broker.port, "/between").status, 200)
    XCTAssertTrue(waitUntil(timeout: 10) { AccessLogFile.lines(at: log.rotatedPath).count == 2 })
    kill(broker.pid, SIGUSR1)
    XCTAssertNotNil(
      broker.waitForLogLine(containing: "SIGUSR1: reopened \(log.path)"), broker.stderr)
    XCTAssertEqual(try get(broker.port, "/after").status, 200)

    let fresh = try XCTUnwrap(log.waitForLines(1), "nothing in the new file")
    XCTAssertEqual(fresh.compactMap { CombinedLogLine($0)?.request }, ["GET /after HTTP/1.1"])
    XCTAssertEqual(
      AccessLogFile.lines(at: log.rotatedPath).compactMap { CombinedLogLine($0)?.request },
      ["GET /before HTTP/1.1", "GET /between HTTP/1.1"])
  }

  /// Lines go out on the loop's timer, not only when the buffer fills or the broker stops.
  func testALineAppearsWithinTwoSecondsWithoutFurtherTraffic() throws {
    let log = AccessLogFile()
    let broker = try BrokerProcess(["--inline", "--access-log", log.path])
    defer { XCTAssertEqual(broker.stop(), 0) }
    XCTAssertEqual(try get(broker.port, "/lonely").status, 200)
    let start = Date()
    let lines = log.waitForLines(1, timeout: 2)
    XCTAssertEqual(lines?.compactMap { CombinedLogLine($0)?.request }, ["GET /lonely HTTP/1.1"])
    XCTAssertLessThan(Date().timeIntervalSince(start), 2)
  }

  /// Two front threads, each flushing its buffer (many times over) into the one file: every
  /// line is whole, and there is exactly one per request.
  func testTwoFrontThreadsWriteWholeLinesOnePerRequest() throws {
    let log = AccessLogFile()
    let broker = try BrokerProcess(["--inline", "--threads", "2", "--access-log", log.path])
    let threads = 8
    let connectionsEach = 2
    let requestsEach = 250
    // ~300 bytes a line: 4000 lines fill each thread's 64 KiB buffer about ten times.
    let agent = "User-Agent: " + String(repeating: "a", count: 200)
    let failures = Failures()
    let group = DispatchGroup()
    for thread in 0..<threads {
      group.enter()
      Thread {
        defer { group.leave() }
        do {
          let clients = try (0..<connectionsEach).map { _ in try RawHTTPClient(port: broker.port) }
          for round in 0..<requestsEach {
            for (c, client) in clients.enumerated() {
              try client.send(Requests.get("/t\(thread)/c\(c)/r\(round)", headers: [agent]))
            }
            for client in clients {
              let status = try client.readResponse().status
              if status != 200 { failures.add("status \(status)") }
            }
          }
        } catch {
          failures.add("\(error)")
        }
      }.start()
    }
    XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "clients did not finish")
    XCTAssertEqual(failures.all, [])
    XCTAssertEqual(broker.stop(), 0)  // flushes what the buffers hold

    let bytes = AccessLogFile.bytes(at: log.path)
    XCTAssertEqual(bytes.last, 0x0A, "the file ends with a whole line")
    let lines = log.lines
    let total = threads * connectionsEach * requestsEach
    XCTAssertEqual(lines.count, total)
    var targets = Set<String>()
    for line in lines {
      guard let parsed = CombinedLogLine(line), parsed.status == 200 else {
        XCTFail("not a whole line: \(line)")
        break
      }
      targets.insert(parsed.request)
    }
    XCTAssertEqual(targets.count, total, "a request without its own line")
  }

  func testABadFormatOrAnUnwritablePathIsAOneLineError() throws {
    let badFormat = try BrokerProcess.runToExit(["--inline", "--access-log-format", "xml"])
    XCTAssertNotEqual(badFormat.status, 0)
    XCTAssertEqual(badFormat.stderr.split(separator: "\n").count, 1, badFormat.stderr)
    XCTAssertTrue(badFormat.stderr.contains("--access-log-format"), badFormat.stderr)

    let path = "/nonexistent-\(getpid())/access.log"
    let unwritable = try BrokerProcess.runToExit(["--inline", "--access-log", path])
    XCTAssertEqual(unwritable.status, 1)
    XCTAssertEqual(unwritable.stderr.split(separator: "\n").count, 1, unwritable.stderr)
    XCTAssertTrue(
      unwritable.stderr.contains("--access-log: cannot open log file \(path)"), unwritable.stderr)
  }

  // MARK: - Helpers

  /// The request id c-hello's /echo reports ("id N").
  private static func requestID(inEcho response: HTTPResponse) -> String? {
    response.bodyText.split(separator: "\n").first { $0.hasPrefix("id ") }.map {
      String($0.dropFirst(3))
    }
  }

  /// nginx's $time_local.
  private static let localTime: DateFormatter = {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
    return formatter
  }()

  private static let rfc3339: ISO8601DateFormatter = {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter
  }()
}
