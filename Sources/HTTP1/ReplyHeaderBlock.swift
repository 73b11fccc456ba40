/// Validates a reply header block that an UNTRUSTED worker process wrote, before the front
/// copies it into the response after its own status line: zero or more lines
/// "Name: value\r\n"; the name a token; the value without control characters except HTAB;
/// every line ended by CRLF and no CR or LF anywhere else. Anything looser would let a worker
/// end the head early or smuggle a second response onto a keep-alive connection.
///
/// The front owns framing and connection management, so a worker may not set
/// Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, nor Date (the front
/// writes its cached one).
public enum ReplyHeaderBlock {
  public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let b = Bytes(bytes)
    let n = b.count
    var i = 0
    while i < n {
      let nameStart = i
      while i < n && isTokenByte(b[i]) { i &+= 1 }
      if i == nameStart || i == n || b[i] != 0x3A { return false }
      if isReservedName(b, nameStart..<i) { return false }
      i = fieldValueEnd(b, from: i &+ 1, to: n)
      if i &+ 1 >= n || b[i] != cr || b[i &+ 1] != lf { return false }
      i &+= 2
    }
    return true
  }

  private static func isReservedName(_ b: Bytes, _ name: Range<Int>) -> Bool {
    switch name.count {
    case 4: return b.equalsLowercase(name, "date")
    case 7: return b.equalsLowercase(name, "upgrade")
    case 10: return b.equalsLowercase(name, "connection") || b.equalsLowercase(name, "keep-alive")
    case 14: return b.equalsLowercase(name, "content-length")
    case 17: return b.equalsLowercase(name, "transfer-encoding")
    default: return false
    }
  }
}
