import CLuaJIT

/// Bytes for decoded text before lua_pushlstring copies it into Lua: grown to the longest text
/// seen, never freed, so decoding allocates nothing per request. (Behind a pointer, as
/// `currentRequest` is, to skip exclusivity checks.)
private let scratch: UnsafeMutablePointer<UnsafeMutableBufferPointer<UInt8>> = {
  let pointer = UnsafeMutablePointer<UnsafeMutableBufferPointer<UInt8>>.allocate(capacity: 1)
  pointer.initialize(to: .allocate(capacity: 1024))
  return pointer
}()

func scratchBytes(_ count: Int) -> UnsafeMutablePointer<UInt8> {
  if count > scratch.pointee.count {
    let capacity = max(count, scratch.pointee.count * 2)
    scratch.pointee.deallocate()
    scratch.pointee = .allocate(capacity: capacity)
  }
  return scratch.pointee.baseAddress!
}

/// Pushes `text` with %XX escapes decoded (and '+' as a space in query strings). A '%' not
/// followed by two hex digits stays as it is: lenient, as browsers are.
func pushPercentDecoded(_ state: OpaquePointer?, _ text: UnsafeRawBufferPointer, plusIsSpace: Bool)
{
  guard
    text.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) })
  else { return pushBytes(state, text) }
  let out = scratchBytes(text.count)
  var read = 0
  var written = 0
  while read < text.count {
    let byte = text[read]
    if byte == UInt8(ascii: "%"), read + 2 < text.count, let high = hexValue(text[read + 1]),
      let low = hexValue(text[read + 2])
    {
      out[written] = high << 4 | low
      read += 3
    } else {
      out[written] = plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte
      read += 1
    }
    written += 1
  }
  out.withMemoryRebound(to: CChar.self, capacity: written) { lua_pushlstring(state, $0, written) }
}

@inline(__always)
private func hexValue(_ byte: UInt8) -> UInt8? {
  switch byte {
  case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
  case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
  case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
  default: return nil
  }
}
