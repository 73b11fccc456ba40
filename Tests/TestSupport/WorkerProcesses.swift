import Foundation

/// What /proc says about a broker's worker processes (its children), for tests that must see
/// workers come and go.
public enum WorkerProcesses {
  /// Pids of the broker's children, from every thread's children list.
  public static func children(of broker: Int32) -> Set<Int32> {
    var pids = Set<Int32>()
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(broker)/task")) ?? []
    for task in tasks {
      let text =
        (try? String(contentsOfFile: "/proc/\(broker)/task/\(task)/children", encoding: .utf8))
        ?? ""
      pids.formUnion(text.split(separator: " ").compactMap { Int32($0) })
    }
    return pids
  }

  /// True for a process that exited and was not reaped yet.
  public static func isZombie(_ pid: Int32) -> Bool {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z")
      ?? false
  }

  /// The broker's children that are still running (zombies left out).
  public static func running(of broker: Int32) -> Set<Int32> {
    children(of: broker).filter { !isZombie($0) }
  }
}
