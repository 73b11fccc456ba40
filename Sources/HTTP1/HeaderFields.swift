/// field-line = field-name ":" OWS field-value OWS CRLF, repeated, then CRLF (RFC 9112 §5).
///
/// Scans `b[start..<end]` (start is just past the request line), appending each field to
/// `head.headers` and feeding it to `fields`. Returns the index just past the final CRLF, or
/// nil when `end` is reached first. Strict where leniency would let two parsers disagree
/// about where a field or the head ends: no whitespace before the colon, no obs-fold, no
/// bare CR or LF, no control characters.
func parseHeaderFields(
  _ b: Bytes, from start: Int, end: Int, into head: inout RequestHead,
  fields: inout FramingFields, limits: HTTPLimits
) throws(HTTPError) -> Int? {
  var i = start
  while true {
    if i == end { return nil }
    let first = b[i]
    if first == cr {
      if i &+ 1 == end { return nil }
      if b[i &+ 1] != lf { throw .badRequest("bare CR") }
      return i &+ 2
    }
    if first == lf { throw .badRequest("bare LF") }
    // A line starting with whitespace is obs-fold (RFC 9112 §5.2), or, right after the
    // request line, whitespace that §2.2 says to reject; both are 400.
    if first == sp || first == htab { throw .badRequest("obsolete line folding") }
    // Refused when the next field starts, before reading it.
    if head.headers.count >= limits.maxHeaderCount {
      throw HTTPError(status: 431, reason: "too many header fields")
    }

    let nameStart = i
    i = firstColonOrSpace(b, from: i, to: end)
    if !allTokenBytes(b, nameStart..<i) { throw .badRequest("invalid character in header name") }
    if i == end { return nil }
    let c = b[i]
    if c != 0x3A {
      if c == sp || c == htab { throw .badRequest("whitespace before colon") }
      if c == cr || c == lf { throw .badRequest("header line without colon") }
      throw .badRequest("invalid character in header name")
    }
    if i == nameStart { throw .badRequest("empty header name") }
    let name = nameStart..<i
    i &+= 1

    while i < end && (b[i] == sp || b[i] == htab) { i &+= 1 }
    let valueStart = i
    i = fieldValueEnd(b, from: i, to: end)
    if i == end { return nil }
    let stop = b[i]
    if stop != cr {
      throw .badRequest(stop == lf ? "bare LF" : "control character in header value")
    }
    if i &+ 1 == end { return nil }
    if b[i &+ 1] != lf { throw .badRequest("bare CR") }
    var valueEnd = i
    while valueEnd > valueStart && (b[valueEnd &- 1] == sp || b[valueEnd &- 1] == htab) {
      valueEnd &-= 1
    }
    i &+= 2

    let value = valueStart..<valueEnd
    head.headers.append(HeaderField(name: name, value: value))
    try fields.observe(b, name: name, value: value, limits: limits)
  }
}
