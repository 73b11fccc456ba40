import TestSupport
import XCTest

/// Replies far larger than a socket buffer, sent with and without SENDMSG_ZC: every byte must
/// arrive, in order, and pipelined replies must not interleave.
final class LargeReplyTests: XCTestCase {
  private func checkLargeReplies(_ extraArguments: [String], size: Int) throws {
    let broker = try BrokerProcess(
      ["--inline", "--inline-body-size", String(size)] + extraArguments)
    defer { XCTAssertEqual(broker.stop(), 0) }
    let expected = (0..<size).map { UInt8($0 % 64 == 63 ? 0x0A : 0x78) }
    let client = try RawHTTPClient(port: broker.port)
    try client.send(String(repeating: Requests.get(), count: 5))
    for _ in 0..<5 {
      let response = try client.readResponse()
      XCTAssertEqual(response.status, 200)
      XCTAssertEqual(response.body.count, size)
      XCTAssertTrue(response.body == expected, "reply body corrupted")
    }
    // HEAD of a large reply: the length, no body.
    try client.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + Requests.get())
    XCTAssertEqual(try client.readResponse(forHEAD: true).header("Content-Length"), String(size))
    XCTAssertEqual(try client.readResponse().body.count, size)
  }

  func testLargeRepliesCopied() throws {
    try checkLargeReplies(["--zero-copy-threshold", "0"], size: 3 << 20)
  }

  func testLargeRepliesZeroCopy() throws {
    try checkLargeReplies(
      ["--zero-copy-threshold", "16384", "--zero-copy-local-clients"], size: 3 << 20)
  }

  func testMediumRepliesZeroCopy() throws {
    try checkLargeReplies(
      ["--zero-copy-threshold", "16384", "--zero-copy-local-clients"], size: 65536)
  }
}
