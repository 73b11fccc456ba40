import Foundation
import TestSupport
import XCTest

/// Both directions at once: a 64 MiB upload that workers/c-hello's /echo-stream sends back as
/// it reads it (rw_body_read, then rw_reply_write for each piece). The client sends on one
/// thread and reads on another, as a real client of a streaming echo must; every byte comes
/// back in order, and the broker's peak memory grows by less than 32 MiB (it holds neither
/// the upload nor the reply).
final class StreamedEchoTests: XCTestCase {
  private func echo(chunked: Bool) throws {
    let broker = try BrokerProcess(["--workers", "1", "--worker", Products.cWorker])
    defer { XCTAssertEqual(broker.stop(), 0) }
    XCTAssertEqual(try RawHTTPClient(port: broker.port).get("/").status, 200)
    let before = peakResidentMemoryKiB(broker.pid)
    let body = Uploads.body(count: (64 << 20) + 13, seed: chunked ? 3 : 5)
    let client = try StreamingHTTPClient(port: broker.port, timeout: 120)
    let outcome = SenderOutcome()
    let sender = Thread {
      do {
        if chunked {
          try Uploads.sendChunked(client.connection, path: "/echo-stream", body: body)
        } else {
          try Uploads.sendContentLength(client.connection, path: "/echo-stream", body: body)
        }
      } catch {
        outcome.error = error
      }
    }
    sender.start()
    let head = try client.readHead()
    XCTAssertEqual(head.status, 200, broker.stderr)
    XCTAssertEqual(head.header("Transfer-Encoding"), "chunked")
    var received = 0
    var mismatchAt: Int?
    let length = try client.readBody(of: head) { piece in
      for (i, byte) in piece.enumerated() where mismatchAt == nil {
        if received + i >= body.count || body[received + i] != byte { mismatchAt = received + i }
      }
      received += piece.count
    }
    XCTAssertTrue(waitUntil(timeout: 30) { sender.isFinished })
    XCTAssertNil(outcome.error)
    XCTAssertEqual(length, body.count)
    XCTAssertNil(mismatchAt, "first wrong byte")
    let growth = peakResidentMemoryKiB(broker.pid) - before
    XCTAssertLessThan(growth, 32 * 1024, "broker VmHWM grew by \(growth) KiB")
    // The exchange ended cleanly: the connection serves the next request.
    try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    let next = try client.readHead()
    var text = ""
    _ = try client.readBody(of: next) { text += String(decoding: $0, as: UTF8.self) }
    XCTAssertEqual(text, "hello world\n")
  }

  func testContentLengthUploadEchoedWhileItStreamsIn() throws { try echo(chunked: false) }

  func testChunkedUploadEchoedWhileItStreamsIn() throws { try echo(chunked: true) }
}

/// What the sending thread ran into; read only after it finished.
private final class SenderOutcome {
  var error: Error?
}
