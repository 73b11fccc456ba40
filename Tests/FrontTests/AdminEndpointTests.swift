import Foundation
import TestSupport
import XCTest

/// `--admin`: /metrics (checked by promtool and scraped by a real Prometheus), /status (the
/// JSON ringstat prints) and /healthz, on a listener of their own.
final class AdminEndpointTests: XCTestCase {
  private func broker(_ extra: [String] = []) throws -> BrokerProcess {
    try BrokerProcess(
      ["--admin", "127.0.0.1:0", "--workers", "2", "--worker", Products.cWorker] + extra)
  }

  private func metrics(_ broker: BrokerProcess) throws -> String {
    let response = try get(broker.adminPort!, "/metrics")
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
    return response.bodyText
  }

  /// The value of the sample written exactly as `series` (name and labels).
  private func value(_ series: String, in text: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
      Double($0.split(separator: " ").last!)
    }
  }

  func testMetricsPassPromtoolAndCountWhatHappened() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    XCTAssertNotNil(broker.adminPort, "the ready line names the admin address")
    for _ in 0..<5 { XCTAssertEqual(try get(broker.port, "/").status, 200) }
    let bad = try RawHTTPClient(port: broker.port)
    try bad.send("NOT A REQUEST\r\n\r\n")
    XCTAssertEqual(try bad.readResponse().status, 400)
    var text = ""
    XCTAssertTrue(
      waitUntil(timeout: 10) {
        text = (try? self.metrics(broker)) ?? ""
        return self.value("ringbroker_responses_total{class=\"4xx\"}", in: text) == 1
      }, text)
    XCTAssertEqual(value("ringbroker_responses_total{class=\"2xx\"}", in: text), 5, text)
    XCTAssertEqual(value("ringbroker_requests_total", in: text), 5, text)
    XCTAssertEqual(value("ringbroker_malformed_requests_total", in: text), 1, text)
    XCTAssertEqual(value("ringbroker_response_latency_seconds_count", in: text), 5, text)
    XCTAssertEqual(value("ringbroker_queue_wait_seconds_count", in: text), 5, text)
    XCTAssertEqual(value("ringbroker_workers", in: text), 2, text)
    XCTAssertEqual(value("ringbroker_workers_target", in: text), 2, text)
    XCTAssertEqual(value("ringbroker_gateway_errors_total{code=\"503\"}", in: text), 0, text)
    let perWorker = ["0", "1"].compactMap {
      value("ringbroker_worker_requests_total{worker=\"\($0)\"}", in: text)
    }
    XCTAssertEqual(perWorker.reduce(0, +), 5, text)
    XCTAssertGreaterThan(value("ringbroker_sent_bytes_total", in: text) ?? 0, 0, text)

    let file = NSTemporaryDirectory() + "rbtest-metrics-\(UUID().uuidString).txt"
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    defer { unlink(file) }
    let check = try Spawn.run("/bin/sh", ["-c", "promtool check metrics < '\(file)'"])
    XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
    XCTAssertEqual(check.stdout + check.stderr, "", "promtool found something to criticise")
  }

  func testGatewayErrorsAndQueueWaitAreCounted() throws {
    // One worker busy for 1.5 s: a second request waits in the front past --queue-timeout.
    let broker = try BrokerProcess([
      "--admin", "127.0.0.1:0", "--workers", "1", "--worker", Products.cWorker,
      "--worker-depth", "1", "--queue-timeout", "0.3", "--stall-timeout", "60",
    ])
    defer { _ = broker.stop() }
    let slow = try RawHTTPClient(port: broker.port)
    try slow.send(Requests.get("/sleep?ms=1500"))
    usleep(200_000)
    XCTAssertEqual(try get(broker.port, "/").status, 503)
    XCTAssertEqual(try slow.readResponse().status, 200)
    let text = try metrics(broker)
    XCTAssertEqual(value("ringbroker_gateway_errors_total{code=\"503\"}", in: text), 1, text)
    XCTAssertEqual(value("ringbroker_responses_total{class=\"5xx\"}", in: text), 1, text)
    // The 503 waited the queue timeout: its bucket is above 0.25 s, the slow one's wait is not.
    XCTAssertEqual(value("ringbroker_queue_wait_seconds_count", in: text), 2, text)
    XCTAssertEqual(
      value("ringbroker_queue_wait_seconds_bucket{le=\"0.268435456\"}", in: text), 1, text)
    XCTAssertGreaterThanOrEqual(
      value("ringbroker_queue_wait_seconds_sum", in: text) ?? 0, 0.3, text)
    // The slow reply took 1.5 s: above the 1.07 s bound, below 2.15 s.
    XCTAssertEqual(
      value("ringbroker_response_latency_seconds_bucket{le=\"1.073741824\"}", in: text), 1, text)
    XCTAssertEqual(
      value("ringbroker_response_latency_seconds_bucket{le=\"2.147483648\"}", in: text), 2, text)
  }

  func testStatusIsWhatRingstatPrints() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    let response = try get(broker.adminPort!, "/status")
    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.header("Content-Type"), "application/json")
    let status = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    let ringstat = try Spawn.run(Products.path("ringstat"), ["--json", String(broker.pid)])
    XCTAssertEqual(ringstat.status, 0, ringstat.stderr)
    let printed = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(ringstat.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(Set(status.keys), Set(printed.keys))
    XCTAssertEqual(Set(status.keys), ["broker", "front", "channels", "totals"])
    for key in ["broker", "front", "totals"] {
      let ours = try XCTUnwrap(status[key] as? [String: Any])
      let theirs = try XCTUnwrap(printed[key] as? [String: Any])
      // ringstat samples twice for its rates; /status once, so it has no ratePerSecond.
      XCTAssertEqual(
        Set(ours.keys).symmetricDifference(Set(theirs.keys)).subtracting(["ratePerSecond"]), [],
        key)
    }
    let summary = try XCTUnwrap(status["broker"] as? [String: Any])
    XCTAssertEqual(summary["pid"] as? Int, Int(broker.pid))
    XCTAssertEqual(summary["state"] as? String, "running")
    XCTAssertEqual((status["channels"] as? [Any])?.count, 2)
    let front = try XCTUnwrap(status["front"] as? [String: Any])
    XCTAssertEqual((front["replies"] as? [String: Any])?["2xx"] as? Int, 1)
  }

  func testHealthzFollowsTheWorkersAndTheDrain() throws {
    let broker = try broker(["--drain-timeout", "20"])
    defer { _ = broker.stop(signal: SIGKILL) }
    let healthy = try get(broker.adminPort!, "/healthz")
    XCTAssertEqual(healthy.status, 200, healthy.bodyText)
    XCTAssertTrue(healthy.bodyText.hasPrefix("ok: "), healthy.bodyText)
    // A request in flight keeps the drain going; meanwhile load balancers must see 503.
    let slow = try RawHTTPClient(port: broker.port)
    try slow.send(Requests.get("/sleep?ms=3000"))
    usleep(200_000)
    kill(broker.pid, SIGTERM)
    var draining: HTTPResponse?
    XCTAssertTrue(
      waitUntil(timeout: 5) {
        draining = try? get(broker.adminPort!, "/healthz")
        return draining?.status == 503
      }, "\(String(describing: draining))")
    XCTAssertTrue(
      draining?.bodyText.hasPrefix("draining: ") ?? false, "\(String(describing: draining))")
    XCTAssertEqual(try slow.readResponse().status, 200)

    let empty = try BrokerProcess(["--admin", "127.0.0.1:0", "--workers", "0"])
    defer { _ = empty.stop() }
    let none = try get(empty.adminPort!, "/healthz")
    XCTAssertEqual(none.status, 503)
    XCTAssertTrue(none.bodyText.hasPrefix("no worker serves"), none.bodyText)
  }

  /// A worker writes impossible layout words into its channel header: the admin endpoint (and
  /// ringstat) skip that channel instead of trapping, and the broker serves on.
  func testAWorkerThatCorruptsItsHeaderCannotCrashTheAdminEndpoint() throws {
    let broker = try BrokerProcess([
      "--admin", "127.0.0.1:0", "--workers", "1",
      "--worker", Products.path("ringchannel-child") + " corrupt-header",
    ])
    defer { _ = broker.stop() }
    XCTAssertNotNil(broker.waitForLogLine(containing: "corrupted its channel header"))
    for path in ["/healthz", "/metrics", "/status"] {
      XCTAssertNotEqual(try get(broker.adminPort!, path).status, 0, path)
    }
    XCTAssertEqual(try get(broker.port, "/x").status, 200, "the front serves on")
    XCTAssertTrue(broker.process.isRunning, broker.stderr)
    let ringstat = try Ringstat.run(["--json", String(broker.pid)])
    XCTAssertLessThan(ringstat.status, 128, "ringstat did not crash: \(ringstat.stderr)")
  }

  func testOtherPathsAndMethodsAreRefused() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    XCTAssertEqual(try get(broker.adminPort!, "/").status, 404)
    let post = try RawHTTPClient(port: broker.adminPort!)
    try post.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    let refused = try post.readResponse()
    XCTAssertEqual(refused.status, 405)
    XCTAssertEqual(refused.header("Allow"), "GET, HEAD")
  }

  /// Idle admin connections beyond its limit (64) cannot lock out the next admin client, nor
  /// touch the clients' listener.
  func testIdleAdminConnectionsCannotLockItOut() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    let idle = try (0..<100).map { _ in try RawHTTPClient(port: broker.adminPort!) }
    usleep(300_000)
    XCTAssertEqual(try get(broker.adminPort!, "/healthz").status, 200)
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    withExtendedLifetime(idle) {}
  }

  func testAnAdminAddressInUseStopsTheBroker() throws {
    let port = try FreePort.find()
    let holder = try FreePort.occupy(port)
    defer { close(holder) }
    let result = try BrokerProcess.runToExit([
      "--admin", "127.0.0.1:\(port)", "--workers", "1", "--worker", Products.cWorker,
    ])
    XCTAssertEqual(result.status, 1, result.stderr)
    XCTAssertTrue(result.stderr.contains("--admin: "), result.stderr)
    XCTAssertTrue(result.stderr.contains("in use"), result.stderr)
    let invalid = try BrokerProcess.runToExit(["--admin", "nonsense", "--inline"])
    XCTAssertEqual(invalid.status, 64, invalid.stderr)
    XCTAssertTrue(invalid.stderr.contains("--admin"), invalid.stderr)
  }

  /// `--admin unix:PATH`: the same endpoint on a unix socket (mode 0660), removed at exit; a
  /// path that is not a socket is never replaced.
  func testAdminOnAUnixSocket() throws {
    let path = NSTemporaryDirectory() + "rbtest-admin-\(UUID().uuidString.prefix(8)).sock"
    let broker = try BrokerProcess([
      "--admin", "unix:\(path)", "--workers", "1", "--worker", Products.cWorker,
    ])
    XCTAssertTrue(broker.stderr.contains("admin on unix:\(path)"), broker.stderr)
    var status = stat()
    XCTAssertEqual(stat(path, &status), 0)
    XCTAssertEqual(status.st_mode & S_IFMT, S_IFSOCK)
    XCTAssertEqual(status.st_mode & 0o777, 0o660)
    XCTAssertEqual(try get(broker.port, "/").status, 200)
    let health = try unixSocketGet(path, "/healthz")
    XCTAssertTrue(health.hasPrefix("HTTP/1.1 200 "), health)
    let metrics = try unixSocketGet(path, "/metrics")
    XCTAssertTrue(metrics.contains("\nringbroker_requests_total 1\n"), metrics)
    XCTAssertEqual(broker.stop(), 0)
    XCTAssertNotEqual(access(path, F_OK), 0, "the socket is removed at exit")

    let file = NSTemporaryDirectory() + "rbtest-admin-file-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: file, contents: Data("keep me".utf8))
    defer { unlink(file) }
    let refused = try BrokerProcess.runToExit([
      "--listen", "127.0.0.1:0", "--inline", "--admin", "unix:\(file)",
    ])
    XCTAssertEqual(refused.status, 1)
    XCTAssertTrue(refused.stderr.contains("exists and is not a socket"), refused.stderr)
    XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "keep me")
  }

  /// A real Prometheus scrapes /metrics; what it stored is read back through its HTTP API.
  func testPrometheusScrapesTheBroker() throws {
    let broker = try broker()
    defer { _ = broker.stop() }
    for _ in 0..<7 { XCTAssertEqual(try get(broker.port, "/").status, 200) }
    let prometheus = try PrometheusServer(scraping: "127.0.0.1:\(broker.adminPort!)")
    defer { prometheus.stop() }
    XCTAssertTrue(
      waitUntil(timeout: 30) { prometheus.query("up{job=\"ringbroker\"}") == 1 },
      "Prometheus never scraped the broker successfully")
    XCTAssertTrue(
      waitUntil(timeout: 30) {
        prometheus.query("ringbroker_responses_total{class=\"2xx\"}") == 7
      }, "got \(String(describing: prometheus.query("ringbroker_responses_total{class=\"2xx\"}")))")
    XCTAssertEqual(prometheus.query("sum(ringbroker_worker_requests_total)"), 7)
    XCTAssertEqual(prometheus.query("ringbroker_response_latency_seconds_count"), 7)
  }
}
