// A RingBroker worker in plain C, built against libringworker (ringworker.h).
//
// It answers "hello world"; on /capacity, a body that fills the reply's whole capacity
// (rw_reply_capacity); on /echo, a plain-text account of the request: method and target, where
// it came from (remote and local address and port, request id, scheme, when the broker had its
// head in CLOCK_REALTIME ns), each header, then the body (when it is in the slot):
//
//   POST /echo?x=1
//   remote 127.0.0.1 51234
//   local 127.0.0.1 8080
//   id 17
//   scheme http
//   received 1764633600123456789
//   Host: ...
//
//   <body>
//
// Streamed replies (rw_reply_write / rw_reply_end), for tests and benchmarks:
//   /bytes?n=N       N bytes of a fixed pattern (byte i is i % 251), length declared;
//                    &chunked=1 without a declared length (chunked, or close-delimited for
//                    HTTP/1.0); &status=S answers with status S (e.g. 204, to see the body
//                    dropped); &part=P writes in pieces of P bytes (default 65536);
//                    &seed=S starts the pattern at S (byte i is (i + S) % 251), so that
//                    replies running at once differ. The X-Worker-Pid header names the
//                    worker process.
//   /events?n=5&ms=200  server-sent events, `ms` apart: "data: <i> <CLOCK_REALTIME ns>\n\n",
//                    the time taken just before the event is written.
// On /sleep?ms=N it sleeps N ms (default 1000) in the handler, with nanosleep, then answers
// "slept\n": a slow request that keeps this worker busy, for head-of-line benchmarks
// (bench/slow-handler.sh).
// On /sum it reads the body with rw_body_read, whatever its size (a body too large for the
// slot streams in as the client sends it), and answers "<length> <FNV-1a 64 in hex>
// <streamed 0|1>\n", so that a test can check an upload byte for byte without an echo. A body
// that did not arrive whole gets 400 with rw_last_error(). On /stats it answers "body_errors
// N\n": how many bodies this worker could not read whole. On /echo-stream it sends the body
// back as it reads it (rw_body_read, then rw_reply_write for each piece; chunked).
//
// Run it under the broker:
//   ringbroker --workers 2 --worker workers/c-hello/hello-worker
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ringworker.h"

static int is_path(rw_str path, const char *expected) {
  return path.length == strlen(expected) && memcmp(path.data, expected, path.length) == 0;
}

/* Appends `length` bytes at *cursor when they fit before `end`; returns 0, or -1 when full. */
static int append(char **cursor, char *end, const char *data, size_t length) {
  if ((size_t)(end - *cursor) < length) return -1;
  memcpy(*cursor, data, length);
  *cursor += length;
  return 0;
}

static int reply_echo(rw_request *request) {
  if (rw_reply_start(request, 200) != 0) return -1;
  if (rw_reply_header(request, "Content-Type", 12, "text/plain", 10) != 0) return -1;
  size_t capacity = 0;
  char *body = rw_reply_body(request, &capacity);
  if (!body) return -1;
  char *cursor = body, *end = body + capacity;
  rw_str method = rw_method(request), target = rw_target(request), payload = rw_body(request);
  int failed = append(&cursor, end, method.data, method.length) || append(&cursor, end, " ", 1) ||
               append(&cursor, end, target.data, target.length) || append(&cursor, end, "\n", 1);
  rw_str remote = rw_remote_addr(request), local = rw_local_addr(request), scheme = rw_scheme(request);
  char origin[256];
  int length = snprintf(origin, sizeof origin, "remote %.*s %d\nlocal %.*s %d\nid %" PRIu64 "\nscheme %.*s\nreceived %" PRIu64 "\n",
                        (int)remote.length, remote.data, rw_remote_port(request), (int)local.length,
                        local.data, rw_local_port(request), rw_request_id(request), (int)scheme.length,
                        scheme.data, rw_received_ns(request));
  failed = failed || length < 0 || (size_t)length >= sizeof origin ||
           append(&cursor, end, origin, (size_t)length);
  for (size_t i = 0; !failed && i < rw_header_count(request); i++) {
    rw_str name, value;
    rw_header_at(request, i, &name, &value);
    failed = append(&cursor, end, name.data, name.length) || append(&cursor, end, ": ", 2) ||
             append(&cursor, end, value.data, value.length) || append(&cursor, end, "\n", 1);
  }
  failed = failed || append(&cursor, end, "\n", 1) || append(&cursor, end, payload.data, payload.length);
  if (failed) return rw_reply(request, 500, "text/plain", "reply too large\n", 16);
  return rw_reply_send(request, (size_t)(cursor - body));
}

