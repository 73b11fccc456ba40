/// Parses the request head at the start of `bytes` (which may hold more: body, pipelined
/// requests). Call it again from the start of the buffer when more bytes arrive after
/// `.incomplete`; a head is small and re-scanning it is cheaper than keeping resumable state.
///
/// Size limits are enforced on the bytes received so far, so an over-long request line is a
/// 414 (and an over-long head a 431) before its end ever arrives.
public func parseRequestHead(
  _ bytes: UnsafeRawBufferPointer, into head: inout RequestHead, limits: HTTPLimits
) -> HeadParseResult {
  head.reset()
  do throws(HTTPError) {
    return try parseHead(Bytes(bytes), into: &head, limits: limits) ? .complete : .incomplete
  } catch {
    return .failed(error)
  }
}

/// true: complete; false: incomplete.
private func parseHead(_ b: Bytes, into head: inout RequestHead, limits: HTTPLimits)
  throws(HTTPError) -> Bool
{
  let n = b.count
  if n == 0 { return false }

  // RFC 9112 §2.2: ignore an empty line before the request line (clients have sent a stray
  // CRLF after a POST body). One only: more is not a client bug but garbage.
  var start = 0
  if b[0] == cr {
    if n < 2 { return false }
    if b[1] != lf { throw .badRequest("bare CR") }
    start = 2
  } else if b[0] == lf {
    throw .badRequest("bare LF")
  }

  // Past these offsets no acceptable head can continue. Scanning stops there, and running
  // into one is the limit error rather than "incomplete".
  let lineCap = saturatingAdd(start, limits.maxRequestLineLength, 2)
  let headCap = saturatingAdd(start, limits.maxHeadLength, 0)

  guard
    let lineEnd = try parseRequestLine(
      b, from: start, end: min(n, lineCap, headCap), into: &head)
  else {
    if n >= lineCap { throw HTTPError(status: 414, reason: "request line too long") }
    if n >= headCap { throw HTTPError(status: 431, reason: "request head too large") }
    return false
  }

  var fields = FramingFields()
  guard
    let headEnd = try parseHeaderFields(
      b, from: lineEnd, end: min(n, headCap), into: &head, fields: &fields, limits: limits)
  else {
    if n >= headCap { throw HTTPError(status: 431, reason: "request head too large") }
    return false
  }

  head.headLength = headEnd
  try fields.finish(into: &head)
  return true
}

/// Limits may be set to Int.max to mean "none"; offsets built from them must not trap.
@inline(__always)
private func saturatingAdd(_ a: Int, _ b: Int, _ c: Int) -> Int {
  let (ab, o1) = a.addingReportingOverflow(max(b, 0))
  let (abc, o2) = ab.addingReportingOverflow(c)
  return o1 || o2 ? Int.max : abc
}
