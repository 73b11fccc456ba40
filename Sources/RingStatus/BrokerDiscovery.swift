import Glibc
import RingChannel

/// A running broker as found in /proc: its pid, identity, and the descriptors of its channels.
public struct DiscoveredBroker {
  public var info: BrokerInfoSnapshot
  /// Descriptor numbers (in the broker) of every "ringbroker-w<ID>" memfd it holds open.
  public var channelDescriptors: [Int32]

  public var pid: Int32 { info.pid }
}

/// Finds brokers through /proc/PID/fd: a broker keeps its "ringbroker-info" memfd open for its
/// whole life, so no pid file or socket can go stale after a SIGKILL.
public enum BrokerDiscovery {
  public static let infoLink = "ringbroker-info"
  public static let channelPrefix = "ringbroker-w"

  /// Every broker of this user (root: of every user). Others' /proc/PID/fd is unreadable anyway.
  public static func all() -> [DiscoveredBroker] {
    ProcFS.processIDs().compactMap { pid in
      guard mayInspect(pid) else { return nil }
      return try? broker(pid: pid)
    }
  }

  /// Resolves "PID" or "NAME" to exactly one broker, or throws a one-line reason.
  public static func resolve(_ target: String) throws -> DiscoveredBroker {
    if let pid = Int32(target) {
      guard let owner = ProcFS.ownerUID(of: pid) else {
        throw RingstatError("no process with pid \(pid)")
      }
      guard mayInspect(pid) else {
        throw RingstatError(
          "process \(pid) belongs to uid \(owner); ringstat only inspects your own brokers (uid \(getuid())) unless run as root"
        )
      }
      guard let found = try broker(pid: pid) else {
        throw RingstatError("process \(pid) is not a ringbroker (no ringbroker-info memfd)")
      }
      return found
    }
    let matches = all().filter { $0.info.name == target }
    guard let first = matches.first else {
      throw RingstatError("no running broker named \"\(target)\"")
    }
    guard matches.count == 1 else {
      let pids = matches.map { String($0.pid) }.joined(separator: ", ")
      throw RingstatError(
        "\(matches.count) brokers are named \"\(target)\" (pids \(pids)); give a pid")
    }
    return first
  }

  /// Whether this user may inspect `pid`: its own processes, or any when root.
  public static func mayInspect(_ pid: Int32) -> Bool {
    guard let owner = ProcFS.ownerUID(of: pid) else { return false }
    return getuid() == 0 || owner == getuid()
  }

  /// The broker at `pid`, or nil when that process holds no ringbroker-info memfd.
  public static func broker(pid: Int32) throws -> DiscoveredBroker? {
    let descriptors = ProcFS.descriptors(of: pid)
    var infoFD: Int32?
    var channels: [Int32] = []
    for (fd, target) in descriptors {
      guard let name = ProcFS.memfdName(target) else { continue }
      if name == infoLink {
        infoFD = fd
      } else if name.hasPrefix(channelPrefix), Int(name.dropFirst(channelPrefix.count)) != nil {
        channels.append(fd)
      }
    }
    guard let infoFD else { return nil }
    return DiscoveredBroker(
      info: try BrokerInfoSnapshot.read(pid: pid, fd: infoFD), channelDescriptors: channels)
  }
}
