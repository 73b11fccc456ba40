import RingChannel
import RingFront

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
    /// Parts of its reply went out (a streamed reply): `dispatchedAt` is then when the last
    /// part came or the last credit went, which the request timeout counts from.
    var streaming = false
    /// The request timeout closed its client mid-stream; a second one means a stuck worker.
    var timedOut = false

    /// The body streams through the slot (RB_REQ_BODY_STREAM): no copy of it exists, so the
    /// request never moves to another worker. `dispatchedAt` then moves with body progress.
    var streamsBody = false
    /// The client's body broke off while both window halves were with the worker: the
    /// RB_REQ_BODY_ABORTED part goes out with the next acknowledgement.
    var bodyAbortPending = false
    /// The id in the request's head, which the worker sees (rw_request_id); a request moved to
    /// another worker keeps it. For the access log.
    var requestID: UInt64 = 0
    /// When the request was put into this worker's slot: its upstream time counts from here.
    var placedAt: UInt64 = 0
  }

  /// A channel whose worker is gone but whose slots are still being sent from.
  struct RetiredChannel {
    var channel: FrontChannel
    var generation: UInt64
    var outstandingSends: Int
  }

  /// What this position is doing. A replacement (max requests, reload) starts a successor in a
  /// spare position; it serves once its worker attached, and only then does the old one retire.
  enum Role {
    case active
    /// A successor whose worker has not attached yet: gets no requests.
    case starting
    /// Replaced: gets no new requests, is asked to exit once its own are answered.
    case retiring
    /// A spare position, free for the next successor.
    case gone
  }

  /// Position in its dispatcher's list: what tokens carry.
  let index: Int
  /// The worker number shown in logs and ringstat; a successor keeps its predecessor's.
  var id: Int
  var placement: WorkerPlacement
  var role = Role.active
  /// The position this one replaces, while starting.
  var replaces: Int?
  /// Replies after which this worker is recycled (max requests, with jitter).
  var requestLimit: UInt64?
  var shutdownSent = false
  /// Attached through the control socket: not ours to respawn; its connection closes with it.
  var attachedConnection: Int32?
  /// No new successor attempt before this time (a successor that dies at start backs off).
  var nextReplacementAttempt: UInt64 = 0
  /// Successors for this worker that exited before they were ready, since the last that was.
  var failedSuccessors = 0
  var channel: FrontChannel?
  var process: ChildProcess?
  /// Bumped at each launch or attach; 64 bits, so it never wraps (rb_channel_header carries
  /// its low 32 bits, for display only).
  var generation: UInt64
  var restarts: UInt64 = 0
  var startedAt: UInt64 = 0
  var consecutiveFastExits = 0
  /// Killed for not attaching within DispatchConfig.attachTimeoutNs (reported once).
  var attachTimedOut = false
  var respawnAt: UInt64?
  var slots: [SlotTicket?] = []
  var outstandingSends = 0
  /// Requests with a streamed body (SlotTicket.streamsBody) in its slots, not answered yet.
  var streamedBodies = 0
  var retired: [RetiredChannel] = []
  var futexArmed = false
  /// Token of the armed FUTEX_WAIT, to cancel it when the worker goes (its channel with it).
  var futexWaitToken: UInt64?
  var sleepFlagSet = false
  /// The channel's break was acted on (worker killed); reset with each new channel.
  var brokenChannelHandled = false

  init(index: Int, id: Int, placement: WorkerPlacement, generation: UInt64 = 0) {
    self.index = index
    self.id = id
    self.placement = placement
    self.generation = generation
  }

  /// Holds requests and answered nothing for DispatchConfig.stallAfterNs: gets no new ones.
  /// Refreshed by the dispatcher's poll (Dispatcher+Stalls).
  var isStalled = false

  /// Takes new requests.
  var isServing: Bool { role == .active && (channel.map { !$0.isBroken } ?? false) }
  var inFlight: Int { channel?.inFlight ?? 0 }
}
