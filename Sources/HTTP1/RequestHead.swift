/// How the body after the head is delimited.
public enum BodyFraming: Equatable {
  /// No Content-Length and no Transfer-Encoding: the request has no body.
  case none
  /// Exactly this many bytes follow the head (may be 0 when the client sent `Content-Length: 0`).
  case contentLength(Int)
  /// The body is chunked; feed it to a `ChunkedDecoder`.
  case chunked
}

/// One header field line, as byte offsets into the parsed buffer.
public struct HeaderField: Equatable {
  public var name: Range<Int>
  /// Trimmed of leading and trailing OWS.
  public var value: Range<Int>

  public init(name: Range<Int>, value: Range<Int>) {
    self.name = name
    self.value = value
  }
}

/// The parsed request head. All ranges are byte offsets into the buffer that was parsed, so
/// the front can copy the raw bytes once and hand the offsets along with them.
///
/// Keep one per connection and parse into it again and again: `headers` keeps its capacity,
/// so a steady stream of requests causes no allocation.
public struct RequestHead {
  public var method: Range<Int>
  public var target: Range<Int>
  /// The path part of the target: for an absolute-form target, what follows the authority
  /// (empty when the target is `http://host` with no path; the origin-form of that is `/`).
  /// For `*` it is the `*`.
  public var path: Range<Int>
  /// Without the '?'; an empty range at the end of the path when absent.
  public var query: Range<Int>
  /// The authority the request is for: from an absolute-form target when there is one
  /// (RFC 9112 §3.2.2 says it wins over Host), else the Host field value. Empty when neither.
  public var host: Range<Int>
  /// 0 or 1 (HTTP/1.0 or HTTP/1.1).
  public var versionMinor: Int
  public var headers: [HeaderField]
  /// Bytes from the start of the buffer through the final CRLF CRLF (the body starts here).
  public var headLength: Int
  public var framing: BodyFraming
  /// From the version and the Connection header (close / keep-alive tokens, comma lists).
  public var keepAlive: Bool
  /// `Expect: 100-continue` on an HTTP/1.1 request (RFC 9110 §10.1.1 says to ignore it in 1.0).
  public var expectsContinue: Bool
  public var isHeadMethod: Bool

  public init() {
    method = 0..<0
    target = 0..<0
    path = 0..<0
    query = 0..<0
    host = 0..<0
    versionMinor = 1
    headers = []
    // Typical browser requests carry 10 to 20 fields; reserving up front means the first
    // requests on a connection do not pay for growth either.
    headers.reserveCapacity(24)
    headLength = 0
    framing = .none
    keepAlive = true
    expectsContinue = false
    isHeadMethod = false
  }

  /// Resets everything but the capacity of `headers`.
  mutating func reset() {
    method = 0..<0
    target = 0..<0
    path = 0..<0
    query = 0..<0
    host = 0..<0
    versionMinor = 1
    headers.removeAll(keepingCapacity: true)
    headLength = 0
    framing = .none
    keepAlive = true
    expectsContinue = false
    isHeadMethod = false
  }
}

public enum HeadParseResult: Equatable {
  case complete
  /// Not enough bytes yet; parse again from the start of the buffer once more have arrived.
  case incomplete
  case failed(HTTPError)
}
