// ringsys.h: the few system and memory-model operations Swift cannot express directly.
// Atomics on shared memory (Swift atomics cannot live at an arbitrary mapped address without a
// package), the futex syscall, memfd_create, pidfd and CPU affinity macros.
#ifndef RINGSYS_H
#define RINGSYS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

static inline uint64_t rb_load_acquire_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint64_t rb_load_relaxed_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void rb_store_release_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void rb_store_relaxed_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline uint32_t rb_load_acquire_u32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint32_t rb_load_relaxed_u32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void rb_store_release_u32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void rb_store_relaxed_u32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
/* Compare-and-swap: true when *p held `expected` and now holds `desired`. */
static inline _Bool rb_compare_exchange_u64(uint64_t *p, uint64_t expected, uint64_t desired) {
  return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline uint32_t rb_exchange_u32(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t rb_fetch_add_relaxed_u64(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline uint32_t rb_fetch_add_u32(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
/* Records one value in a histogram (ringabi.h); single writer. */
#include "ringabi.h"
static inline void rb_histogram_observe(rb_histogram *h, uint64_t ns) {
  unsigned bucket = ns < 2 ? 0u : 63u - (unsigned)__builtin_clzll(ns);
  if (bucket >= RB_LATENCY_BUCKETS) bucket = RB_LATENCY_BUCKETS - 1;
  h->count += 1;
  h->sum_ns += ns;
  h->buckets[bucket] += 1;
}
/* Store-load barrier: the sleeping-flag handshake needs it on both sides. */
static inline void rb_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void rb_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* FUTEX_WAIT on a shared (not private) word; returns 0, or -errno (EAGAIN, ETIMEDOUT, EINTR). */
int rb_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/* FUTEX_WAKE on a shared word; returns the number woken or -errno. */
int rb_futex_wake(uint32_t *word, int count);

/* A close-on-exec memfd of `size` bytes, sealed against shrinking and growing (a worker must not
   be able to truncate it under the front's mapping). Returns the fd or -errno. */
int rb_memfd_create_sealed(const char *name, uint64_t size);
int rb_pidfd_open(pid_t pid);
int rb_pidfd_send_signal(int pidfd, int sig);

/* Pin the calling thread to the given CPUs; returns 0 or -errno. */
int rb_pin_current_thread(const int *cpus, int count);
/* CPUs the calling thread may run on, written to cpus (at most max); returns how many. */
int rb_allowed_cpus(int *cpus, int max);
/* Pin process `pid` (all its future threads start from this mask) to the given CPUs. */
int rb_pin_process(pid_t pid, const int *cpus, int count);
/* Number of CPUs the calling thread may run on. */
int rb_allowed_cpu_count(void);

uint64_t rb_monotonic_ns(void);
/* CLOCK_REALTIME: nanoseconds since the Unix epoch (vDSO, no syscall). */
uint64_t rb_realtime_ns(void);

/* Control socket helpers (the cmsg macros are not callable from Swift). rb_send_fd sends `len`
   bytes with `fd` attached (SCM_RIGHTS); rb_recv_fd receives up to `len` bytes and the attached
   descriptor, if any, into *fd (-1 when none). Both return bytes moved or -errno. */
long rb_send_fd(int sock, int fd, const void *bytes, size_t len);
long rb_recv_fd(int sock, void *bytes, size_t len, int *fd);
/* A unix stream socket listening at `path`, with the given file mode; or connected to `path`.
   Both close-on-exec; return the fd or -errno. rb_unix_listen replaces an existing socket
   only when nothing accepts on it (a stale one): -EADDRINUSE when a live process does, -EEXIST
   when the path is not a socket. */
int rb_unix_listen(const char *path, unsigned int mode);
/* What rb_unix_listen finds at `path` before it binds, changing nothing: 0 when nothing is
   there, 1 for a stale socket (it would be replaced), else the -errno rb_unix_listen would
   return (-EADDRINUSE, -EEXIST, -ENAMETOOLONG, ...). */
int rb_unix_check_path(const char *path);
int rb_unix_connect(const char *path);
/* The peer of a connected unix socket (SO_PEERCRED); returns 0 or -errno. */
int rb_peer_credentials(int sock, pid_t *pid, uid_t *uid);

/* One line of error text per thread, for C ABI functions that report failure by return value. */
void rb_set_last_error(const char *message);
const char *rb_last_error(void);

#endif
