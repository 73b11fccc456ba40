import CRingABI
import Foundation
import Glibc
import RingChannel
import TestSupport
import XCTest

/// The cost of the Lua worker per request, over one channel with the test process as the front:
/// the Lua hello app against a trivial Swift worker on the same loop. Prints the figures and sets
/// no threshold: the machine is shared, so the ratio is what to read.
///
/// Environment: LUA_BENCH_SECONDS (per run) and LUA_BENCH_DEPTHS (requests in flight, default
/// 1 and every slot of the standard layout) lengthen or narrow a run, e.g. for profiling. A
/// depth beyond the standard layout's slots runs on a channel with that many slots of its size.
final class ThroughputTests: XCTestCase {
  private struct Contender {
    var name: String
    var executable: String
    var arguments: [String]
  }

  private let environment = ProcessInfo.processInfo.environment

  private var contenders: [Contender] {
    let hello = Products.path("swift-hello-worker")
    // workers/swift-hello when it is built, else the channel tests' echo worker (8-byte reply).
    let swift =
      access(hello, X_OK) == 0
      ? Contender(name: "swift-hello-worker", executable: hello, arguments: [])
      : Contender(
        name: "ringchannel-child echo", executable: Products.path("ringchannel-child"),
        arguments: ["echo"])
    return [
      Contender(
        name: "hello.lua", executable: luaWorkerExecutable,
        arguments: [examplesDirectory + "/hello.lua"]),
      swift,
    ]
  }

  func testHelloRequestsPerSecondAgainstASwiftWorker() throws {
    let seconds = Double(environment["LUA_BENCH_SECONDS"] ?? "") ?? 0.5
    let depths = (environment["LUA_BENCH_DEPTHS"] ?? "1,\(Self.standardDepth)").split(
      separator: ","
    ).compactMap { Int($0) }
    var report: [String] = []
    for depth in depths {
      var best = [Double](repeating: 0, count: contenders.count)
      // Alternating, best of three each: other builds share this machine.
      for _ in 0..<3 {
        for (index, contender) in contenders.enumerated() {
          let worker = try WorkerFixture(
            executable: contender.executable, arguments: contender.arguments,
            spinNanoseconds: 20_000, parameters: Self.parameters(depth: depth))
          let run = try serve(worker, depth: depth, seconds: seconds)
          XCTAssertEqual(try worker.stop(), 0)
          best[index] = max(best[index], run.requestsPerSecond)
        }
      }
      report.append(
        "depth \(depth): "
          + zip(contenders, best).map { "\($0.name) \(Int($1)) req/s" }.joined(separator: ", ")
          + ", ratio " + String(format: "%.2f", best[0] / best[1]))
      XCTAssertGreaterThan(best[0], 1000)
    }
    print("Lua worker throughput:\n  " + report.joined(separator: "\n  "))
  }

  /// CPU time the worker process spends per request, after warm-up, with every slot of the
  /// standard layout in flight and no spinning (an idle worker sleeps). User time is the worker's own work (Lua,
  /// reply, rings); system time is mostly futex sleeps and wakes, which vary from run to run with
  /// the scheduling on a shared machine, so the user-time difference is the figure to read.
  func testWorkerCPUTimePerRequest() throws {
    let seconds = Double(environment["LUA_BENCH_SECONDS"] ?? "") ?? 1
    var report: [String] = []
    var userPerRequest: [Double] = []
    for contender in contenders {
      let worker = try WorkerFixture(
        executable: contender.executable, arguments: contender.arguments, spinNanoseconds: 0)
      let run = try serve(worker, depth: Self.standardDepth, seconds: seconds)
      XCTAssertEqual(try worker.stop(), 0)
      let user = run.workerCPU.user / Double(run.measured)
      let system = run.workerCPU.system / Double(run.measured)
      userPerRequest.append(user)
      report.append(
        "\(contender.name): \(Int(user)) ns user + \(Int(system)) ns system CPU per request "
          + "(\(run.measured) requests, \(Int(run.requestsPerSecond)) req/s)")
    }
    report.append(
      "user-time difference: \(Int(userPerRequest[0] - userPerRequest[1])) ns per request")
    print("Lua worker CPU cost:\n  " + report.joined(separator: "\n  "))
  }

