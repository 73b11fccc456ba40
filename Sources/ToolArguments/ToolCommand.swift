import ArgumentParser
import ToolSupport

/// A tool's command line on ArgumentParser, with the tools' shared conventions: `--help` and
/// `--version` print and exit 0; anything wrong is one line `TOOL: MESSAGE` naming the option,
/// and exit 64 (`UsageError`), never a usage page.
///
/// Values are checked in `checkValues()`, after parsing, instead of `validate()`: ArgumentParser
/// runs `validate()` before it reports an unknown option, so `--bogus` would be answered with
/// whatever else the command line lacks instead of being named.
public protocol ToolCommand: ParsableCommand {
  func checkValues() throws
}

extension ToolCommand {
  /// The command line, parsed and checked; exits (0 or 64) where it cannot go on.
  public static func parseOrExit(_ arguments: [String]) -> Self {
    do {
      let command = try parse(arguments)
      try command.checkValues()
      return command
    } catch {
      if exitCode(for: error) == .success { exit(withError: error) }  // --help, --version
      UsageError.exit(configuration.commandName ?? "error", oneLine(message(for: error)))
    }
  }

  /// ArgumentParser's message as one line in the tools' style: its first line, starting in
  /// lower case ("unknown option '--bogus'", "missing value for '--workers <n>'").
  static func oneLine(_ message: String) -> String {
    let first = message.split(separator: "\n").first.map(String.init) ?? "invalid arguments"
    guard let initial = first.first, initial.isUppercase,
      first.dropFirst().first?.isUppercase != true
    else { return first }
    return initial.lowercased() + first.dropFirst()
  }
}
