/// Size limits applied while parsing a request. Each one maps to the status code the front
/// sends when it is exceeded, so that a hostile client is refused before it can make the
/// front buffer more than these amounts.
public struct HTTPLimits: Equatable {
  /// Request line without its CRLF. Exceeding it is 414 (URI Too Long).
  public var maxRequestLineLength: Int
  /// Whole head, request line through the final CRLF CRLF. Exceeding it is 431.
  public var maxHeadLength: Int
  /// Number of header field lines. Exceeding it is 431.
  public var maxHeaderCount: Int
  /// Content-Length over it, or a chunked body growing over it, is 413.
  public var maxBodyLength: Int

  public init(
    maxRequestLineLength: Int = 8192, maxHeadLength: Int = 32768, maxHeaderCount: Int = 100,
    maxBodyLength: Int = 1 << 20
  ) {
    self.maxRequestLineLength = maxRequestLineLength
    self.maxHeadLength = maxHeadLength
    self.maxHeaderCount = maxHeaderCount
    self.maxBodyLength = maxBodyLength
  }
}
