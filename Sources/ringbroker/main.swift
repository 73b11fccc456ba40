import Glibc

// A bad flag prints one line and exits 64 (ToolCommand), never a usage page.
let command = RingBrokerCommand.parseOrExit(Array(CommandLine.arguments.dropFirst()))
exit(command.test ? testConfiguration(command.options) : runBroker(command.options))
