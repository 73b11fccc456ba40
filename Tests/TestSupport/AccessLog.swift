import Foundation

/// A file for a test broker's `--access-log`, under the temporary folder with a name of its
/// own; removed (with any renamed copy) when the test drops it.
public final class AccessLogFile {
  public let path: String
  private static let serial = Counter()

  public init() {
    path = NSTemporaryDirectory() + "rbtest-access-\(getpid())-\(Self.serial.increment()).log"
    unlink(path)
  }

  deinit {
    unlink(path)
    unlink(rotatedPath)
  }

  /// Where `rotate()` moves the file (as logrotate does).
  public var rotatedPath: String { path + ".1" }

  /// Renames the file to `rotatedPath`; the broker writes on into it until it reopens.
  public func rotate() throws {
    guard rename(path, rotatedPath) == 0 else { throw TestError("rename \(path): errno \(errno)") }
  }

  /// The raw bytes of the file at `path` (empty when it does not exist).
  public static func bytes(at path: String) -> [UInt8] {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
  }

  /// The whole lines of the file at `path`, without their newlines (a partial last line is
  /// left out: nothing in the test may take it for a whole one).
  public static func lines(at path: String) -> [String] {
    var lines = bytes(at: path).split(separator: 0x0A, omittingEmptySubsequences: false)
    lines.removeLast()  // after the last newline: empty, or a partial line
    return lines.map { String(decoding: $0, as: UTF8.self) }
  }

  public var lines: [String] { Self.lines(at: path) }

  /// The lines once there are at least `count` of them, or nil after `timeout` seconds.
  public func waitForLines(_ count: Int, timeout: Double = 10) -> [String]? {
    var found: [String] = []
    guard
      waitUntil(
        timeout: timeout,
        {
          found = lines
          return found.count >= count
        })
    else {
      return nil
    }
    return found
  }
}

/// One line of the access log's combined format, parsed as tools for nginx's combined format
/// parse it (each quoted field has no `"` inside: nginx writes it as \x22), then the extra
/// fields after the user agent.
public struct CombinedLogLine {
  public var remoteAddress: String
  public var time: String
  public var request: String
  public var status: Int
  public var bodyBytes: Int
  public var referer: String
  public var userAgent: String
  /// rid=, worker= and upstream= ("-" when the line has none).
  public var requestID: String
  public var worker: String
  public var upstream: String

  private static let pattern = try! NSRegularExpression(
    pattern:
      #"^(\S+) - - \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" rid=(\S+) worker=(\S+) upstream=(\S+)$"#
  )

  /// Nil when the line is not in that format.
  public init?(_ line: String) {
    let range = NSRange(line.startIndex..., in: line)
    guard let match = Self.pattern.firstMatch(in: line, range: range) else { return nil }
    let field = { (i: Int) in String(line[Range(match.range(at: i), in: line)!]) }
    remoteAddress = field(1)
    time = field(2)
    request = field(3)
    status = Int(field(4))!
    bodyBytes = Int(field(5))!
    referer = field(6)
    userAgent = field(7)
    requestID = field(8)
    worker = field(9)
    upstream = field(10)
  }

  /// The bytes a quoted field stands for: nginx's \xHH escapes undone.
  public static func unescape(_ field: String) -> [UInt8] {
    let bytes = Array(field.utf8)
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
      if bytes[i] == 0x5C, i + 3 < bytes.count, bytes[i + 1] == 0x78,
        let value = UInt8(String(decoding: bytes[i + 2...i + 3], as: UTF8.self), radix: 16)
      {
        out.append(value)
        i += 4
      } else {
        out.append(bytes[i])
        i += 1
      }
    }
    return out
  }
}
