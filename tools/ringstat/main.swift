// ringstat: read-only view of live RingBroker brokers and their worker rings.
//
// ArgumentParser options always take a value; `--watch` alone is rewritten to `--watch 1`
// before parsing so that `ringstat PID --watch` works as documented. A bad command line is one
// line and exit 64 (ToolCommand); a failure while looking is one line and exit 1.
var command = RingstatCommand.parseOrExit(
  WatchArgument.normalize(Array(CommandLine.arguments.dropFirst())))
do {
  try command.run()
} catch {
  RingstatCommand.exit(withError: error)
}
