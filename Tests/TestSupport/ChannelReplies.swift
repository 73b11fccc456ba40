import CRingABI
import RingChannel

/// Waits (sleeping on the futex, as the front does) for the next reply or a broken channel;
/// `.none` when nothing came within the timeout. For tests in which the test process plays
/// the front of a real channel.
public func awaitReply(_ front: FrontChannel, timeoutSeconds: Double = 20)
  -> FrontChannel.ReplyPoll
{
  let deadline = rb_monotonic_ns() + UInt64(timeoutSeconds * 1e9)
  while rb_monotonic_ns() < deadline {
    let poll = front.nextReply(now: rb_monotonic_ns())
    if case .none = poll {
      front.sleepUntilReplyPending(timeoutNanoseconds: 100_000_000)
      continue
    }
    return poll
  }
  return .none
}

/// FNV-1a over 64 bits: what the echo test worker (ringchannel-child echo) puts before the body
/// it echoes, and what workers/c-hello's /sum answers with.
public func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
  var hash: UInt64 = 0xcbf2_9ce4_8422_2325
  for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
  return hash
}
