/// Iterates the comma-separated elements of a list-valued field (RFC 9110 §5.6.1), each
/// trimmed of OWS. Empty elements are yielded too: the caller decides whether to ignore them
/// (Connection, Transfer-Encoding, Expect) or to refuse them (Content-Length).
/// A plain iterator rather than a closure, so the hot path has nothing to capture.
struct ListElements {
  let bytes: Bytes
  var position: Int
  let end: Int
  var finished = false

  init(_ bytes: Bytes, _ range: Range<Int>) {
    self.bytes = bytes
    position = range.lowerBound
    end = range.upperBound
  }

  mutating func next() -> Range<Int>? {
    if finished { return nil }
    let start = position
    var i = start
    while i < end && bytes[i] != 0x2C { i &+= 1 }
    if i == end { finished = true } else { position = i &+ 1 }
    return trimmingOWS(bytes, start..<i)
  }
}
