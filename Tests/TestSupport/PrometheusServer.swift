import Foundation

/// A real Prometheus (Debian's `prometheus`) scraping one target every second, with its data in
/// a temporary directory that goes away with it. Tests read back what it scraped through its
/// HTTP API (`query`).
public final class PrometheusServer {
  public let port: UInt16
  private let process = Process()
  private let directory: String
  private let output = CapturedOutput()

  /// Starts Prometheus scraping `target` ("127.0.0.1:PORT", path /metrics) and waits until it
  /// is ready.
  public init(scraping target: String) throws {
    directory = NSTemporaryDirectory() + "rbtest-prometheus-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let config = """
      global:
        scrape_interval: 1s
        scrape_timeout: 1s
      scrape_configs:
        - job_name: ringbroker
          static_configs:
            - targets: ['\(target)']

      """
    try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
    port = try FreePort.find()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
    process.arguments = [
      "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
      "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
    ]
    output.attach(to: process)
    try process.run()
    output.startReading()
    guard
      waitUntil(timeout: 60, { process.isRunning && ((try? get(port, "/-/ready"))?.status == 200) })
    else {
      stop()
      throw TestError("prometheus did not become ready:\n\(output.text)")
    }
  }

  deinit { stop() }

  public func stop() {
    if process.isRunning {
      process.terminate()
      _ = try? process.waitForExit(timeout: 20, "prometheus")
    }
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// The value of an instant query's first sample, e.g. `ringbroker_requests_total`; nil
  /// while Prometheus has none.
  public func query(_ expression: String) -> Double? {
    let encoded =
      expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
    guard let response = try? get(port, "/api/v1/query?query=\(encoded)"),
      response.status == 200,
      let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
      let data = json["data"] as? [String: Any],
      let result = (data["result"] as? [[String: Any]])?.first,
      let value = result["value"] as? [Any], value.count == 2, let text = value[1] as? String
    else { return nil }
    return Double(text)
  }
}
