/// The offset just past the first empty line ("\n\r\n" or "\n\n") whose LF is at or after
/// `offset - 2`, or nil if there is none yet: the earliest point at which the head in
/// `bytes` can be complete (or be refused for its line ends).
///
/// `parseRequestHead` re-scans a head from its start on every call. A client sending its
/// head a byte per packet would make that quadratic: 32 KiB of head would cost about half a
/// billion byte steps. So the front should run this over the newly received bytes only
/// (passing the previous buffer length as `offset`) and call `parseRequestHead` once it
/// returns an offset, or once the buffer has grown past the request-line or head limit,
/// which turns the slow head into its 414 or 431 right away.
public func findHeadEnd(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Int? {
  let b = Bytes(bytes)
  let n = b.count
  // The terminator is at most three bytes long starting at its first LF, so a LF in the
  // last two bytes of the previous call may only now have what follows it.
  var i = max(0, offset &- 2)
  while i < n {
    if b[i] == lf {
      if i &+ 1 < n && b[i &+ 1] == lf { return i &+ 2 }
      if i &+ 2 < n && b[i &+ 1] == cr && b[i &+ 2] == lf { return i &+ 3 }
    }
    i &+= 1
  }
  return nil
}
