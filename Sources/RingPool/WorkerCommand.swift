import Glibc

/// How to start one worker process: a shell command line, run with `exec` so that the spawned
/// process is the worker itself (its pid is the one the pidfd watches).
public struct WorkerCommand: Equatable {
  public var commandLine: String

  public init(commandLine: String) { self.commandLine = commandLine }

  /// The Lua worker on `app`, from next to this executable.
  public static func lua(app: String) -> WorkerCommand {
    WorkerCommand(
      commandLine: "exec \(shellQuoted(siblingExecutable("ringworker-lua"))) \(shellQuoted(app))")
  }

  public static func custom(_ command: String) -> WorkerCommand {
    WorkerCommand(commandLine: "exec \(command)")
  }

  /// A program built next to the running executable (SwiftPM puts all products in one folder).
  public static func siblingExecutable(_ name: String) -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return name }
    let path = String(cString: buffer)
    return String(path[..<path.lastIndex(of: "/")!]) + "/" + name
  }

  static func shellQuoted(_ text: String) -> String {
    "'" + text.replacingAll("'", with: "'\\''") + "'"
  }
}

extension String {
  func replacingAll(_ target: Character, with replacement: String) -> String {
    var result = ""
    for character in self {
      if character == target { result += replacement } else { result.append(character) }
    }
    return result
  }
}
