// Character classes of RFC 9110 / RFC 3986, one byte of flags per byte value, looked up with
// a single load. The table is a StaticString so it lives in the binary's constant data: no
// lazy initialisation, no bounds check, nothing the optimiser has to hoist. Each entry is
// 0x40 | flags, which keeps every entry a printable ASCII character ('@' to 'O'). The table
// was generated from the RFC character lists, and ByteClassTests checks it against them.

let cr: UInt8 = 0x0D
let lf: UInt8 = 0x0A
let sp: UInt8 = 0x20
let htab: UInt8 = 0x09

/// tchar (RFC 9110 §5.6.2): "!#$%&'*+-.^_`|~", DIGIT, ALPHA.
private let tokenFlag: UInt8 = 1
/// Host value / authority (RFC 3986 host [":" port]): unreserved, pct-encoded, sub-delims,
/// ':' and the brackets of an IP-literal. No '@': userinfo is refused.
private let hostFlag: UInt8 = 2
/// After the first letter of a URI scheme (RFC 3986 §3.1): ALPHA, DIGIT, '+', '-', '.'.
private let schemeFlag: UInt8 = 4
/// Request-target bytes that need no further look: visible ASCII except '#' and '?'.
private let targetFlag: UInt8 = 8

let classTable: StaticString = """
  @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@KHAKKKKJJKOJOOHOOOOOOOOOOJJHJH@\
  HOOOOOOOOOOOOOOOOOOOOOOOOOOJHJIKIOOOOOOOOOOOOOOOOOOOOOOOOOOHIHK@\
  @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\
  @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
  """

@inline(__always)
private func hasFlag(_ b: UInt8, _ flag: UInt8) -> Bool {
  classTable.utf8Start[Int(b)] & flag != 0
}

@inline(__always)
func isTokenByte(_ b: UInt8) -> Bool { hasFlag(b, tokenFlag) }

@inline(__always)
func isHostByte(_ b: UInt8) -> Bool { hasFlag(b, hostFlag) }

@inline(__always)
func isSchemeByte(_ b: UInt8) -> Bool { hasFlag(b, schemeFlag) }

@inline(__always)
func isPlainTargetByte(_ b: UInt8) -> Bool { hasFlag(b, targetFlag) }

@inline(__always)
func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

/// Value of a hex digit, or nil.
@inline(__always)
func hexValue(_ b: UInt8) -> Int? {
  if b &- 0x30 < 10 { return Int(b &- 0x30) }
  let l = b | 0x20
  if l &- 0x61 < 6 { return Int(l &- 0x61 + 10) }
  return nil
}

/// Index of the first byte in `start..<end` that cannot appear unexamined inside a field
/// value: a control character (this includes HTAB, CR and LF) or DEL; `end` when there is
/// none. Field values make up most of a head, so this runs eight bytes per step.
@inline(__always)
func firstControlByte(_ b: Bytes, from start: Int, to end: Int) -> Int {
  var i = start
  while i &+ 8 <= end {
    let w = b.word(at: i)
    // Classic SWAR tests (exact as "is there any such byte"): a byte below 0x20, and a byte
    // equal to 0x7F (a zero byte after XOR). No borrow crosses bytes unless one matched.
    let below = (w &- 0x2020_2020_2020_2020) & ~w & 0x8080_8080_8080_8080
    let x = w ^ 0x7F7F_7F7F_7F7F_7F7F
    let del = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    if below | del != 0 { break }
    i &+= 8
  }
  while i < end {
    let c = b[i]
    if c < 0x20 || c == 0x7F { return i }
    i &+= 1
  }
  return end
}

/// Index of the first ':' or byte below 0x21 (SP, HTAB, CR, LF, other controls) in
/// `start..<end`; `end` when there is none. Finds the end of a field name eight bytes per
/// step; the name's bytes are then checked against tchar in one branch-free pass.
@inline(__always)
func firstColonOrSpace(_ b: Bytes, from start: Int, to end: Int) -> Int {
  var i = start
  while i &+ 8 <= end {
    let w = b.word(at: i)
    let below = (w &- 0x2121_2121_2121_2121) & ~w & 0x8080_8080_8080_8080
    let x = w ^ 0x3A3A_3A3A_3A3A_3A3A
    let colon = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    if below | colon != 0 { break }
    i &+= 8
  }
  while i < end {
    let c = b[i]
    if c < 0x21 || c == 0x3A { return i }
    i &+= 1
  }
  return end
}

/// Whether every byte of `range` is a tchar. Accumulates instead of exiting early: names
/// are short and valid names are the common case, so one predictable loop is cheapest.
@inline(__always)
func allTokenBytes(_ b: Bytes, _ range: Range<Int>) -> Bool {
  var flags = tokenFlag
  var i = range.lowerBound
  while i < range.upperBound {
    flags &= classTable.utf8Start[Int(b[i])]
    i &+= 1
  }
  return flags != 0
}

/// Index of the end of a field value that starts at `start`: the first control byte other
/// than HTAB (the CR of the line end, if the value is well formed), or `end` if none yet.
@inline(__always)
func fieldValueEnd(_ b: Bytes, from start: Int, to end: Int) -> Int {
  var i = start
  while true {
    i = firstControlByte(b, from: i, to: end)
    if i == end || b[i] != htab { return i }
    i &+= 1
  }
}

/// Shrinks `range` past leading and trailing SP / HTAB (OWS).
@inline(__always)
func trimmingOWS(_ b: Bytes, _ range: Range<Int>) -> Range<Int> {
  var lo = range.lowerBound
  var hi = range.upperBound
  while lo < hi && (b[lo] == sp || b[lo] == htab) { lo &+= 1 }
  while hi > lo && (b[hi &- 1] == sp || b[hi &- 1] == htab) { hi &-= 1 }
  return lo..<hi
}
