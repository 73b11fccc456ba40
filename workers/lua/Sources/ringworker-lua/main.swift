// ringworker-lua: the Lua script worker. Runs a Lua app (LuaJIT) on the channel the broker gives
// it through RINGWORKER_FD.
//
//   ringworker-lua APP.lua            serve the app (spawned by ringbroker)
//   ringworker-lua --check APP.lua    load the app, check that it returns a handler, exit
//
// An app that cannot load prints one line, `file:line: message`, and exits with 78 (EX_CONFIG):
// the broker treats that exit at start-up as fatal instead of respawning the worker in a loop.
import Glibc
import RingWorker

enum ExitCode {
  static let usage: Int32 = 64  // EX_USAGE
  static let appDoesNotLoad: Int32 = 78  // EX_CONFIG
  static let noChannel: Int32 = 1
}

let usage = """
  usage: ringworker-lua APP.lua           serve APP.lua on the channel in RINGWORKER_FD
         ringworker-lua --check APP.lua   load APP.lua and check that it returns a handler

  """

// print() in scripts must reach the log promptly even when stdout is a pipe.
setvbuf(stdout, nil, _IOLBF, 0)

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments == ["--help"] || arguments == ["-h"] {
  fputs(usage, stdout)
  exit(0)
}
let checkOnly = arguments.first == "--check"
if checkOnly { arguments.removeFirst() }
guard arguments.count == 1, let appPath = arguments.first, !appPath.hasPrefix("-") else {
  fputs(usage, stderr)
  exit(ExitCode.usage)
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
