import XCTest

@testable import HTTP1

/// A parse of a test string, with the ranges turned back into strings for assertions.
struct Parsed {
  let bytes: [UInt8]
  let result: HeadParseResult
  let head: RequestHead

  init(_ text: String, limits: HTTPLimits = HTTPLimits()) {
    self.init(bytes: Array(text.utf8), limits: limits)
  }

  init(bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) {
    self.bytes = bytes
    var head = RequestHead()
    result = bytes.withUnsafeBytes { parseRequestHead($0, into: &head, limits: limits) }
    self.head = head
  }

  func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

  var method: String { text(head.method) }
  var target: String { text(head.target) }
  var path: String { text(head.path) }
  var query: String { text(head.query) }
  var host: String { text(head.host) }
  var headers: [(String, String)] { head.headers.map { (text($0.name), text($0.value)) } }

  var status: Int? {
    if case .failed(let error) = result { return error.status }
    return nil
  }
}

/// Asserts that `text` is refused with `status`.
func assertFails(
  _ text: String, _ status: Int, limits: HTTPLimits = HTTPLimits(),
  file: StaticString = #filePath, line: UInt = #line
) {
  let parsed = Parsed(text, limits: limits)
  XCTAssertEqual(
    parsed.status, status, "\(text.debugDescription) gave \(parsed.result)", file: file, line: line)
}

/// Asserts that `text` parses completely and returns the parse.
@discardableResult
func assertComplete(
  _ text: String, limits: HTTPLimits = HTTPLimits(), file: StaticString = #filePath,
  line: UInt = #line
) -> Parsed {
  let parsed = Parsed(text, limits: limits)
  XCTAssertEqual(parsed.result, .complete, "\(text.debugDescription)", file: file, line: line)
  return parsed
}

/// Decodes `input` in pieces cut at `cuts`, returning the body, total consumed, and error.
func decodeChunked(
  _ input: [UInt8], cuts: [Int] = [], maxBodyLength: Int = 1 << 20, maxTrailerLength: Int = 32768
) -> (body: [UInt8], consumed: Int, complete: Bool, error: HTTPError?) {
  var decoder = ChunkedDecoder(maxBodyLength: maxBodyLength, maxTrailerLength: maxTrailerLength)
  var body: [UInt8] = []
  var consumed = 0
  var bounds = [0] + cuts.filter { $0 > 0 && $0 < input.count } + [input.count]
  bounds.sort()
  for k in 0..<(bounds.count - 1) where !decoder.isComplete {
    let piece = Array(input[max(bounds[k], consumed)..<bounds[k + 1]])
    do {
      let used = try piece.withUnsafeBytes { raw in
        try decoder.decode(raw) { body.append(contentsOf: $0) }
      }
      XCTAssertLessThanOrEqual(used, piece.count)
      consumed += used
    } catch {
      return (body, consumed, false, error as? HTTPError)
    }
  }
  XCTAssertEqual(decoder.decodedLength, body.count)
  return (body, consumed, decoder.isComplete, nil)
}
