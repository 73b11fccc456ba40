import ArgumentParser
import Glibc

// Parse by hand rather than with `main()`: a bad flag must print one line, not a usage page.
do {
  let command = try RingBrokerCommand.parse(Array(CommandLine.arguments.dropFirst()))
  exit(runBroker(command.options))
} catch {
  if RingBrokerCommand.exitCode(for: error) == .success {
    RingBrokerCommand.exit(withError: error)  // --help: the full help text, exit 0
  }
  let message =
    RingBrokerCommand.message(for: error).split(separator: "\n").first.map(String.init)
    ?? "invalid arguments"
  fputs("ringbroker: \(message)\n", stderr)
  exit(64)  // EX_USAGE
}
