// libFuzzer entry point for the HTTP1 module. Deliberately not a SwiftPM target (libFuzzer
// supplies main): run.sh compiles it together with Sources/HTTP1/*.swift into one binary.
// Every input goes through all the parsers; `check` traps on a broken invariant, which
// libFuzzer reports as a crash and saves as a reproducer.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = UnsafeRawBufferPointer(start: data, count: size)
  checkRequestHead(input, limits: HTTPLimits())
  // Small limits, so that the 414 / 431 / 413 paths are reached by small inputs too.
  checkRequestHead(
    input,
    limits: HTTPLimits(
      maxRequestLineLength: 40, maxHeadLength: 120, maxHeaderCount: 3, maxBodyLength: 50))
  checkChunked(input, cut: size == 0 ? 0 : Int(data[0]) % (size + 1))
  checkReplyHeaderBlock(input)
  checkDateLine(input)
  return 0
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
  if !condition { fatalError("invariant broken: \(message())") }
}

private func parse(_ input: UnsafeRawBufferPointer, _ limits: HTTPLimits) -> (
  HeadParseResult, RequestHead
) {
  var head = RequestHead()
  let result = parseRequestHead(input, into: &head, limits: limits)
  return (result, head)
}

private func checkRequestHead(_ input: UnsafeRawBufferPointer, limits: HTTPLimits) {
  let (result, head) = parse(input, limits)
  switch result {
  case .complete:
    let end = head.headLength
    check(end > 0 && end <= input.count, "headLength \(end) outside input \(input.count)")
    check(end <= limits.maxHeadLength + 2, "head over maxHeadLength")
    var ranges = [head.method, head.target, head.path, head.query, head.host]
    for field in head.headers { ranges += [field.name, field.value] }
    for r in ranges {
      check(r.lowerBound >= 0 && r.upperBound <= end, "range \(r) outside head \(end)")
    }
    check(!head.method.isEmpty && !head.target.isEmpty, "empty method or target")
    check(head.method.upperBound <= head.target.lowerBound, "method after target")
    check(
      head.target.upperBound - head.method.lowerBound <= limits.maxRequestLineLength,
      "request line over limit")
    for part in [head.path, head.query] {
      check(
        part.lowerBound >= head.target.lowerBound && part.upperBound <= head.target.upperBound,
        "path/query outside target")
    }
    check(head.headers.count <= limits.maxHeaderCount, "too many headers accepted")
    check(head.versionMinor == 0 || head.versionMinor == 1, "version")
    switch head.framing {
    case .contentLength(let n): check(n >= 0 && n <= limits.maxBodyLength, "Content-Length \(n)")
    case .chunked: check(head.versionMinor == 1, "chunked in 1.0")
    case .none: break
    }
    for field in head.headers {
      check(!field.name.isEmpty, "empty name")
      for i in field.name { check(isTokenByte(input[i]), "non-token in name") }
      for i in field.value {
        let c = input[i]
        check((c >= 0x20 && c != 0x7F) || c == 0x09, "control byte in value")
      }
      if let first = field.value.first, let last = field.value.last {
        for c in [input[first], input[last]] { check(c != 0x20 && c != 0x09, "value not trimmed") }
      }
    }
    check(findHeadEnd(input, from: 0) == end, "findHeadEnd disagrees with headLength")
    // The head alone parses the same; any shorter prefix is incomplete.
    let exact = UnsafeRawBufferPointer(rebasing: input[0..<end])
    let (again, head2) = parse(exact, limits)
    check(
      again == .complete && head2.headers == head.headers && head2.framing == head.framing
        && head2.target == head.target && head2.keepAlive == head.keepAlive,
      "re-parse of the head differs")
    for cut in [end - 1, end / 2, end * 3 / 4] where cut >= 0 {
      let (partial, _) = parse(UnsafeRawBufferPointer(rebasing: input[0..<cut]), limits)
      check(partial == .incomplete, "prefix \(cut) of a complete head gave \(partial)")
    }
    if head.framing == .chunked {
      checkChunked(UnsafeRawBufferPointer(rebasing: input[end...]), cut: (input.count - end) / 2)
    }
  case .incomplete:
    check(input.count < limits.maxHeadLength + 2, "incomplete beyond the head limit")
    let (partial, _) = parse(UnsafeRawBufferPointer(rebasing: input[0..<(input.count / 2)]), limits)
    check(partial == .incomplete, "prefix of an incomplete head gave \(partial)")
  case .failed(let error):
    check([400, 413, 414, 417, 431, 501, 505].contains(error.status), "status \(error.status)")
    check(!error.reason.isEmpty, "empty reason")
    // More bytes never rescue a refused request, nor change why it was refused.
    let extended = Array(input) + Array("\r\n\r\n".utf8)
    let (again, _) = extended.withUnsafeBytes { parse($0, limits) }
    check(again == result, "extension changed \(result) into \(again)")
  }
}