/* Known before the reply starts: a worker can pick what to send while it can still choose. */
static int reply_filling_capacity(rw_request *request) {
  size_t wanted = rw_reply_capacity(request), capacity = 0;
  if (rw_reply_start(request, 200) != 0) return -1;
  char *body = rw_reply_body(request, &capacity);
  if (!body) return -1;
  memset(body, 'c', wanted <= capacity ? wanted : capacity);
  return rw_reply_send(request, wanted); /* fails (502) if the capacity said more than there is */
}

/* The value of `name` in the query (name=digits), or `fallback` when absent. */
static uint64_t query_number(rw_str query, const char *name, uint64_t fallback) {
  size_t name_length = strlen(name);
  const char *p = query.data, *end = query.data + query.length;
  while (p < end) {
    const char *next = memchr(p, '&', (size_t)(end - p));
    if (!next) next = end;
    if ((size_t)(next - p) > name_length && memcmp(p, name, name_length) == 0 && p[name_length] == '=') {
      uint64_t value = 0;
      for (const char *d = p + name_length + 1; d < next && *d >= '0' && *d <= '9'; d++)
        value = value * 10 + (uint64_t)(*d - '0');
      return value;
    }
    p = next + 1;
  }
  return fallback;
}

/* N bytes of the pattern, written in pieces: the library streams them through the slot. */
static int reply_bytes(rw_request *request) {
  rw_str query = rw_query(request);
  uint64_t total = query_number(query, "n", 0);
  size_t piece = (size_t)query_number(query, "part", 65536);
  if (piece == 0 || piece > (1u << 24)) piece = 65536;
  int status = (int)query_number(query, "status", 200);
  uint64_t seed = query_number(query, "seed", 0) % 251;
  if (rw_reply_start(request, status) != 0) return -1;
  if (rw_reply_header(request, "Content-Type", 12, "application/octet-stream", 24) != 0) return -1;
  char pid[16];
  int pid_length = snprintf(pid, sizeof pid, "%d", (int)getpid());
  if (rw_reply_header(request, "X-Worker-Pid", 12, pid, (size_t)pid_length) != 0) return -1;
  if (!query_number(query, "chunked", 0) && rw_reply_set_length(request, total) != 0) return -1;
  /* 251 is prime: a piece that starts anywhere but at a multiple of 251 shows in the bytes.
     The pattern is made once, for the largest piece asked so far: a benchmark measures the
     streaming, not the making of its bytes. */
  static unsigned char *pattern;
  static size_t pattern_size;
  if (pattern_size < piece + 251) {
    unsigned char *grown = realloc(pattern, piece + 251);
    if (!grown) return rw_reply_abort(request, 500);
    pattern = grown;
    for (size_t i = pattern_size; i < piece + 251; i++) pattern[i] = (unsigned char)(i % 251);
    pattern_size = piece + 251;
  }
  for (uint64_t sent = 0; sent < total;) {
    size_t length = total - sent < piece ? (size_t)(total - sent) : piece;
    if (rw_reply_write(request, pattern + (sent + seed) % 251, length) != 0)
      return -1; /* the client left (or timed out): the library ended the reply */
    sent += length;
  }
  return rw_reply_end(request);
}

