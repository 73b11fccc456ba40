#define _GNU_SOURCE
#include "ringsys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

int rb_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
  struct timespec ts, *tsp = NULL;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1000000000;
    ts.tv_nsec = timeout_ns % 1000000000;
    tsp = &ts;
  }
  long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, NULL, 0);
  return r < 0 ? -errno : 0;
}

int rb_futex_wake(uint32_t *word, int count) {
  long r = syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
  return r < 0 ? -errno : (int)r;
}

int rb_memfd_create_sealed(const char *name, uint64_t size) {
  int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -errno;
  if (ftruncate(fd, (off_t)size) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    int code = errno;
    close(fd);
    return -code;
  }
  return fd;
}

int rb_pidfd_open(pid_t pid) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -errno : fd;
}

int rb_pidfd_send_signal(int pidfd, int sig) {
  long r = syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
  return r < 0 ? -errno : 0;
}

int rb_pin_current_thread(const int *cpus, int count) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int i = 0; i < count; i++) {
    if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
  }
  return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : -errno;
}

int rb_pin_process(pid_t pid, const int *cpus, int count) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int i = 0; i < count; i++) {
    if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
  }
  return sched_setaffinity(pid, sizeof(set), &set) == 0 ? 0 : -errno;
}

int rb_allowed_cpus(int *cpus, int max) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  int n = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++) {
    if (CPU_ISSET(cpu, &set)) cpus[n++] = cpu;
  }
  return n;
}

int rb_allowed_cpu_count(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return CPU_COUNT(&set);
}

uint64_t rb_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static _Thread_local char last_error[512];

void rb_set_last_error(const char *message) {
  strncpy(last_error, message, sizeof(last_error) - 1);
  last_error[sizeof(last_error) - 1] = 0;
}

const char *rb_last_error(void) { return last_error; }