  /// Requests in flight when every slot of the standard layout holds one: a request needs a
  /// free slot, so no more can be in flight on one channel.
  private static let standardDepth = ChannelParameters.standard.totalSlots

  /// The standard layout, or for a deeper run the same slot size with `depth` slots.
  private static func parameters(depth: Int) -> ChannelParameters {
    guard depth > standardDepth else { return .standard }
    let slotSize = ChannelParameters.standard.slotClasses.map(\.slotSize).min()!
    return ChannelParameters(slotClasses: [SlotClassSpec(slotSize: slotSize, slotCount: depth)])
  }

  /// Keeps `depth` requests in flight for `seconds` after a warm-up; every reply is checked for
  /// its status. Returns the rate, the requests and the worker's CPU time, all after warm-up.
  private func serve(_ worker: WorkerFixture, depth: Int, seconds: Double) throws -> (
    requestsPerSecond: Double, measured: Int, workerCPU: (user: Double, system: Double)
  ) {
    let front = worker.front
    let request = PreparedRequest("GET", "/", headers: [("Host", "bench")])
    var nextID: UInt64 = 1
    var completed = 0
    var started: UInt64 = 0
    var cpuAtStart = (user: 0.0, system: 0.0)
    let warmUp = 2_000
    while true {
      while front.inFlight < depth {
        _ = try XCTUnwrap(
          worker.dispatch(request, id: nextID), "no free slot with \(front.inFlight) in flight")
        nextID += 1
      }
      worker.wake()
      switch awaitReply(front) {
      case .reply(let reply):
        XCTAssertEqual(reply.status, 200)
        front.releaseSlot(reply.slot)
        completed += 1
        while case .reply(let more) = front.nextReply(now: 0) {
          front.releaseSlot(more.slot)
          completed += 1
        }
        front.releaseResponses()
      case .broken(let reason): throw TestError(reason)
      case .bodyTaken: throw TestError("a body acknowledgement without a streamed body")
      case .none: throw TestError("no reply; worker log:\n\(worker.log)")
      }
      if started == 0 && completed >= warmUp {
        started = rb_monotonic_ns()
        cpuAtStart = cpuNanoseconds(of: worker.child.pid)
        completed = 0
      } else if started != 0 && rb_monotonic_ns() >= started + UInt64(seconds * 1e9) {
        break
      }
    }
    let elapsed = Double(rb_monotonic_ns() - started) / 1e9
    let cpuAtEnd = cpuNanoseconds(of: worker.child.pid)
    let cpu = (user: cpuAtEnd.user - cpuAtStart.user, system: cpuAtEnd.system - cpuAtStart.system)
    // Drain what is still in flight, so the worker is idle when stopped.
    while front.inFlight > 0, case .reply(let reply) = awaitReply(front) {
      front.releaseSlot(reply.slot)
      front.releaseResponses()
    }
    return (Double(completed) / elapsed, completed, cpu)
  }
}

/// User and system CPU time of a process so far, from /proc/PID/stat (in clock ticks).
private func cpuNanoseconds(of pid: pid_t) -> (user: Double, system: Double) {
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let afterName = stat.lastIndex(of: ")")
  else { return (0, 0) }
  // Fields after "(comm)": state is field 3, utime 14 and stime 15.
  let fields = stat[stat.index(after: afterName)...].split(separator: " ")
  let tick = 1e9 / Double(sysconf(Int32(_SC_CLK_TCK)))
  return ((Double(fields[11]) ?? 0) * tick, (Double(fields[12]) ?? 0) * tick)
}
