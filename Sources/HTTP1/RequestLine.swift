/// request-line = method SP request-target SP HTTP-version CRLF   (RFC 9112 §3)
///
/// Scans `b[start..<end]`, filling method, target, path, query, host (absolute-form only),
/// versionMinor and isHeadMethod. Returns the index just past the CRLF, or nil when `end` is
/// reached first; the caller knows whether `end` is the end of the data or a size limit.
/// Errors are reported at the first byte that makes the line invalid, so garbage is refused
/// without waiting for the rest of it.
func parseRequestLine(_ b: Bytes, from start: Int, end: Int, into head: inout RequestHead)
  throws(HTTPError) -> Int?
{
  var i = start

  // method = token. Case-sensitive; unknown methods are the application's business.
  while i < end && isTokenByte(b[i]) { i &+= 1 }
  if i == end { return nil }
  if b[i] != sp { throw .badRequest(i == start ? "missing method" : "invalid method") }
  if i == start { throw .badRequest("missing method") }
  head.method = start..<i
  head.isHeadMethod = b.equals(head.method, "HEAD")
  i &+= 1

  // request-target: visible ASCII only. Beyond that the target is passed on as sent:
  // browsers send '[', ']', '|', '^' and friends raw in queries (WHATWG URL), so refusing
  // them would break real applications without protecting anything. '#' is refused
  // because a fragment is never part of a request target (RFC 9112 §3.2).
  let targetStart = i
  var question = -1
  while i < end {
    if isPlainTargetByte(b[i]) {
      i &+= 1
    } else if b[i] == 0x3F {
      if question < 0 { question = i }
      i &+= 1
    } else {
      break
    }
  }
  if i == end { return nil }
  let c = b[i]
  if c != sp {
    if c == cr || c == lf { throw .badRequest("missing HTTP version") }
    if c == 0x23 { throw .badRequest("fragment in request target") }
    throw .badRequest("invalid character in request target")
  }
  if i == targetStart { throw .badRequest("empty request target") }
  let targetEnd = i
  head.target = targetStart..<targetEnd
  i &+= 1

  // HTTP-version = "HTTP/" DIGIT "." DIGIT, then CRLF. Checked byte by byte as it arrives.
  let versionStart = i
  let expected: StaticString = "HTTP/0.0\r\n"
  let pattern = expected.utf8Start
  while i < end && i &- versionStart < 10 {
    let c = b[i]
    let k = i &- versionStart
    let ok = (k == 5 || k == 7) ? isDigit(c) : c == pattern[k]
    if !ok {
      if k == 9 { throw .badRequest("bare CR") }
      if k == 8 && c == lf { throw .badRequest("bare LF") }
      throw .badRequest("invalid HTTP version")
    }
    i &+= 1
  }
  if i &- versionStart < 10 { return nil }
  let major = b[versionStart &+ 5]
  let minor = b[versionStart &+ 7]
  if major != 0x31 || minor > 0x31 {
    throw HTTPError(status: 505, reason: "HTTP version not supported")
  }
  head.versionMinor = Int(minor &- 0x30)

  try classifyTarget(b, targetStart..<targetEnd, question: question, into: &head)
  return i
}

/// Splits the target into path and query according to its form (RFC 9112 §3.2):
/// origin-form "/path?query", absolute-form "scheme://authority/path?query", or asterisk-form
/// "*" for OPTIONS. Authority-form is only for CONNECT, which a gateway to workers does not
/// support, so it is refused like any other malformed target.
private func classifyTarget(
  _ b: Bytes, _ target: Range<Int>, question: Int, into head: inout RequestHead
) throws(HTTPError) {
  let pathEnd = question >= 0 ? question : target.upperBound
  let queryRange = question >= 0 ? (question &+ 1)..<target.upperBound : pathEnd..<pathEnd
  let first = b[target.lowerBound]

  if first == 0x2F {  // '/'
    head.path = target.lowerBound..<pathEnd
    head.query = queryRange
    return
  }

  if first == 0x2A && target.count == 1 {  // '*'
    if !b.equals(head.method, "OPTIONS") { throw .badRequest("'*' target without OPTIONS") }
    head.path = target
    head.query = target.upperBound..<target.upperBound
    return
  }

  // absolute-form: scheme "://" authority [path-abempty] ["?" query]
  var i = target.lowerBound
  guard isAlpha(first) else { throw .badRequest("invalid request target") }
  while i < pathEnd && isSchemeByte(b[i]) { i &+= 1 }
  guard i &+ 2 < pathEnd, b[i] == 0x3A, b[i &+ 1] == 0x2F, b[i &+ 2] == 0x2F else {
    throw .badRequest("invalid request target")
  }
  let authorityStart = i &+ 3
  i = authorityStart
  while i < pathEnd && b[i] != 0x2F {
    if !isHostByte(b[i]) { throw .badRequest("invalid authority in request target") }
    i &+= 1
  }
  // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid.
  if i == authorityStart { throw .badRequest("empty authority in request target") }
  head.host = authorityStart..<i
  head.path = i..<pathEnd
  head.query = question >= 0 ? queryRange : pathEnd..<pathEnd
}
