import BrokerLog
import Glibc
import RingControl
import RingFront

/// One thing `ringbroker -t` checks before a start: what it is (the option, as written on the
/// command line) and what is wrong with it, found the way the start itself would find it. A new
/// check is one more entry in `all(for:)`.
struct ConfigurationCheck {
  let subject: String
  let problem: () -> String?

  init(_ subject: String, _ problem: @escaping () -> String?) {
    self.subject = subject
    self.problem = problem
  }

  /// A check that throws its problem (a FrontError, a LogFileError): the error's text.
  init(_ subject: String, throwing check: @escaping () throws -> Void) {
    self.init(subject) {
      do {
        try check()
        return nil
      } catch {
        return "\(error)"
      }
    }
  }

  static func all(for options: BrokerOptions) -> [ConfigurationCheck] {
    var checks = [ConfigurationCheck("--listen", throwing: { try options.listen.checkAvailable() })]
    if !options.inline {
      if let app = options.app {
        checks.append(ConfigurationCheck("app") { WorkerMode.appProblem(app) })
      }
      if let command = options.workerCommand {
        checks.append(ConfigurationCheck("--worker") { executableProblem(command) })
      }
      checks.append(
        ConfigurationCheck(
          "--control",
          throwing: {
            try ControlServer.checkPath(
              options.controlPath ?? ControlServer.defaultPath(name: options.name))
          }))
    }
    if let admin = options.admin {
      checks.append(ConfigurationCheck("--admin", throwing: { try admin.checkAvailable() }))
    }
    if let logFile = options.logFile {
      checks.append(
        ConfigurationCheck(
          "--log-file", throwing: { try ReopenableFile.checkAppendable(path: logFile) }))
    }
    if let accessLog = options.accessLog, accessLog != "-" {
      checks.append(
        ConfigurationCheck(
          "--access-log", throwing: { try ReopenableFile.checkAppendable(path: accessLog) }))
    }
    return checks
  }

  /// The program a worker command line starts, as /bin/sh would find it: the first word after
  /// any VAR=value assignments, looked up in PATH unless it holds a slash. Nil when it is an
  /// executable file (or a word only the shell can expand, such as `$HOME/worker`).
  static func executableProblem(_ commandLine: String) -> String? {
    let words = commandLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
    guard let first = words.first(where: { !isAssignment($0) }) else {
      return "no program in '\(commandLine)'"
    }
    let program = first.filter { $0 != "'" && $0 != "\"" }
    if program.contains(where: { "$`\\*?[~".contains($0) }) { return nil }
    if program.contains("/") { return executableFileProblem(program) }
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
      let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
      if executableFileProblem(candidate) == nil { return nil }
    }
    return "'\(program)' is no executable file in any PATH directory"
  }

  /// NAME=value, which the shell sets for the program instead of running it.
  private static func isAssignment(_ word: Substring) -> Bool {
    guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
    let name = word[..<equals]
    return !name.first!.isNumber
      && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
  }

  private static func executableFileProblem(_ path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else { return "\(path): \(String(cString: strerror(errno)))" }
    guard info.st_mode & S_IFMT == S_IFREG else { return "\(path) is not a file" }
    guard access(path, X_OK) == 0 else { return "\(path) is not executable" }
    return nil
  }
}

/// `ringbroker -t`: every check runs; each problem is one line on stderr and the exit status is
/// 1, else "configuration ok" and 0.
func testConfiguration(_ options: BrokerOptions) -> Int32 {
  let problems = ConfigurationCheck.all(for: options).compactMap { check in
    check.problem().map { "\(check.subject): \($0)" }
  }
  for problem in problems { fputs("ringbroker: \(problem)\n", stderr) }
  guard problems.isEmpty else { return 1 }
  print("ringbroker: configuration ok")
  return 0
}
