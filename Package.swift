// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "RingBroker",
  products: [
    .executable(name: "ringbroker", targets: ["ringbroker"]),
    .executable(name: "ringbench", targets: ["ringbench"]),
    // libringworker.so: the C ABI (Sources/CRingABI/include/ringworker.h) for workers in any language.
    .library(name: "ringworker", type: .dynamic, targets: ["RingWorker"]),
    .library(name: "RingWorkerKit", targets: ["RingWorker"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // The channel ABI header, plus the few syscalls and atomics Swift cannot call directly.
    .target(name: "CRingABI"),
    // The broker's log lines (timestamp, level, pid; text or JSON) and reopenable log files.
    .target(name: "BrokerLog"),
    // What the tools share: the version, the one-line usage error (exit 64), text tables.
    .target(name: "ToolSupport", dependencies: ["CRingABI"]),
    // The same conventions for the tools parsed with ArgumentParser (ringbroker, ringstat).
    .target(
      name: "ToolArguments",
      dependencies: [
        "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .systemLibrary(name: "CURing", pkgConfig: "liburing"),
    .systemLibrary(name: "CNuma", pkgConfig: "numa"),
    .target(name: "RingChannel", dependencies: ["CRingABI", "CNuma"]),
    // What a reply's header lines may hold: one module for the worker library, the Lua worker
    // and the front, so that what a worker may write and what the front accepts cannot drift.
    .target(name: "ReplyHeaderRules"),
    .target(name: "RingWorker", dependencies: ["RingChannel", "CRingABI", "ReplyHeaderRules"]),
    .target(name: "HTTP1"),
    // The io_uring HTTP engine: connections, parsing, replies, and the typed operations
    // (futex wait/wake, process exit, cancel) it runs for its handler. Knows no workers.
    .target(
      name: "RingFront",
      dependencies: [
        "CURing", "CRingABI", "RingChannel", "HTTP1", "ReplyHeaderRules", "BrokerLog",
      ]),
    // The control socket: workers started by hand ask here to be attached.
    .target(
      name: "RingControl", dependencies: ["RingFront", "RingChannel", "CRingABI", "BrokerLog"]),
    // The worker pool, the engine's handler: balancing, queue, supervision, lifecycle,
    // timeouts, the front side of the channels. Policy only: no io_uring (no CURing).
    .target(
      name: "RingPool",
      dependencies: ["RingFront", "RingControl", "RingChannel", "HTTP1", "CRingABI", "BrokerLog"]),
    .executableTarget(
      name: "ringbroker",
      dependencies: [
        "RingFront", "RingPool", "RingControl", "BrokerLog", "RingAdmin", "ToolArguments",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(
      name: "ringbench", dependencies: ["RingChannel", "RingWorker", "ToolSupport"]),
    .executableTarget(
      name: "swift-hello-worker", dependencies: ["RingWorker"], path: "workers/swift-hello"),
    .executableTarget(
      name: "ringchannel-child", dependencies: ["RingChannel", "RingWorker"],
      path: "Tests/Helpers/ringchannel-child"),
    // What more than one test target needs: products and child processes with timeouts, a
    // broker process, a raw HTTP client, ringstat's view, waiting on observable state.
    .target(
      name: "TestSupport", dependencies: ["RingChannel", "CRingABI"], path: "Tests/TestSupport"),
    .testTarget(
      name: "RingChannelTests",
      dependencies: ["RingChannel", "RingWorker", "ringchannel-child", "TestSupport"]),
    .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
    .testTarget(name: "ReplyHeaderRulesTests", dependencies: ["ReplyHeaderRules"]),
    .testTarget(
      name: "FrontTests",
      dependencies: [
        "RingFront", "RingPool", "RingControl", "RingChannel", "RingWorker", "HTTP1", "TestSupport",
      ]),
    // The Lua script worker (workers/lua): LuaJIT embedded, apps written in Lua.
    .systemLibrary(name: "CLuaJIT", path: "workers/lua/Sources/CLuaJIT", pkgConfig: "luajit"),
    .target(name: "CLuaShim", dependencies: ["CLuaJIT"], path: "workers/lua/Sources/CLuaShim"),
    .executableTarget(
      name: "ringworker-lua",
      dependencies: ["RingWorker", "ReplyHeaderRules", "CLuaJIT", "CLuaShim", "ToolSupport"],
      path: "workers/lua/Sources/ringworker-lua"),
    .testTarget(
      name: "LuaWorkerTests",
      dependencies: [
        "ringworker-lua", "RingChannel", "RingWorker", "ringchannel-child", "TestSupport",
      ]),
    // What ringstat shows and /status serves, one definition for both: brokers found through
    // /proc, their info memfd and channels sampled, the JSON view, the health verdict.
    .target(name: "RingStatus", dependencies: ["RingChannel", "CRingABI"]),
    // The admin endpoint (--admin): /metrics, /status and /healthz, served by a front loop of
    // its own from the broker's shared-memory counters.
    .target(name: "RingAdmin", dependencies: ["RingFront", "RingStatus", "HTTP1"]),
    // ringstat (tools/ringstat): read-only view of live brokers and their rings.
    .executableTarget(
      name: "ringstat",
      dependencies: [
        "RingStatus", "RingChannel", "CRingABI", "ToolArguments",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "tools/ringstat", exclude: ["README.md"]),
    .testTarget(name: "RingstatTests", dependencies: ["ringstat", "TestSupport"]),
  ],
  // Plain threads and io_uring loops on the request path: Swift 5 language mode keeps the
  // pointer-heavy shared-memory code free of Sendable ceremony it cannot benefit from.
  swiftLanguageModes: [.v5]
)

// Release builds of the broker's request path (measured: broker + 2 Lua workers, wrk -c50,
// +11% req/s):
// - cross-module optimization lets the pool inline the engine's small accessors instead of
//   calling them with a retain and release around each call (the channel's hot accessors are
//   @inlinable for the same reason);
// - exclusivity is proven at compile time where it can be; the run-time checks left are on
//   class properties the front touches for every request (3.5% of its time in perf), and each
//   loop's state is touched by its own thread only, by design. Debug builds keep the checks.
// Not for the worker library's modules (RingWorkerKit): a package that depends on it by version
// may not contain unsafe flags.
let brokerRequestPath: Set = [
  "HTTP1", "BrokerLog", "RingFront", "RingControl", "RingPool", "ringbroker",
]
for target in package.targets where brokerRequestPath.contains(target.name) {
  target.swiftSettings =
    (target.swiftSettings ?? []) + [
      .unsafeFlags(
        ["-cross-module-optimization", "-enforce-exclusivity=unchecked"],
        .when(configuration: .release))
    ]
}
