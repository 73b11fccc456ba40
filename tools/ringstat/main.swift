// ringstat: read-only view of live RingBroker brokers and their worker rings.
//
// ArgumentParser options always take a value; `--watch` alone is rewritten to `--watch 1`
// before parsing so that `ringstat PID --watch` works as documented.
RingstatCommand.main(WatchArgument.normalize(Array(CommandLine.arguments.dropFirst())))
