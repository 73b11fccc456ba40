import Glibc

/// A bad command line, told the same way by every tool: one line `TOOL: MESSAGE` on stderr
/// (the message names the option or argument at fault), then exit 64 (EX_USAGE). `--help`
/// prints the usage; a mistake never does.
public enum UsageError {
  public static let exitCode: Int32 = 64  // EX_USAGE

  public static func exit(_ tool: String, _ message: String) -> Never {
    fputs("\(tool): \(message)\n", stderr)
    Glibc.exit(exitCode)
  }

  /// The message for an argument that starts with "-" and is no option of the tool.
  public static func unknownOption(_ argument: String) -> String {
    "unknown option '\(argument)'"
  }
}
