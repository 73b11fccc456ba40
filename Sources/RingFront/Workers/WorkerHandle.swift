import RingChannel

/// One worker position of a front thread: the current process and channel, the requests the
/// channel holds, and the restart history. Lives on the front thread only.
final class WorkerHandle {
  /// What the front remembers of a request it put in a slot: enough to answer the client,
  /// re-dispatch the request elsewhere, or name it in a log line.
  struct SlotTicket {
    var ticket: ReplyTicket
    var length: Int
    var replyOffset: Int
    var dispatchedAt: UInt64
  }

  /// A channel whose worker is gone but whose slots are still being sent from.
  struct RetiredChannel {
    var channel: FrontChannel
    var generation: UInt32
    var outstandingSends: Int
  }

  let id: Int
  let placement: WorkerPlacement
  var channel: FrontChannel?
  var process: ChildProcess?
  var generation: UInt32 = 0
  var restarts: UInt64 = 0
  var startedAt: UInt64 = 0
  var consecutiveFastExits = 0
  var respawnAt: UInt64?
  var slots: [SlotTicket?] = []
  var outstandingSends = 0
  var retired: [RetiredChannel] = []
  var futexArmed = false
  var sleepFlagSet = false

  init(id: Int, placement: WorkerPlacement) {
    self.id = id
    self.placement = placement
  }

  var isServing: Bool { channel.map { !$0.isBroken } ?? false }
  var inFlight: Int { channel?.inFlight ?? 0 }
}
