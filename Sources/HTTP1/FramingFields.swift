/// What the head says about framing and connection handling, gathered field by field while
/// the head is scanned (no second pass over the headers), then checked as a whole at the end.
struct FramingFields {
  var hostCount = 0
  var host: Range<Int> = 0..<0
  /// -1 until a Content-Length field is seen.
  var contentLength = -1
  var transferEncodingSeen = false
  var codingCount = 0
  var chunkedCount = 0
  var lastCodingIsChunked = false
  /// A registered coding we do not decode (gzip, ...).
  var otherCoding = false
  /// A coding nobody registered.
  var unknownCoding = false
  var connectionClose = false
  var connectionKeepAlive = false
  var expectContinue = false
  var expectOther = false

  /// Looks at one field line. Only the handful of names that affect framing are examined;
  /// the switch on length keeps every other field to a single comparison.
  @inline(__always)
  mutating func observe(_ b: Bytes, name: Range<Int>, value: Range<Int>, limits: HTTPLimits)
    throws(HTTPError)
  {
    switch name.count {
    case 4 where b.equalsLowercase(name, "host"):
      try observeHost(b, value)
    case 6 where b.equalsLowercase(name, "expect"):
      observeExpect(b, value)
    case 10 where b.equalsLowercase(name, "connection"):
      observeConnection(b, value)
    case 14 where b.equalsLowercase(name, "content-length"):
      try observeContentLength(b, value, limits: limits)
    case 17 where b.equalsLowercase(name, "transfer-encoding"):
      try observeTransferEncoding(b, value)
    default:
      break
    }
  }

  /// RFC 9112 §3.2: more than one Host line, or an invalid Host value, is a 400.
  /// (An empty value is valid: it is what a client sends when the URI has no authority.)
  mutating func observeHost(_ b: Bytes, _ value: Range<Int>) throws(HTTPError) {
    hostCount += 1
    if hostCount > 1 { throw .badRequest("several Host fields") }
    for i in value where !isHostByte(b[i]) { throw .badRequest("invalid Host") }
    host = value
  }

  /// RFC 9110 §8.6 / RFC 9112 §6.3: digits only; duplicates (several lines, or a comma list
  /// that a proxy made of them) are accepted only when every value is the same. Any doubt is
  /// a 400, because disagreeing about the length is how request smuggling starts.
  mutating func observeContentLength(_ b: Bytes, _ value: Range<Int>, limits: HTTPLimits)
    throws(HTTPError)
  {
    var elements = ListElements(b, value)
    while let element = elements.next() {
      if element.isEmpty { throw .badRequest("empty Content-Length") }
      var length = 0
      for i in element {
        let digit = b[i] &- 0x30
        if digit > 9 { throw .badRequest("invalid Content-Length") }
        let (times10, o1) = length.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(Int(digit))
        if o1 || o2 { throw .badRequest("Content-Length overflow") }
        length = sum
      }
      if contentLength >= 0 && contentLength != length {
        throw .badRequest("conflicting Content-Length")
      }
      contentLength = length
    }
    // Refused as soon as it is seen: whatever follows, this request will not be read.
    if contentLength > limits.maxBodyLength {
      throw HTTPError(status: 413, reason: "Content-Length over limit")
    }
  }

