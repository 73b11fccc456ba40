import Glibc

/// The few /proc lookups ringstat needs: which processes exist, who owns them, what their
/// descriptors point at. All read-only.
public enum ProcFS {
  /// Numeric entries of /proc, i.e. every process id visible to us.
  public static func processIDs() -> [Int32] {
    guard let dir = opendir("/proc") else { return [] }
    defer { closedir(dir) }
    var pids: [Int32] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if let pid = Int32(name), pid > 0 { pids.append(pid) }
    }
    return pids.sorted()
  }

  /// Owner uid of /proc/PID, or nil when the process does not exist.
  public static func ownerUID(of pid: Int32) -> uid_t? {
    var info = stat()
    guard stat("/proc/\(pid)", &info) == 0 else { return nil }
    return info.st_uid
  }

  /// Descriptor numbers and link targets of a process; empty when we may not look (EACCES)
  /// or it is gone.
  public static func descriptors(of pid: Int32) -> [(fd: Int32, target: String)] {
    guard let dir = opendir("/proc/\(pid)/fd") else { return [] }
    defer { closedir(dir) }
    var result: [(Int32, String)] = []
    var buffer = [CChar](repeating: 0, count: 512)
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      guard let fd = Int32(name) else { continue }
      let count = readlink("/proc/\(pid)/fd/\(fd)", &buffer, buffer.count - 1)
      guard count > 0 else { continue }
      let target = buffer.prefix(count).withUnsafeBufferPointer {
        String(decoding: UnsafeRawBufferPointer($0), as: UTF8.self)
      }
      result.append((fd, target))
    }
    return result.sorted { $0.0 < $1.0 }
  }

  /// The memfd name behind a link target such as "/memfd:ringbroker-w0 (deleted)".
  public static func memfdName(_ target: String) -> String? {
    let prefix = "/memfd:"
    guard target.hasPrefix(prefix) else { return nil }
    var name = target.dropFirst(prefix.count)
    if name.hasSuffix(" (deleted)") { name = name.dropLast(" (deleted)".count) }
    return String(name)
  }

  /// Opens another process's descriptor read-only through /proc (a new open file description:
  /// nothing about the broker's own descriptor changes).
  public static func openDescriptor(pid: Int32, fd: Int32) -> Int32 {
    open("/proc/\(pid)/fd/\(fd)", O_RDONLY | O_CLOEXEC)
  }

  /// The one-letter scheduler state from /proc/PID/stat (R, S, T, Z, ...), nil when gone.
  public static func processState(_ pid: Int32) -> Character? {
    let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 1024)
    let count = read(fd, &buffer, buffer.count)
    guard count > 0 else { return nil }
    // "pid (comm) S ...": comm may hold spaces and parentheses, so look after the last ')'.
    let text = String(decoding: buffer.prefix(count), as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(after: close)...].first { $0 != " " }
  }
}
