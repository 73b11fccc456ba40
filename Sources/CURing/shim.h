// liburing 2.3 (Debian 12) predates the futex opcodes (kernel 6.7); their numbers are ABI.
// liburing.h defines _GNU_SOURCE/_XOPEN_SOURCE before its libc includes, which renames fd_set's
// member (fds_bits vs __fds_bits) and then clashes with Swift's Glibc and Foundation modules in any
// Swift module that sees both. Including <features.h> first makes those late defines inert.
#include <features.h>
#include <liburing.h>
#ifndef IORING_OP_FUTEX_WAIT
#define RB_IORING_OP_FUTEX_WAIT 51
#define RB_IORING_OP_FUTEX_WAKE 52
#else
#define RB_IORING_OP_FUTEX_WAIT IORING_OP_FUTEX_WAIT
#define RB_IORING_OP_FUTEX_WAKE IORING_OP_FUTEX_WAKE
#endif