static uint64_t realtime_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Server-sent events: each written (and sent) at once, `ms` apart. */
static int reply_events(rw_request *request) {
  rw_str query = rw_query(request);
  uint64_t count = query_number(query, "n", 5), ms = query_number(query, "ms", 200);
  if (rw_reply_start(request, 200) != 0) return -1;
  if (rw_reply_header(request, "Content-Type", 12, "text/event-stream", 17) != 0) return -1;
  if (rw_reply_header(request, "Cache-Control", 13, "no-cache", 8) != 0) return -1;
  for (uint64_t i = 0; i < count; i++) {
    if (i > 0) {
      struct timespec pause = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
      nanosleep(&pause, NULL);
    }
    char event[64];
    int length = snprintf(event, sizeof event, "data: %" PRIu64 " %" PRIu64 "\n\n", i, realtime_ns());
    if (rw_reply_write(request, event, (size_t)length) != 0) return -1;
  }
  return rw_reply_end(request);
}

/* Holds the worker for `ms` (nanosleep, resumed after a signal), then a short reply. */
static int reply_sleep(rw_request *request) {
  uint64_t ms = query_number(rw_query(request), "ms", 1000);
  struct timespec pause = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) continue;
  return rw_reply(request, 200, "text/plain", "slept\n", 6);
}

static unsigned long body_errors;

/* FNV-1a 64 over the whole body, read piece by piece. */
static int reply_sum(rw_request *request) {
  static char buffer[64 * 1024];
  uint64_t hash = 0xcbf29ce484222325ULL, length = 0;
  long got;
  while ((got = rw_body_read(request, buffer, sizeof buffer)) > 0) {
    for (long i = 0; i < got; i++) {
      hash ^= (unsigned char)buffer[i];
      hash *= 0x100000001b3ULL;
    }
    length += (uint64_t)got;
  }
  char text[160];
  if (got < 0) {
    body_errors++;
    int n = snprintf(text, sizeof text, "body error: %s\n", rw_last_error());
    return rw_reply(request, 400, "text/plain", text, (size_t)n);
  }
  int n = snprintf(text, sizeof text, "%" PRIu64 " %016" PRIx64 " %d\n", length, hash,
                   rw_body_is_streamed(request));
  return rw_reply(request, 200, "text/plain", text, (size_t)n);
}

/* The body back as it arrives, piece by piece: upload and reply stream at once, and neither
   side holds more than a slot's worth whatever the size. */
static int reply_echo_stream(rw_request *request) {
  static char buffer[64 * 1024];
  if (rw_reply_start(request, 200) != 0) return -1;
  if (rw_reply_header(request, "Content-Type", 12, "application/octet-stream", 24) != 0) return -1;
  long got;
  while ((got = rw_body_read(request, buffer, sizeof buffer)) > 0) {
    if (rw_reply_write(request, buffer, (size_t)got) != 0) return -1;
  }
  if (got < 0) {
    body_errors++;
    return rw_reply_abort(request, 502); /* headers may be out: the connection closes */
  }
  return rw_reply_end(request);
}

static int reply_stats(rw_request *request) {
  char text[64];
  int n = snprintf(text, sizeof text, "body_errors %lu\n", body_errors);
  return rw_reply(request, 200, "text/plain", text, (size_t)n);
}

int main(void) {
  rw_worker *worker = rw_open();
  if (!worker) {
    fprintf(stderr, "hello-worker: %s\n", rw_last_error());
    return 1;
  }
  rw_request *request;
  int status;
  while ((status = rw_next(worker, -1, &request)) >= 0) {
    if (status == 0) continue; /* timeout */
    rw_str path = rw_path(request);
    int result = is_path(path, "/echo")       ? reply_echo(request)
                 : is_path(path, "/capacity") ? reply_filling_capacity(request)
                 : is_path(path, "/bytes")    ? reply_bytes(request)
                 : is_path(path, "/events")   ? reply_events(request)
                 : is_path(path, "/sum")      ? reply_sum(request)
                 : is_path(path, "/echo-stream") ? reply_echo_stream(request)
                 : is_path(path, "/stats")    ? reply_stats(request)
                 : is_path(path, "/sleep")    ? reply_sleep(request)
                                              : rw_reply(request, 200, "text/plain", "hello world\n", 12);
    if (result != 0) fprintf(stderr, "hello-worker: %s\n", rw_last_error());
  }
  fprintf(stderr, "hello-worker: exiting: %s\n", rw_last_error());
  rw_close(worker);
  return 0;
}
