// liburing 2.3 (Debian 12) predates the futex opcodes (kernel 6.7); their numbers are ABI.
#include <liburing.h>
#ifndef IORING_OP_FUTEX_WAIT
#define RB_IORING_OP_FUTEX_WAIT 51
#define RB_IORING_OP_FUTEX_WAKE 52
#else
#define RB_IORING_OP_FUTEX_WAIT IORING_OP_FUTEX_WAIT
#define RB_IORING_OP_FUTEX_WAKE IORING_OP_FUTEX_WAKE
#endif
