/// What became of a reply handed to `FrontLoop.reply`, so that the handler can account for a
/// refusal (e.g. count it against the worker that wrote the reply).
public enum ReplyOutcome: Equatable {
  /// Queued for sending.
  case queued
  /// The client of the ticket is gone (or was answered already): the reply was only released.
  case clientGone
  /// The status is outside 200...599: the client got 502 instead.
  case invalidStatus
  /// The header lines break ReplyHeaderRules: the client got 502 instead.
  case invalidHeaders
}
