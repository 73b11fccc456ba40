// ringworker-lua: the Lua script worker. Runs a Lua app (LuaJIT) on the channel the broker gives
// it through RINGWORKER_FD.
//
//   ringworker-lua APP.lua            serve the app (spawned by ringbroker)
//   ringworker-lua --check APP.lua    load the app, check that it returns a handler, exit
//   ringworker-lua --version | --help
//
// An app that cannot load prints one line, `file:line: message`, and exits with 78 (EX_CONFIG):
// the broker treats that exit at start-up as fatal instead of respawning the worker in a loop.
// A bad command line is one line, `ringworker-lua: MESSAGE`, and exit 64 (UsageError).
import Glibc
import RingWorker
import ToolSupport

enum ExitCode {
  static let appDoesNotLoad: Int32 = 78  // EX_CONFIG
  static let noChannel: Int32 = 1
}

let usage = """
  usage: ringworker-lua APP.lua           serve APP.lua on the channel in RINGWORKER_FD
         ringworker-lua --check APP.lua   load APP.lua and check that it returns a handler
         ringworker-lua --version         print the version

  """

// print() in scripts must reach the log promptly even when stdout is a pipe.
setvbuf(stdout, nil, _IOLBF, 0)

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments == ["--help"] || arguments == ["-h"] {
  fputs(usage, stdout)
  exit(0)
}
if arguments == ["--version"] {
  print(ToolVersion.line("ringworker-lua"))
  exit(0)
}
let checkOnly = arguments.first == "--check"
if checkOnly { arguments.removeFirst() }
if let option = arguments.first(where: { $0.hasPrefix("-") && $0 != "-" }) {
  let known = ["--check", "--help", "-h", "--version"].contains(option)
  UsageError.exit(
    "ringworker-lua",
    known
      ? "'\(option)' must be the first argument (try --help)"
      : UsageError.unknownOption(option))
}
guard arguments.count == 1, let appPath = arguments.first else {
  UsageError.exit(
    "ringworker-lua", "expected one APP.lua, got \(arguments.count) (try --help)")
}

let runtime = LuaRuntime()
if let message = runtime.loadApp(path: appPath) {
  fputs(message + "\n", stderr)
  exit(ExitCode.appDoesNotLoad)
}
if checkOnly { exit(0) }

let worker: Worker
do {
  worker = try Worker.fromEnvironment()
} catch {
  log(error.description)
  exit(ExitCode.noChannel)
}
exit(Server(runtime: runtime, worker: worker).run())
