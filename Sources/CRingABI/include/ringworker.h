// ringworker.h: the worker library's C ABI (libringworker.so).
//
// A worker process serves requests that a RingBroker front hands it through shared memory:
//
//   rw_worker *w = rw_open();            // channel from RINGWORKER_FD or RINGWORKER_ENDPOINT
//   if (!w) { fprintf(stderr, "%s\n", rw_last_error()); return 1; }
//   rw_request *req;
//   while (rw_next(w, -1, &req) == 1) {
//     rw_reply(req, 200, "text/plain", "hello world", 11);
//   }
//   rw_close(w);
//
// Strings (rw_str) point into shared memory and are not NUL-terminated. They stay valid until
// the request is replied to. Workers never touch ring indices: the library does.
#ifndef RINGWORKER_H
#define RINGWORKER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rw_worker rw_worker;
typedef struct rw_request rw_request;

typedef struct rw_str {
  const char *data;
  size_t length;
} rw_str;

/* Opens the channel named by the environment: RINGWORKER_FD (spawned by the broker) or
   RINGWORKER_ENDPOINT (a broker's control socket to attach to). NULL on failure. */
rw_worker *rw_open(void);
/* Opens a channel segment from a memfd the caller already holds. */
rw_worker *rw_open_fd(int fd);
/* Attaches to a running broker through its control socket (what rw_open does when only
   RINGWORKER_ENDPOINT is set). */
rw_worker *rw_attach(const char *control_socket_path);
/* The last error of this thread, as one line of text. */
const char *rw_last_error(void);
void rw_close(rw_worker *worker);

/* Waits up to timeout_ms (-1: forever) for the next request.
   Returns 1 with *request set, 0 on timeout, -1 when the worker should exit (broker gone, channel
   shut down or broken; rw_last_error() says which). Every size and offset of a request is
   checked before it is handed out: a request that points outside its own bytes breaks the
   channel (-1), it never reaches the caller. */
int rw_next(rw_worker *worker, int timeout_ms, rw_request **request);

rw_str rw_method(const rw_request *request);
rw_str rw_target(const rw_request *request); /* path plus ?query, as sent */
rw_str rw_path(const rw_request *request);
rw_str rw_query(const rw_request *request); /* without '?'; empty when absent */
/* The whole request body, when it is in the slot (the usual case: it fit). Empty for a body
   too large for the slot, which streams in parts (rw_body_is_streamed): read those with
   rw_body_read. */
rw_str rw_body(const rw_request *request);
/* 1 when the body does not fit the slot and arrives in parts (read it with rw_body_read), else
   0. */
int rw_body_is_streamed(const rw_request *request);
/* Reads up to `capacity` body bytes into `buffer`: the bytes read, 0 at the end of the body,
   -1 on error (the client left or sent a broken body; the broker is gone; rw_last_error()
   says which). Works for every body: one in the slot is read from there, a streamed one as it
   arrives from the client (this call then waits for it; the client's upload is paced by how
   fast the worker reads). A reply may start before the body is read, and parts of it may be
   written between reads (an echo streams both ways); a body left unread when the reply ends
   is discarded by the broker, which then closes the connection.
   Every body-part descriptor is checked before it is used (slot, request id, place in the
   body window, order, parts in flight): a bad one breaks the channel and this call returns -1
   (rw_next then returns -1 too). While it waits, requests that arrive for other slots are
   kept, in order, for the next rw_next; it sleeps on the request ring's futex and notices a
   broker that died (-1, never a hang). Each part is acknowledged to the broker as soon as it
   was read whole, so the next one can arrive while the caller works. Called on a request
   already answered: -1. */
long rw_body_read(rw_request *request, void *buffer, size_t capacity);
int rw_http_version(const rw_request *request); /* 10 or 11 */
size_t rw_header_count(const rw_request *request);
/* The i-th header as sent; returns 0, or -1 when i is out of range. */
int rw_header_at(const rw_request *request, size_t i, rw_str *name, rw_str *value);
/* The first header with this name (ASCII case-insensitive); returns 0, or -1 when absent. */
int rw_header(const rw_request *request, const char *name, rw_str *value);

/* Request metadata, from what the broker read once per connection (ABI version 2).
   rw_remote_addr is the client's address, rw_local_addr the broker's end of the connection, as
   text: "127.0.0.1", "::1" (an IPv4 client of a dual-stack socket shows as IPv4). The text is
   formatted into a buffer of the request's own (no allocation) and, like every rw_str, stays
   valid until the request is replied to; it is NUL-terminated, though length is what counts.
   Ports are in host byte order. rw_request_id is unique among the requests of one broker
   process and never 0 (a request moved to another worker after its worker died keeps it).
   rw_received_ns is CLOCK_REALTIME, in nanoseconds since the Unix epoch, when the broker had
   the complete request head. rw_scheme is "http" (or "https" behind a TLS front). The library
   checks address families and the scheme before it hands a request out: an unknown one breaks
   the channel (rw_next returns -1), it never reaches the caller. */