private struct ChunkedOutcome: Equatable {
  var consumed = 0
  var body: [UInt8] = []
  var complete = false
  var error: HTTPError?
}

/// Decodes `input` in the pieces given by `cuts` (feeding each piece from where the decoder
/// stopped), checking the per-call invariants.
private func decodeChunked(_ input: UnsafeRawBufferPointer, cuts: [Int]) -> ChunkedOutcome {
  var decoder = ChunkedDecoder(maxBodyLength: 1000, maxLineLength: 64, maxTrailerLength: 128)
  var outcome = ChunkedOutcome()
  for bound in cuts + [input.count] where bound >= outcome.consumed && !decoder.isComplete {
    let piece = UnsafeRawBufferPointer(rebasing: input[outcome.consumed..<bound])
    do {
      let used = try decoder.decode(piece) { outcome.body += $0 }
      check(used <= piece.count, "consumed \(used) of \(piece.count)")
      check(decoder.isComplete || used == piece.count, "stopped early without completing")
      outcome.consumed += used
    } catch {
      check([400, 413, 431].contains(error.status), "chunked status \(error.status)")
      outcome.error = error
      outcome.consumed = -1  // a throwing call reports no count; only the error compares
      break
    }
  }
  check(decoder.decodedLength == outcome.body.count, "decodedLength")
  check(outcome.body.count <= 1000, "body over limit")
  outcome.complete = decoder.isComplete
  return outcome
}

private func checkChunked(_ input: UnsafeRawBufferPointer, cut: Int) {
  let whole = decodeChunked(input, cuts: [])
  let split = decodeChunked(input, cuts: [cut])
  check(whole == split, "split at \(cut) changed the outcome")
  if input.count <= 256 {
    let bytewise = decodeChunked(input, cuts: Array(0..<input.count))
    check(whole == bytewise, "byte-by-byte feeding changed the outcome")
  }
}

private func checkReplyHeaderBlock(_ input: UnsafeRawBufferPointer) {
  guard ReplyHeaderRules.isValidBlock(input) else { return }
  let bytes = Array(input)
  check(bytes.isEmpty || bytes.suffix(2) == [0x0D, 0x0A], "block not ended by CRLF")
  let reserved: Set<String> = [
    "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "date",
  ]
  var lineStart = 0
  for (i, c) in bytes.enumerated() {
    check((c >= 0x20 && c != 0x7F) || c == 0x09 || c == 0x0D || c == 0x0A, "control byte accepted")
    if c == 0x0D { check(i + 1 < bytes.count && bytes[i + 1] == 0x0A, "bare CR accepted") }
    if c == 0x0A {
      check(i > 0 && bytes[i - 1] == 0x0D, "bare LF accepted")
      let line = bytes[lineStart..<(i - 1)]
      guard let colon = line.firstIndex(of: 0x3A) else { return check(false, "line without colon") }
      check(colon > lineStart, "empty name accepted")
      let name = String(decoding: bytes[lineStart..<colon], as: UTF8.self).lowercased()
      check(!reserved.contains(name), "reserved name \(name) accepted")
      lineStart = i + 1
    }
  }
}

private func checkDateLine(_ input: UnsafeRawBufferPointer) {
  guard input.count >= 8 else { return }
  var seconds = 0
  for k in 0..<8 { seconds = seconds << 8 | Int(input[k]) }
  var date = HTTPDateLine()
  let line = Array(date.line(forUnixSeconds: seconds))
  check(line.count == 37, "date line length")
  check(Array(line.prefix(6)) == Array("Date: ".utf8), "date line prefix")
  check(Array(line.suffix(6)) == Array(" GMT\r\n".utf8), "date line suffix")
}
