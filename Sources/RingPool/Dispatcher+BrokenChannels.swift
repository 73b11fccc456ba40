import BrokerLog
import Glibc

extension Dispatcher {
  /// The one reaction to a broken channel, wherever the front found the break (a reply it
  /// collected, a push into the request ring, idle or not): the worker is killed, once. Its
  /// exit is then seen through the pidfd like any other: requests it took get 502, the ones
  /// it never took move, and a successor starts. Runs every poll: a break found while handling
  /// a request is acted on before the loop waits.
  func replaceWorkersWithBrokenChannels() {
    for worker in workers where !worker.brokenChannelHandled {
      guard let channel = worker.channel, let reason = channel.brokenReason else { continue }
      worker.brokenChannelHandled = true
      Log.error(
        "worker \(worker.id) (pid \(worker.process?.pid ?? 0)) broke its channel: \(reason); replacing it"
      )
      worker.process?.signal(SIGKILL)
    }
  }
}
