import Glibc

/// RFC 3339 timestamps in UTC with milliseconds, "2026-12-02T05:01:02.123Z": the form both
/// log formats and the JSON access log use.
public enum LogTime {
  public static func now() -> String {
    var wall = timespec()
    clock_gettime(CLOCK_REALTIME, &wall)
    return rfc3339(seconds: wall.tv_sec, milliseconds: Int(wall.tv_nsec / 1_000_000))
  }

  public static func rfc3339(seconds: Int, milliseconds: Int) -> String {
    var time = seconds
    var parts = tm()
    gmtime_r(&time, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let millis =
      milliseconds < 10
      ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
      + "T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis)Z"
  }
}