rw_str rw_remote_addr(const rw_request *request);
int rw_remote_port(const rw_request *request);
rw_str rw_local_addr(const rw_request *request);
int rw_local_port(const rw_request *request);
uint64_t rw_request_id(const rw_request *request);
uint64_t rw_received_ns(const rw_request *request);
rw_str rw_scheme(const rw_request *request);

/* Building a reply in place: start, add headers, take the body pointer, send.
   Every call returns 0 (rw_reply_body: a pointer), or -1 (NULL) with rw_last_error() set.
   A call that fails on a request not answered yet answers it: before returning, the library
   publishes a 502 for it (no headers; a short body when it fits the reply room), whatever was
   written before. The request is then done: the client has its 502 at once, `request` must not
   be used again, and further reply calls on it fail without any effect. Failing calls include
   a status outside 200..599, a header name that is not a token or a value with control
   characters (CR, LF, ...), a framing header, a header or body larger than the reply room, and
   calls out of order (e.g. rw_reply after rw_reply_start).
   The front writes the status line, Content-Length, Date and Connection: framing headers given
   here (Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, Date) are refused. */
int rw_reply_start(rw_request *request, int status);
int rw_reply_header(rw_request *request, const char *name, size_t name_length, const char *value,
                    size_t value_length);
/* The bytes the reply to this request may take: its header lines ("Name: value\r\n" each, as
   rw_reply_header writes them) plus its body; the front's status line and framing headers do
   not count. Constant for the request, before and after rw_reply_start: check with it that a
   reply fits rw_reply_body before starting it. A streamed reply (rw_reply_write) has no such
   limit: its parts reuse this room as the client takes them. */
size_t rw_reply_capacity(const rw_request *request);
/* A writable pointer for the body, directly in shared memory; *capacity gets its size. */
char *rw_reply_body(rw_request *request, size_t *capacity);
int rw_reply_send(rw_request *request, size_t body_length);
/* Gives up on the reply, whatever was written so far: the request is answered at once with
   `status` (500..599) and a short text body, and must not be used again. For a handler that
   hits an error midway. Once a streamed reply's first part went out, the status cannot change:
   the connection is closed instead, so the client sees the body is incomplete. A status
   outside 500..599 answers 502 and returns -1; a request already answered returns -1 and
   nothing happens. */
int rw_reply_abort(rw_request *request, int status);
/* Streaming a reply (ABI version 2): after rw_reply_start and the headers, send the body in
   parts with rw_reply_write and finish with rw_reply_end, instead of rw_reply_body and
   rw_reply_send. Bodies of any size and bodies produced piece by piece (server-sent events,
   generated downloads) go this way.
   rw_reply_set_length (optional, before the first rw_reply_write) declares the body length:
   the client gets Content-Length, else `Transfer-Encoding: chunked` (HTTP/1.1) or a body
   ended by closing the connection (HTTP/1.0). The writes must then add up to it exactly:
   writing more fails, and rw_reply_end short of it fails (either closes the connection, so
   the client sees a truncated body, never a wrong one).
   rw_reply_write copies `length` bytes into shared memory and hands them to the broker at
   once, in parts of at most half of rw_reply_capacity bytes, or of half the channel's stream
   window (512 KiB at the defaults) for a reply larger than the slot (declared so, or a first
   write larger than a part); the client gets them as they come. Write large pieces: each
   write is at least one part, one ring round trip. The reply's last part waits until the
   window's parts were sent. It
   blocks while the client reads slower than the worker writes (at most
   RB_REPLY_PARTS_IN_FLIGHT parts wait per request), so memory stays bounded whatever the
   size. It returns 0 once every byte is handed over, -1 when the client is gone (closed, timed
   out) or the call is out of order.
   rw_reply_end sends what remains and ends the reply.
   After a -1 from any rw_reply_* call the request is answered: a 502 when nothing went out
   yet, else the connection is closed; `request` must not be used again. Never a hang. */
int rw_reply_set_length(rw_request *request, uint64_t total_length);
int rw_reply_write(rw_request *request, const void *data, size_t length);
int rw_reply_end(rw_request *request);
/* Convenience: the whole reply at once (content_type may be NULL). Any body size: a body
   larger than the reply room is streamed with its length declared. */
int rw_reply(rw_request *request, int status, const char *content_type, const void *body,
             size_t body_length);

#ifdef __cplusplus
}
#endif

#endif
