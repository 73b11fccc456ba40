#define _GNU_SOURCE
#include "ringsys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

uint64_t rb_realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static _Thread_local char last_error[512];

void rb_set_last_error(const char *message) {
  strncpy(last_error, message, sizeof(last_error) - 1);
  last_error[sizeof(last_error) - 1] = 0;
}

const char *rb_last_error(void) { return last_error; }

long rb_send_fd(int sock, int fd, const void *bytes, size_t len) {
  struct iovec iov = {.iov_base = (void *)bytes, .iov_len = len};
  union {
    char buffer[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    message.msg_control = control.buffer;
    message.msg_controllen = sizeof(control.buffer);
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
  }
  ssize_t sent = sendmsg(sock, &message, MSG_NOSIGNAL);
  return sent < 0 ? -errno : sent;
}

long rb_recv_fd(int sock, void *bytes, size_t len, int *fd) {
  struct iovec iov = {.iov_base = bytes, .iov_len = len};
  union {
    char buffer[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer,
                           .msg_controllen = sizeof(control.buffer)};
  *fd = -1;
  ssize_t received = recvmsg(sock, &message, MSG_CMSG_CLOEXEC);
  if (received < 0) return -errno;
  for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(header), sizeof(int));
  }
  return received;
}

int rb_peer_credentials(int sock, pid_t *pid, uid_t *uid) {
  struct ucred credentials;
  socklen_t length = sizeof(credentials);
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -errno;
  *pid = credentials.pid;
  *uid = credentials.uid;
  return 0;
}

static int rb_unix_address(const char *path, struct sockaddr_un *address) {
  memset(address, 0, sizeof(*address));
  address->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(address->sun_path)) return -ENAMETOOLONG;
  strcpy(address->sun_path, path);
  return 0;
}

int rb_unix_check_path(const char *path) {
  struct sockaddr_un address;
  int rc = rb_unix_address(path, &address);
  if (rc < 0) return rc;
  /* Replace only a stale socket, left by a broker that was killed: a live broker's socket is
     never taken over, and a file that is no socket is never deleted. */
  struct stat existing;
  if (lstat(path, &existing) != 0) return errno == ENOENT ? 0 : -errno;
  if (!S_ISSOCK(existing.st_mode)) return -EEXIST;
  int probe = rb_unix_connect(path);
  if (probe >= 0) {
    close(probe);
    return -EADDRINUSE;
  }
  /* Only a refused connection proves nobody listens; a full backlog (EAGAIN) is a live one. */
  if (probe == -EAGAIN) return -EADDRINUSE;
  if (probe != -ECONNREFUSED) return probe;
  return 1;
}

int rb_unix_listen(const char *path, unsigned int mode) {
  struct sockaddr_un address;
  int rc = rb_unix_address(path, &address);
  if (rc < 0) return rc;
  rc = rb_unix_check_path(path);
  if (rc < 0) return rc;
  if (rc == 1) unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  /* Create it with no access, then open it to `mode`: never briefly world-connectable. */
  mode_t old = umask(0777);
  rc = bind(fd, (struct sockaddr *)&address, sizeof(address));
  umask(old);
  if (rc != 0 || chmod(path, mode) != 0 || listen(fd, 64) != 0) {
    int code = errno;
    close(fd);
    return -code;
  }
  return fd;
}

int rb_unix_connect(const char *path) {
  struct sockaddr_un address;
  int rc = rb_unix_address(path, &address);
  if (rc < 0) return rc;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
    int code = errno;
    close(fd);
    return -code;
  }
  return fd;
}
