/// Caches the IMF-fixdate line "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" (RFC 9110 §5.6.7)
/// that the front puts in every reply, rebuilt only when the second changes.
public struct HTTPDateLine {
  static let length = 37

  /// Heap storage, so the pointer handed out stays valid while the struct is moved around.
  private final class Storage {
    let bytes = UnsafeMutableRawPointer.allocate(byteCount: HTTPDateLine.length, alignment: 1)
    var second = Int.min

    init() {
      let template: StaticString = "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
      bytes.copyMemory(from: template.utf8Start, byteCount: HTTPDateLine.length)
    }

    deinit { bytes.deallocate() }
  }

  private var storage = Storage()

  public init() {}

  /// The line for this Unix time; valid until the next call. Times outside years
  /// 1970...9999 are clamped: the format has four digits for the year.
  public mutating func line(forUnixSeconds seconds: Int) -> UnsafeRawBufferPointer {
    // A copy of this struct shares storage; give this one its own so that rewriting it
    // cannot change bytes the copy handed out.
    if !isKnownUniquelyReferenced(&storage) {
      let fresh = Storage()
      fresh.bytes.copyMemory(from: storage.bytes, byteCount: Self.length)
      fresh.second = storage.second
      storage = fresh
    }
    let clamped = min(max(seconds, 0), 253_402_300_799)  // 9999-12-31T23:59:59Z
    if clamped != storage.second {
      storage.second = clamped
      Self.format(clamped, into: storage.bytes)
    }
    return UnsafeRawBufferPointer(start: storage.bytes, count: Self.length)
  }

  private static func format(_ seconds: Int, into p: UnsafeMutableRawPointer) {
    let days = seconds / 86400
    let secondOfDay = seconds % 86400
    let (year, month, day) = civilDate(fromDays: days)
    let weekday = (days + 4) % 7  // 1970-01-01 was a Thursday; 0 is Sunday

    let dayNames: StaticString = "SunMonTueWedThuFriSat"
    let monthNames: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
    p.advanced(by: 6).copyMemory(from: dayNames.utf8Start + weekday * 3, byteCount: 3)
    put2(day, p + 11)
    p.advanced(by: 14).copyMemory(from: monthNames.utf8Start + (month - 1) * 3, byteCount: 3)
    put2(year / 100, p + 18)
    put2(year % 100, p + 20)
    put2(secondOfDay / 3600, p + 23)
    put2(secondOfDay / 60 % 60, p + 26)
    put2(secondOfDay % 60, p + 29)
  }

  private static func put2(_ value: Int, _ p: UnsafeMutableRawPointer) {
    p.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 + value / 10), as: UInt8.self)
    p.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 + value % 10), toByteOffset: 1, as: UInt8.self)
  }

  /// Days since 1970-01-01 to (year, month 1-12, day 1-31), for days >= 0.
  /// Howard Hinnant's civil_from_days: exact for the proleptic Gregorian calendar, no tables.
  static func civilDate(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = z / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }
}
