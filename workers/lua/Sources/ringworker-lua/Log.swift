import Glibc
import RingWorker

private let prefix = "ringworker-lua[\(getpid())]: "

/// Writes one message to stderr with a single write(2), so that messages from several workers
/// sharing the broker's stderr do not interleave.
func log(_ message: String) {
  var line = prefix + message
  if !line.hasSuffix("\n") { line += "\n" }
  line.withUTF8 { bytes in
    var offset = 0
    while offset < bytes.count {
      let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
      if written <= 0 {
        if written < 0 && errno == EINTR { continue }
        return
      }
      offset += written
    }
  }
}

/// "GET /path?query HTTP/1.1", for log lines about a request.
func requestLine(_ request: Request) -> String {
  let version = request.httpVersion == 10 ? "HTTP/1.0" : "HTTP/1.1"
  return String(decoding: request.method, as: UTF8.self) + " "
    + String(decoding: request.target, as: UTF8.self) + " " + version
}