  /// Codings are only counted here; which of them is final is judged in `finish`, once every
  /// Transfer-Encoding line (they form one list, in order) has been seen.
  mutating func observeTransferEncoding(_ b: Bytes, _ value: Range<Int>) throws(HTTPError) {
    transferEncodingSeen = true
    var elements = ListElements(b, value)
    while let element = elements.next() {
      if element.isEmpty { continue }  // RFC 9110 §5.6.1.2: empty list elements are ignored
      // transfer-coding = token *( OWS ";" OWS transfer-parameter ); only the name matters
      // here, since no coding with parameters is one we decode.
      var nameEnd = element.lowerBound
      while nameEnd < element.upperBound && isTokenByte(b[nameEnd]) { nameEnd += 1 }
      var next = nameEnd
      while next < element.upperBound && (b[next] == sp || b[next] == htab) { next += 1 }
      if nameEnd == element.lowerBound || (next < element.upperBound && b[next] != 0x3B) {
        throw .badRequest("invalid Transfer-Encoding")
      }
      codingCount += 1
      let isChunked = b.equalsLowercase(element.lowerBound..<nameEnd, "chunked")
      if isChunked && nameEnd != element.upperBound {
        throw .badRequest("chunked takes no parameters")
      }
      if isChunked {
        chunkedCount += 1
      } else if isRegisteredCoding(b, element.lowerBound..<nameEnd) {
        otherCoding = true
      } else {
        unknownCoding = true
      }
      lastCodingIsChunked = isChunked
    }
  }

  /// Only the close and keep-alive options matter to the front; other connection options
  /// name hop-by-hop fields, which the front never forwards anyway.
  mutating func observeConnection(_ b: Bytes, _ value: Range<Int>) {
    var elements = ListElements(b, value)
    while let element = elements.next() {
      if b.equalsLowercase(element, "close") {
        connectionClose = true
      } else if b.equalsLowercase(element, "keep-alive") {
        connectionKeepAlive = true
      }
    }
  }

  mutating func observeExpect(_ b: Bytes, _ value: Range<Int>) {
    var elements = ListElements(b, value)
    while let element = elements.next() {
      if element.isEmpty { continue }
      if b.equalsLowercase(element, "100-continue") {
        expectContinue = true
      } else {
        expectOther = true
      }
    }
  }

  /// Checks that need the whole head, and fills in the derived fields of `head`.
  func finish(into head: inout RequestHead) throws(HTTPError) {
    let http11 = head.versionMinor == 1
    if hostCount == 0 {
      if http11 { throw .badRequest("missing Host") }
    } else if head.host.isEmpty {
      head.host = host  // an absolute-form target already set it, and wins (RFC 9112 §3.2.2)
    }

    if transferEncodingSeen {
      // RFC 9112 §6.1: a 1.0 recipient cannot rely on chunked, and a coding the server does
      // not understand is a 501; §6.3: TE with CL is a smuggling attempt, and a final coding
      // other than chunked leaves the length undeterminable (400). Registered codings before
      // chunked (gzip, ...) would have to be decoded, which we do not implement: 501.
      if !http11 { throw .badRequest("Transfer-Encoding in HTTP/1.0") }
      if contentLength >= 0 { throw .badRequest("both Transfer-Encoding and Content-Length") }
      if codingCount == 0 { throw .badRequest("empty Transfer-Encoding") }
      if chunkedCount > 1 { throw .badRequest("chunked applied more than once") }
      if unknownCoding { throw HTTPError(status: 501, reason: "unknown transfer coding") }
      if !lastCodingIsChunked { throw .badRequest("chunked is not the final coding") }
      if otherCoding { throw HTTPError(status: 501, reason: "unsupported transfer coding") }
      head.framing = .chunked
    } else if contentLength >= 0 {
      head.framing = .contentLength(contentLength)
    } else {
      head.framing = .none
    }

    // RFC 9110 §10.1.1: unknown expectations may be refused with 417; a 100-continue in an
    // HTTP/1.0 request must be ignored.
    if expectOther { throw HTTPError(status: 417, reason: "unsupported expectation") }
    head.expectsContinue = expectContinue && http11

    // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
    head.keepAlive = !connectionClose && (http11 || connectionKeepAlive)
  }
}

/// The IANA HTTP Transfer Coding Registry, minus chunked (handled apart) and the
/// reserved "identity" and "trailers", which are not codings a message can carry.
private func isRegisteredCoding(_ b: Bytes, _ name: Range<Int>) -> Bool {
  b.equalsLowercase(name, "gzip") || b.equalsLowercase(name, "deflate")
    || b.equalsLowercase(name, "compress") || b.equalsLowercase(name, "x-gzip")
    || b.equalsLowercase(name, "x-compress")
}
