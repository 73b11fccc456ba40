import Glibc

/// The time texts of access log lines, made once a second: nginx's $time_local
/// ("02/Dec/2026:05:01:02 +0000", local time with its UTC offset) for combined lines, and the
/// RFC 3339 date and time to the second in UTC ("2026-12-02T05:01:02"), which JSON lines
/// complete with milliseconds and "Z". One per front loop.
final class AccessLogTime {
  static let localLength = 26
  static let utcLength = 19

  let local = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
  let utc = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
  @exclusivity(unchecked) private var second = Int.min

  deinit {
    local.deallocate()
    utc.deallocate()
  }

  /// Makes the texts say `unixSeconds` (a no-op within the same second).
  func update(unixSeconds: Int) {
    guard unixSeconds != second else { return }
    second = unixSeconds
    var time = time_t(unixSeconds)
    var parts = tm()
    localtime_r(&time, &parts)
    let months: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
    var p = local
    p += Self.put(Int(parts.tm_mday), digits: 2, to: p)
    p += Self.put("/", to: p)
    p.copyMemory(from: months.utf8Start + Int(parts.tm_mon) * 3, byteCount: 3)
    p += 3
    p += Self.put("/", to: p)
    p += Self.put(Int(parts.tm_year) + 1900, digits: 4, to: p)
    p += Self.put(":", to: p)
    p += Self.putClock(parts, to: p)
    let offset = parts.tm_gmtoff
    p += Self.put(offset < 0 ? " -" : " +", to: p)
    p += Self.put(abs(offset) / 3600, digits: 2, to: p)
    p += Self.put(abs(offset) / 60 % 60, digits: 2, to: p)

    gmtime_r(&time, &parts)
    p = utc
    p += Self.put(Int(parts.tm_year) + 1900, digits: 4, to: p)
    p += Self.put("-", to: p)
    p += Self.put(Int(parts.tm_mon) + 1, digits: 2, to: p)
    p += Self.put("-", to: p)
    p += Self.put(Int(parts.tm_mday), digits: 2, to: p)
    p += Self.put("T", to: p)
    p += Self.putClock(parts, to: p)
  }

  /// "hh:mm:ss".
  private static func putClock(_ parts: tm, to destination: UnsafeMutableRawPointer) -> Int {
    var p = destination
    p += put(Int(parts.tm_hour), digits: 2, to: p)
    p += put(":", to: p)
    p += put(Int(parts.tm_min), digits: 2, to: p)
    p += put(":", to: p)
    p += put(Int(parts.tm_sec), digits: 2, to: p)
    return p - destination
  }

  /// `value` in exactly `digits` decimal digits (leading zeros; higher digits dropped).
  static func put(_ value: Int, digits: Int, to destination: UnsafeMutableRawPointer) -> Int {
    var v = max(value, 0)
    for i in stride(from: digits - 1, through: 0, by: -1) {
      destination.storeBytes(of: UInt8(0x30 + v % 10), toByteOffset: i, as: UInt8.self)
      v /= 10
    }
    return digits
  }

  private static func put(_ text: StaticString, to destination: UnsafeMutableRawPointer) -> Int {
    ReplyHeadWriter.copy(text, to: destination)
  }
}
