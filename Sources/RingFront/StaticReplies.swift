/// Replies that never change, in memory that lives as long as the process: sending them needs
/// no allocation and no release.
enum StaticReplies {
  static let continue100 = bytes("HTTP/1.1 100 Continue\r\n\r\n")

  private static func bytes(_ text: StaticString) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
  }
}
