// The rules ReplyWriter.addHeader enforces, checked before a reply starts: once started in shared
// memory a reply cannot be turned into a 500, so anything the library would refuse must be
// caught first. Keep in step with Sources/RingWorker/ReplyWriter.swift. These run for every
// header of every reply, hence bit masks and byte compares rather than string searches.

/// Header names are tokens (RFC 9110 §5.1).
@inline(__always)
func isHeaderName(_ name: UnsafeRawBufferPointer) -> Bool {
  !name.isEmpty && name.allSatisfy(isTokenByte)
}

/// Values may hold tabs and visible characters, not CR, LF or other controls.
@inline(__always)
func isHeaderValue(_ value: UnsafeRawBufferPointer) -> Bool {
  value.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
}

/// Framing headers belong to the front, which writes them for every reply.
let framingHeaderNames = [
  "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Date",
]

@inline(__always)
func isFramingHeader(_ name: UnsafeRawBufferPointer) -> Bool {
  // Lengths first: most names (Content-Type, Cache-Control...) are ruled out by length alone.
  switch name.count {
  case 4: return matches(name, "date")
  case 7: return matches(name, "upgrade")
  case 10: return matches(name, "connection") || matches(name, "keep-alive")
  case 14: return matches(name, "content-length")
  case 17: return matches(name, "transfer-encoding")
  default: return false
  }
}

/// ASCII case-insensitive comparison with a lower-case name of the same length.
@inline(__always)
private func matches(_ name: UnsafeRawBufferPointer, _ lowerCase: StaticString) -> Bool {
  let expected = UnsafeRawBufferPointer(
    start: lowerCase.utf8Start, count: lowerCase.utf8CodeUnitCount)
  for index in 0..<expected.count where name[index] | 0x20 != expected[index] {
    return false
  }
  return true
}

/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
/// "~" / DIGIT / ALPHA, as bits of two 64-bit masks (bytes 0...63 and 64...127).
@inline(__always)
private func isTokenByte(_ byte: UInt8) -> Bool {
  let low: UInt64 = 0x03ff_6cfa_0000_0000
  let high: UInt64 = 0x57ff_ffff_c7ff_fffe
  if byte < 64 { return low >> UInt64(byte) & 1 != 0 }
  if byte < 128 { return high >> UInt64(byte - 64) & 1 != 0 }
  return false
}
