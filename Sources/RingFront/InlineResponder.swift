/// Answers every request itself: 200, `Content-Type: text/plain`, `hello world\n`, from static
/// memory. The baseline that measures the front alone, without the hop to a worker.
public final class InlineResponder: FrontHandler {
  public static let defaultBody: StaticString = "hello world\n"
  private static let headerBlock: StaticString = "Content-Type: text/plain\r\n"

  private let headers: UnsafeRawBufferPointer
  private let body: UnsafeRawBufferPointer

  /// `body` must outlive the responder; the default is static.
  public init(body: UnsafeRawBufferPointer? = nil) {
    headers = UnsafeRawBufferPointer(
      start: Self.headerBlock.utf8Start, count: Self.headerBlock.utf8CodeUnitCount)
    self.body =
      body
      ?? UnsafeRawBufferPointer(
        start: Self.defaultBody.utf8Start, count: Self.defaultBody.utf8CodeUnitCount)
  }

  /// A body of `size` bytes for benchmarks, allocated once and never freed (all threads share it).
  public static func makeBenchmarkBody(size: Int) -> UnsafeRawBufferPointer {
    let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 4096)
    for i in 0..<memory.count { memory[i] = i % 64 == 63 ? 0x0A : 0x78 }
    return UnsafeRawBufferPointer(rebasing: memory[0..<size])
  }

  public func handle(_ request: IncomingRequest, ticket: ReplyTicket, loop: FrontLoop) {
    loop.reply(ticket, status: 200, headerBlock: headers, body: body, releaseToken: 0)
  }

  public func poll(loop: FrontLoop, now: UInt64) {}
  public func released(token: UInt64) {}
  public func completed(token: UInt64, result: Int32, flags: UInt32, loop: FrontLoop) {}
  public var hasWork: Bool { false }
}
