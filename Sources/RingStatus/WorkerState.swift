import CRingABI

/// What a worker is doing, as shown in the STATE column and the JSON "state" field.
public enum WorkerState: String, Codable {
  case starting, running, sleeping, stopped, draining, dead, broken, respawning

  /// From the channel state the front wrote, refined by the worker's sleeping flag and by the
  /// kernel's view of its process (a SIGSTOPped or vanished worker still looks "running" to
  /// the front until it notices).
  public init(sample: ChannelSample, processState: Character?) {
    switch Int(sample.state) {
    case Int(RB_STATE_CREATED): self = .starting
    case Int(RB_STATE_DRAINING): self = .draining
    case Int(RB_STATE_DEAD): self = .dead
    case Int(RB_STATE_BROKEN): self = .broken
    case Int(RB_STATE_RESPAWNING): self = .respawning
    default:
      switch processState {
      case nil, "Z", "X": self = .dead
      case "T", "t": self = .stopped
      default: self = sample.workerSleeping ? .sleeping : .running
      }
    }
  }

  /// A state in which the front still hands this channel requests.
  public var isServing: Bool {
    self == .running || self == .sleeping || self == .stopped || self == .starting
  }
}
