// ringbench: the cost of the front↔worker hop, between two real processes, next to the same
// exchange over a Unix socketpair and a pipe.
//
//   swift run -c release ringbench [--json] [--round-trips N] [--messages N]
import Glibc
import ToolSupport

var options = BenchOptions()
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--json": options.json = true
  case "--round-trips": options.roundTrips = Int(arguments.popFirst() ?? "") ?? -1
  case "--messages": options.messages = Int(arguments.popFirst() ?? "") ?? -1
  case "--only": options.only = arguments.popFirst()
  case "--child": exit(runBenchChild(Array(arguments)))
  case "--version":
    print(ToolVersion.line("ringbench"))
    exit(0)
  case "-h", "--help":
    print(
      """
      usage: ringbench [--json] [--round-trips N] [--messages N] [--only NAME] [--version]
        Measures round-trip latency (p50, p99) and one-way throughput between two processes over
        a RingBroker channel (worker spinning, and worker sleeping on a futex), a Unix
        socketpair and a pipe.
        --json           machine-readable output
        --round-trips N  round trips per transport (default \(BenchOptions().roundTrips))
        --messages N     messages for the throughput runs (default \(BenchOptions().messages))
        --only NAME      one run: spin, sleep, socketpair or pipe
      """)
    exit(0)
  default:
    UsageError.exit(
      "ringbench",
      argument.hasPrefix("-")
        ? UsageError.unknownOption(argument)
        : "unexpected argument '\(argument)' (try --help)")
  }
}
for (option, value) in [("--round-trips", options.roundTrips), ("--messages", options.messages)]
where value <= 0 {
  UsageError.exit("ringbench", "\(option) takes a positive whole number")
}

do {
  let runs: [(String, () throws -> BenchResult)] = [
    ("spin", { try ChannelBench(spinning: true).run(options) }),
    ("sleep", { try ChannelBench(spinning: false).run(options) }),
    ("socketpair", { try StreamBench(kind: .socketpair).run(options) }),
    ("pipe", { try StreamBench(kind: .pipe).run(options) }),
  ]
  guard options.only == nil || runs.contains(where: { $0.0 == options.only }) else {
    UsageError.exit("ringbench", "--only takes spin, sleep, socketpair or pipe")
  }
  let results = try runs.filter { options.only == nil || $0.0 == options.only }.map { try $0.1() }
  print(options.json ? BenchReport.json(results) : BenchReport.table(results))
} catch {
  fputs("ringbench: \(error)\n", stderr)
  exit(1)
}
