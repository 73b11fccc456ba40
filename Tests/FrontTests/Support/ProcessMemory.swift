import Foundation

/// Resident memory of a process now, in KiB (VmRSS in /proc/PID/status); 0 when unreadable.
func residentMemoryKiB(_ pid: Int32) -> Int {
  let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
  let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
  return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

/// Peak resident memory of a process so far, in KiB (VmHWM in /proc/PID/status); 0 when
/// unreadable.
func peakResidentMemoryKiB(_ pid: Int32) -> Int {
  let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
  let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
  return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}
