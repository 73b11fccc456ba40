import CRingABI

/// Revocable dispatch (ringabi.h, "Slot claims"): a request the worker has not claimed yet can
/// be taken back and run elsewhere, so that a slow handler never holds up the requests queued
/// behind it while another worker could serve them.
extension FrontChannel {
  /// The worker holds requests and has shown no progress for more than `thresholdNs`: it is
  /// busy with something slow (a long handler, a client that reads slowly, a stop signal), and
  /// what waits in its ring would wait behind it.
  public func hasStalled(now: UInt64, thresholdNs: UInt64) -> Bool {
    inFlight > 0 && now &- state.pointee.progressAt > thresholdNs
  }

  /// When the worker last showed progress (see `hasStalled`).
  public var progressAt: UInt64 { state.pointee.progressAt }

  /// Takes back the request in `index` if the worker has not claimed it: true when it is the
  /// front's again. The caller copies it out at once (`requestBytes`) to run it elsewhere;
  /// the slot stays untouched until `freeRevokedSlots` finds the worker's ring tail past its
  /// descriptor (until then that descriptor occupies a ring entry RB_RING_ENTRIES_PER_SLOT
  /// counts as the slot's). Only plain requests move: a streaming reply or a streamed body is
  /// the worker's for good.
  public func revoke(slot index: Int) -> Bool {
    guard mayRevoke(slot: index), revokeClaim(index) else { return false }
    slots[index].state = .revoked
    state.pointee.revokedCount += 1
    inFlight -= 1
    bump(&counters.pointee.requests_revoked)
    return true
  }

  /// Whether slot `index` holds a request that `revoke` could take back.
  public func mayRevoke(slot index: Int) -> Bool {
    slots[index].state == .withWorker && slots[index].body == nil && !slots[index].claimSeen
  }

  /// One compare-and-swap on the claim word: false when the worker claimed the request (or
  /// wrote anything else there), which is then remembered.
  func revokeClaim(_ index: Int) -> Bool {
    if slots[index].claimSeen { return false }
    if rb_compare_exchange_u64(segment.claimWord(index), slots[index].requestID, 0) { return true }
    slots[index].claimSeen = true
    return false
  }

  /// Frees every revoked slot whose descriptor the worker has taken from the ring. The tail is
  /// the worker's to write: a false one only frees its own slots early, and a ring that then
  /// overflows breaks its own channel.
  public func freeRevokedSlots() {
    guard state.pointee.revokedCount > 0 else { return }
    let tail = rb_load_acquire_u64(&segment.requestRing.control.pointee.tail)
    for index in 0..<slotCount where slots[index].state == .revoked && slots[index].ringIndex < tail
    {
      state.pointee.revokedCount -= 1
      free(index)
    }
  }

  /// Publishes, for ringstat, since when the oldest request with the worker has waited (0:
  /// none).
  public func noteOldestRequest(since nanoseconds: UInt64) {
    rb_store_relaxed_u64(&counters.pointee.oldest_request_ns, nanoseconds)
  }
}
