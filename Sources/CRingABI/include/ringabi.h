// ringabi.h: the shared-memory channel ABI between the RingBroker front and one worker.
//
// This header is the single source of truth for the layout of a channel segment. It is plain
// C99 so that the front (Swift), the worker library and any FFI read the same definitions.
// Change anything here and RB_ABI_VERSION must change too: both sides check it on attach.
//
// Segment layout (offsets in the header, every region 4096-aligned):
//
//   | rb_channel_header | request ring (front → worker) | response ring (worker → front) |
//   | slot claims | slot arena: size class 0 slots | size class 1 slots | ...            |
//   | stream window (ABI version 4; see "Stream window")                                   |
//
// Ownership: the front creates the segment, owns every slot and decides which slot carries
// which request. The worker only reads requests in place and writes the reply into the same
// slot, then hands the slot back through the response ring. Everything the worker writes is
// untrusted input to the front.
#ifndef RINGABI_H
#define RINGABI_H

#include <stdint.h>

#define RB_MAGIC 0x314B5242474E4952ULL /* "RINGBRK1" read as little-endian bytes */
/* 2: request metadata, streamed replies and bodies; 3: slot claims (revocable dispatch);
   4: the stream window (large reply parts outside the slots) */
#define RB_ABI_VERSION 4u
#define RB_LINE 128u /* false-sharing distance: two adjacent 64-byte lines prefetch together */
#define RB_PAGE 4096u
#define RB_MAX_SLOT_CLASSES 4u
#define RB_LATENCY_BUCKETS 40u /* bucket i counts replies with latency in [2^i, 2^(i+1)) ns */

/* Channel states (rb_channel_header.state). Written by the front only. */
enum {
  RB_STATE_CREATED = 0,  /* segment exists, no worker yet */
  RB_STATE_RUNNING = 1,  /* a worker is attached and serving */
  RB_STATE_DRAINING = 2, /* no new requests; worker finishes what it took, then exits */
  RB_STATE_DEAD = 3,     /* worker gone; front reclaimed everything */
  RB_STATE_BROKEN = 4,   /* worker wrote something invalid; front stopped trusting it */
  RB_STATE_RESPAWNING = 5
};

/* Request descriptor flags. A descriptor is one of: a new request (none of RB_REQ_PART_SENT,
   RB_REQ_BODY_PART, RB_REQ_SHUTDOWN), a reply credit (RB_REQ_PART_SENT), a body part
   (RB_REQ_BODY_PART) or the shutdown message. Credits and body parts name the slot and the
   request_id of the request they belong to; anything else breaks the channel. */
enum {
  RB_REQ_HEAD = 1u << 0,       /* HEAD request: the front drops any body the worker writes */
  RB_REQ_KEEP_ALIVE = 1u << 1, /* informational: the client connection stays open */
  /* New request: its body is larger than the slot and comes in RB_REQ_BODY_PART descriptors
     as it arrives from the client (see "Streamed request bodies" below); rb_request_head.body
     is empty. Also set in rb_request_head.flags. */
  RB_REQ_BODY_STREAM = 1u << 2,
  /* Credit: one reply part (RB_RESP_CHUNK without RB_RESP_END) of this slot has left; the
     oldest part not yet credited is the worker's memory again. */
  RB_REQ_PART_SENT = 1u << 3,
  /* With RB_REQ_PART_SENT: the client is gone (or the request timed out): parts are dropped
     unsent from now on; the worker should end the reply (RB_RESP_CHUNK | RB_RESP_END) now. */
  RB_REQ_CLIENT_GONE = 1u << 4,
  /* Body part of a RB_REQ_BODY_STREAM request: `reply_offset` is the part's offset in the slot
     and `length` its byte count (both inside the slot's body window); reply_capacity is 0. */
  RB_REQ_BODY_PART = 1u << 5,
  /* With RB_REQ_BODY_PART: the last part (its length may be 0). */
  RB_REQ_BODY_END = 1u << 6,
  /* With RB_REQ_BODY_PART | RB_REQ_BODY_END: the body did not arrive whole (the client left
     or sent bad chunked framing); readers get an error, not a short body. */
  RB_REQ_BODY_ABORTED = 1u << 7,
  RB_REQ_SHUTDOWN = 1u << 15   /* not a request: the worker should exit after in-flight work */
};

/* Response descriptor flags. A descriptor is one of: a whole reply (RB_RESP_FINAL), a reply
   part (RB_RESP_CHUNK, with RB_RESP_END on the last) or a body acknowledgement
   (RB_RESP_BODY_TAKEN). */
enum {
  RB_RESP_FINAL = 0u,          /* the reply is complete; the slot goes back to the front */
  RB_RESP_CHUNK = 1u << 0,     /* one part of a streamed reply (see "Streamed replies") */
  RB_RESP_END = 1u << 1,       /* with RB_RESP_CHUNK: the last part; the slot goes back */
  /* With the first RB_RESP_CHUNK part: the reply declares its body length, as a uint64_t in
     the 8 bytes right after the header lines (at reply_offset + header_length, unaligned);
     body_offset is at or after them. The parts' body bytes must add up to it exactly. */
  RB_RESP_LENGTH = 1u << 2,
  /* With RB_RESP_CHUNK | RB_RESP_END: the worker gave up midway (rw_reply_abort after the
     first part): the front closes the client connection without completing the body. */
  RB_RESP_ABORT = 1u << 3,
  /* With RB_RESP_CHUNK: body_offset is from the start of the stream window, not from the
     slot start, and the body range lies inside the window (see "Stream window"). */
  RB_RESP_IN_STREAM_WINDOW = 1u << 5,
  /* Not a reply: the worker read the oldest body part not yet acknowledged of this slot;
     its window half is the front's again. status, header_length, body_* are 0. */
  RB_RESP_BODY_TAKEN = 1u << 4
};

/* Streamed replies (ABI version 2).
   A reply whose body does not fit the slot, or that is produced piece by piece, goes out in
   parts. Each part is a response descriptor with RB_RESP_CHUNK: the first carries the status
   and header lines exactly as a whole reply does (header lines at the request's reply_offset,
   optionally the declared length after them, RB_RESP_LENGTH), later parts have status 0 and
   header_length 0. A part's body range lies inside the slot at or after reply_offset (for the
   first part, after its header lines). The front sends each part as it arrives: with
   Content-Length when the length was declared, else chunked (HTTP/1.1) or close-delimited
   (HTTP/1.0); HEAD, 204 and 304 send no body and their parts are credited unsent.
   Backpressure: at most RB_REPLY_PARTS_IN_FLIGHT parts of a slot may be published and not yet
   credited (RB_REQ_PART_SENT); the worker waits for a credit before it reuses a part's memory
   or publishes another. The last part (RB_RESP_END, body may be empty) is never credited: once
   it is published the worker must not touch the slot again; it goes back to the front when
   the send is done (and every part before it was credited). A credit for an earlier part may
   still arrive after the worker published the last one (the front pushed it before it took
   that part): it names the same slot and request id, never more credits than parts, and the
   worker drops it. A part with RB_RESP_ABORT is not sent; its bytes do not count. A part
   beyond the limit, a part for a slot not streaming, a status or header length on a later
   part, a range outside the slot (or the stream window), bytes beyond the declared length
   or an END short of it break the channel: the client gets a 502 when no header went out,
   else its connection is closed. While no part arrives the request timeout applies (from
   dispatch, then from the last part or credit); it does not run while the worker waits for
   the client: RB_REPLY_PARTS_IN_FLIGHT parts out, or one part out of a reply in the stream
   window (the client's send timeout covers that). Once the
   head went out, an expiry closes the client connection (the worker's next part is
   credited with RB_REQ_CLIENT_GONE); a second one with no part in between replaces the worker. */
#define RB_REPLY_PARTS_IN_FLIGHT 2u

/* Stream window (ABI version 4).
   A slot is sized for the hop, not for large bodies: a large reply streamed through its two
   halves of a few dozen KiB costs a ring round trip (and, on a busy machine, a wake-up on
   each side) every few dozen KiB. The stream window is one larger region per channel
   (stream_window_offset, stream_window_size in the header; size 0 means none) that the worker
   may use for the body bytes of one streamed reply at a time: such a reply's parts carry
   RB_RESP_IN_STREAM_WINDOW and their body_offset counts from the window start. Its header
   lines and declared length stay in the slot as for any first part. The front checks only
   that each such range lies inside the window; which reply uses the window is the worker's
   business (a worker that shares it between two replies corrupts only its own replies).
   The worker must not reuse window bytes before their part is credited; since the last part
   is never credited, a reply that used the window publishes its last part (RB_RESP_END, with
   or without RB_RESP_ABORT) only once every earlier part was credited, with no body bytes in
   the window. The window is not prefaulted: an idle worker's memory is the slots'. */
/* "No length declared": never a valid declared length (one at or above 2^63 breaks the
   channel). Spelled out rather than UINT64_MAX so that Swift imports it. */
#define RB_LENGTH_UNDECLARED 0xFFFFFFFFFFFFFFFFULL

/* Streamed request bodies (ABI version 2).
   A request whose body does not fit its slot is dispatched as soon as its head is complete,
   with RB_REQ_BODY_STREAM set and an empty rb_request_head.body. The slot then has a body
   window between the request bytes and reply_offset: [align16(length), reply_offset). The
   front reads the body from the client as the worker takes it and writes it into the window
   in parts (RB_REQ_BODY_PART, de-chunked when the client sent chunked framing), each inside
   the window; at most RB_BODY_PARTS_IN_FLIGHT parts are unacknowledged. The worker copies a
   part out (or uses it in place) and acknowledges it (RB_RESP_BODY_TAKEN), parts in order; the
   front then reuses that memory. The last part has RB_REQ_BODY_END. A worker may reply before
   it read the whole body: the front stops reading it and closes the connection after the
   reply. An acknowledgement with no part outstanding breaks the channel.
   Where parts go: the window is split into two halves of half = ((reply_offset -
   align16(length)) / 2) rounded down to a multiple of 16 bytes (at least 1024, else the
   request is invalid); part n of a body (counting from 0) starts at align16(length) + (n mod 2)
   * half and is at most `half` bytes long. So the worker checks each part's place without
   more shared state, and acknowledging part n frees exactly its half. Every part is
   acknowledged, the last one too, and only while the request is not answered: after the
   final reply (RB_RESP_FINAL) the slot is the front's, and an acknowledgement for it breaks
   the channel. Parts the front pushed before it saw that reply may still reach the worker:
   parts naming the request id of the slot's last request, already answered, are dropped
   (their ring entries precede the slot's next request). RB_REQ_BODY_ABORTED parts have
   length 0. While a body streams, the request timeout runs from the last part sent or
   acknowledged, not from dispatch. A request with a streamed body is never moved to another
   worker (no copy of its body exists): if its worker dies, the client gets 502 before any
   reply header went out, else a closed connection. */
#define RB_BODY_PARTS_IN_FLIGHT 2u

/* Slot claims (ABI version 3).
   A request the worker has not begun can still move to another worker: a slow handler must
   not hold up requests that wait behind it in its ring while another worker idles. Each slot
   has a claim word (rb_slot_claim, at claims_offset, one per slot in slot order). Before it
   publishes a new request the front stores the descriptor's request_id there. The worker
   claims the request before it reads the slot or runs a handler, with one compare-and-swap
   from request_id to ~request_id; only a request it claimed is its own. The front may revoke
   a request not yet claimed with a compare-and-swap from request_id to 0, and runs it
   elsewhere; then the worker's claim fails, and it drops the descriptor without touching the
   slot (the front may already be writing the slot's next request). Exactly one side wins.
   Descriptor request ids are never reused, so a stale descriptor can never claim a later
   request of the same slot. The front reuses a revoked slot only once the worker's request
   ring tail has passed the revoked descriptor, so the ring bound below still holds. A request
   with RB_REQ_BODY_STREAM is claimed when it is taken from the ring and never revoked. If the
   worker dies, its claimed requests fail (they may have had effects) and the others run
   elsewhere. The front trusts a claim word only as far as "not claimed": any value other than
   the request_id it stored means the worker has the request. */
typedef struct rb_slot_claim {
  uint64_t word;
  uint8_t pad[RB_LINE - 8]; /* one claim per line: the two sides write neighbouring claims */
} rb_slot_claim;

/* Ring entries per slot: a request, its body parts and reply credits in flight (1 + 2 + 2)
   front to worker; reply parts, the last part and body acknowledgements (2 + 1 + 2) back. One
   more entry carries the shutdown message. Ring capacities are the next power of two of
   RB_RING_ENTRIES_PER_SLOT * slot_count + 1, so a ring is never full while the protocol holds. */
#define RB_RING_ENTRIES_PER_SLOT 5u

/* Address families (rb_endpoint.family): ABI values, not the platform's AF_* numbers. */
enum {
  RB_FAMILY_IPV4 = 4,
  RB_FAMILY_IPV6 = 6
};

/* Schemes (rb_request_head.scheme). The front speaks plain HTTP today; HTTPS is defined so that
   a TLS front needs no new ABI version. */
enum {
  RB_SCHEME_HTTP = 1,
  RB_SCHEME_HTTPS = 2
};

/* A byte range inside one slot, relative to the slot start. */
typedef struct rb_span {
  uint32_t offset;
  uint32_t length;
} rb_span;

/* Front → worker: one request. 32 bytes, so two share a 64-byte line. The worker finds all it
   needs to reply here, without touching the slot: every dependent cache miss counts in a hop
   that costs ~130 ns per line round trip. */
typedef struct rb_request_descriptor {
  uint32_t slot;           /* slot index over all size classes */
  uint32_t length;         /* request bytes used from the slot start (rb_request_head first) */
  uint64_t request_id;     /* front-chosen; the response must echo it */
  uint32_t generation;     /* channel generation */
  uint32_t flags;          /* RB_REQ_* */
  uint32_t reply_offset;   /* where the reply's header lines go; 16-aligned, after the request
                              (and its body window); for RB_REQ_BODY_PART the part's offset */
  uint32_t reply_capacity; /* bytes from reply_offset to the slot end; 0 for credits and parts */
} rb_request_descriptor;

/* Worker → front: a finished reply (or one part of it, or a body acknowledgement) in the slot
   of the request it answers. Carrying status and ranges here means the front reads them once,
   from its own copy, before checking them. */
typedef struct rb_response_descriptor {
  uint32_t slot;
  uint32_t status;        /* 200..599; 0 on later parts of a streamed reply */
  uint64_t request_id;
  uint32_t header_length; /* "Name: value\r\n" lines starting at the request's reply_offset */
  uint32_t flags;         /* RB_RESP_* */
  uint32_t body_offset;   /* from the slot start; at or after the header lines' end */
  uint32_t body_length;
} rb_response_descriptor;

/* Control block of one SPSC ring. Each index on its own RB_LINE line (rule 1 of DESIGN.md).
   Indices increase monotonically; entry i lives at entries[i & (capacity - 1)].
   Lines are separated by explicit padding (not _Alignas, which FFIs such as Swift's cannot
   import); every ring starts on a page boundary. */
typedef struct rb_ring_control {
  uint64_t head; /* written by the producer only: one past the last entry published */
  uint8_t head_pad[RB_LINE - 8];
  uint64_t tail; /* written by the consumer only: one past the last entry consumed */
  uint8_t tail_pad[RB_LINE - 8];
  uint32_t wake_word;         /* futex word: the producer bumps it to wake a sleeper */
  uint32_t consumer_sleeping; /* consumer sets 1 before it waits, 0 when it runs */
  uint8_t wake_pad[RB_LINE - 8];
} rb_ring_control;

/* Slots of one size class: slot_count slots of slot_size bytes each at arena_offset. */
typedef struct rb_slot_class {
  uint32_t slot_size;
  uint32_t slot_count;
  uint32_t first_slot; /* global index of this class's first slot */
  uint32_t reserved;
  uint64_t arena_offset;
} rb_slot_class;

/* Counters written by the front only (rule 5: one writer per counter). */
typedef struct rb_front_counters {
  uint64_t requests_dispatched;
  uint64_t replies_completed;
  uint64_t errors; /* 5xx produced for this channel, and invalid writes by the worker */
  uint64_t bytes_in;  /* request bytes written into slots */
  uint64_t bytes_out; /* reply bytes read from slots */
  uint64_t restarts;  /* how many workers this channel has had, minus one */
  uint64_t slots_in_use;
  uint64_t last_progress_ns; /* CLOCK_MONOTONIC of the last completed reply */
  uint64_t latency_ns[RB_LATENCY_BUCKETS];
  /* CLOCK_MONOTONIC since which the oldest request still with the worker (taken or waiting in
     its ring) has waited for its reply, or for its next part or credit once it streams; 0
     while the worker holds none. Updated every 100 ms: what `ringstat --check` calls stuck. */
  uint64_t oldest_request_ns;
  uint64_t requests_revoked; /* taken back unclaimed and run elsewhere (see "Slot claims") */
  uint8_t pad[RB_LINE - 16];
} rb_front_counters; /* 48 * 8 bytes, then a line of its own: four lines */

/* Counters written by the worker only. The front never trusts them; ringstat shows them. */
typedef struct rb_worker_counters {
  uint64_t requests_taken;
  uint64_t replies_published;
  uint64_t wakeups; /* times the worker slept and was woken */
  uint32_t pid;     /* as the worker sees itself */
  uint32_t late_wakeups; /* sleeps that ran out while a request was already waiting: lost wake-ups */
  uint8_t pad[RB_LINE - 32];
} rb_worker_counters;

/* The segment header, at offset 0. Fields above `front` are written once by the front before
   the worker attaches and never change while it is attached. */
typedef struct rb_channel_header {
  uint64_t magic;
  uint32_t abi_version;
  uint32_t header_size; /* sizeof(rb_channel_header) */
  uint64_t segment_size;
  uint32_t request_capacity;  /* entries, power of two */
  uint32_t response_capacity; /* entries, power of two */
  uint64_t request_ring_offset;  /* rb_ring_control, then request_capacity descriptors */
  uint64_t response_ring_offset; /* rb_ring_control, then response_capacity descriptors */
  uint32_t slot_class_count;
  uint32_t slot_count; /* over all classes */
  rb_slot_class slot_classes[RB_MAX_SLOT_CLASSES];
  uint32_t worker_id;    /* index of this channel in its broker */
  uint32_t worker_pid;   /* written by the front when it spawns or attaches the worker */
  int32_t numa_node;
  int32_t cpu;           /* CPU the worker is pinned to, or -1 for its node's CPU set */
  uint32_t generation;   /* bumped each time a new worker takes over this channel */
  uint32_t state;        /* RB_STATE_* */
  uint32_t broker_pid;
  uint32_t reserved0;
  uint64_t created_ns;   /* CLOCK_MONOTONIC when this worker's generation started */
  uint64_t claims_offset; /* rb_slot_claim[slot_count], page-aligned (see "Slot claims") */
  uint64_t stream_window_offset; /* page-aligned, after the slots (see "Stream window") */
  uint32_t stream_window_size;   /* bytes, a multiple of RB_PAGE; 0: no window */
  uint32_t reserved1;            /* 0 */
  uint8_t fixed_pad[RB_LINE * 2 - 216]; /* the fields above take 216 bytes */
  rb_front_counters front; /* own lines: written only by the front */
  rb_worker_counters worker; /* own line: written only by the worker */
} rb_channel_header;

/* One end of a client connection. One form for both families, so that readers need no union:
   the address is always 16 bytes in IPv6 form, an IPv4 address as IPv4-mapped (::ffff:a.b.c.d,
   bytes 10 and 11 0xff, the four IPv4 bytes last). An IPv4 client of a dual-stack IPv6 socket
   is reported as RB_FAMILY_IPV4. */
typedef struct rb_endpoint {
  uint8_t address[16]; /* network byte order */
  uint16_t port;       /* host byte order */
  uint16_t family;     /* RB_FAMILY_* */
  uint32_t reserved;   /* 0 */
} rb_endpoint;

/* Laid out by the front at the start of a request slot; the raw request bytes follow. All spans
   are relative to the slot start and lie inside the slot. The front keeps its own copy of all
   it writes into a slot and moves a request to another worker from that copy only, so a
   worker that rewrites a request it never took changes nothing. */
typedef struct rb_request_head {
  uint32_t request_size;   /* bytes used from the slot start, this struct included */
  uint32_t header_count;   /* rb_header entries following this struct */
  rb_span method;
  rb_span target;          /* as sent: path plus optional ?query */
  rb_span path;
  rb_span query;           /* without the '?'; length 0 when absent */
  rb_span body;            /* the decoded body (chunked bodies are de-chunked) */
  uint32_t http_version;   /* 10 or 11 */
  uint32_t flags;          /* RB_REQ_* */
  /* Request metadata (ABI version 2). The front reads the addresses once per connection, at
     accept; nothing here costs a syscall per request. */
  uint64_t request_id;       /* unique among the requests of one broker process, never 0: the
                                front thread's index in the top 8 bits, that thread's count of
                                dispatched requests below. Equal to the request descriptor's
                                request_id when first dispatched; a request moved to another
                                worker after its worker died keeps it (its descriptor gets a new
                                one) */
  uint64_t received_unix_ns; /* CLOCK_REALTIME when the front found the request head complete */
  rb_endpoint remote;        /* the client (the peer of the connection) */
  rb_endpoint local;         /* the broker's end of the connection (its listen address and port) */
  uint32_t scheme;           /* RB_SCHEME_* */
  uint32_t reserved;         /* 0; keeps the head a multiple of 8 bytes */
} rb_request_head;

/* One request header; name and value spans point into the raw bytes. */
typedef struct rb_header {
  rb_span name;
  rb_span value;
} rb_header;

/* A latency histogram: bucket i counts observations in [2^i, 2^(i+1)) ns (0 ns counts in
   bucket 0), `sum_ns` adds them all up: what a Prometheus histogram needs (_bucket, _sum,
   _count). One writer; readers see each field torn-free (aligned 64-bit stores) but the fields
   of one histogram only roughly in step. rb_histogram_observe (ringsys.h) records one value. */
typedef struct rb_histogram {
  uint64_t count;
  uint64_t sum_ns;
  uint64_t buckets[RB_LATENCY_BUCKETS];
} rb_histogram;

/* Reply status classes counted in rb_front_stats.replies: index 0 is 1xx … index 4 is 5xx. */
#define RB_STATUS_CLASSES 5u

/* One front thread's counters, written by that thread only (the front loop and its handler run
   on it), in the broker info memfd at `front_stats_offset`, one per front thread. Counters only
   grow; gauges (marked) go up and down. Read by ringstat and the admin endpoint (/metrics). */
typedef struct rb_front_stats {
  uint64_t connections_accepted;
  uint64_t connections_rejected;  /* closed at once: over --max-connections, or while stopping */
  uint64_t connections_open;      /* gauge */
  uint64_t requests;              /* request heads complete */
  uint64_t requests_in_flight;    /* gauge: handed to the handler, reply not queued yet */
  uint64_t requests_queued;       /* gauge: waiting in the front for a free worker */
  uint64_t replies[RB_STATUS_CLASSES]; /* queued replies by status class, the front's own too */
  uint64_t replies_502;           /* the worker's reply was refused, or the worker died */
  uint64_t replies_503;           /* no worker in time (--queue-timeout) or none at all */
  uint64_t replies_504;           /* the worker took longer than --timeout */
  uint64_t bytes_received;        /* from clients, heads and bodies */
  uint64_t bytes_sent;            /* to clients */
  uint64_t framing_errors;        /* malformed requests answered by the front (4xx/5xx) */
  uint64_t header_timeouts;       /* 408: the head did not arrive in time */
  uint64_t idle_timeouts;         /* keep-alive connections closed idle */
  uint64_t send_timeouts;         /* clients that stopped reading their reply */
  uint64_t idle_reclaimed;        /* idle connections closed at --max-connections for a new one */
  uint64_t copy_sends;
  uint64_t zero_copy_sends;
  uint64_t workers_crash_looping; /* gauge: this thread's workers waiting out a respawn backoff */
  uint64_t reload_failures;       /* successors that exited before they were ready (old kept) */
  uint64_t reload_failing;        /* gauge: 1 from a failed reload until a successor is ready */
  uint64_t pad0[6];                /* the histograms start on the third line */
  rb_histogram queue_wait;        /* head complete until handed to a worker (or answered) */
  rb_histogram reply_latency;     /* head complete until the reply head was queued */
  uint8_t pad1[RB_LINE - (2 * sizeof(rb_histogram)) % RB_LINE];
} rb_front_stats;

/* Broker states (rb_broker_info.state). */
enum { RB_BROKER_RUNNING = 0, RB_BROKER_DRAINING = 1 };

/* One per broker: a small memfd named "ringbroker-info" that says who the broker is, so that
   ringstat can list brokers from /proc/PID/fd without any file on disk. Written by the broker;
   `channel_count`, `state` and `updated_ns` change while it runs, the rb_front_stats after it
   all the time. Magic "RBKINF2": version 2 added everything from `state` on (ringstat refuses
   a broker whose info has another magic, whatever its channel ABI version). */
#define RB_INFO_MAGIC 0x32464E494B5242ULL /* "RBKINF2" */
typedef struct rb_broker_info {
  uint64_t magic;
  uint32_t abi_version;
  uint32_t broker_pid;
  char name[64];           /* --name, default "ringbroker" */
  char listen[64];         /* "127.0.0.1:8080" */
  char control_socket[108];/* path of the control socket, "" when none */
  uint32_t channel_count;  /* worker channels currently open */
  uint32_t worker_target;  /* --workers */
  uint64_t started_unix_ns;/* CLOCK_REALTIME at start */
  uint64_t started_ns;     /* CLOCK_MONOTONIC at start */
  uint64_t updated_ns;     /* CLOCK_MONOTONIC of the last change */
  uint32_t state;          /* RB_BROKER_* */
  uint32_t front_threads;  /* rb_front_stats that follow, one per front thread */
  uint64_t front_stats_offset; /* from the memfd start, RB_LINE-aligned */
} rb_broker_info;

/* Layout checks: a mismatch here is a compile error, not a silent ABI break. */
_Static_assert(sizeof(rb_request_descriptor) == 32, "request descriptors are 32 bytes");
_Static_assert(sizeof(rb_response_descriptor) == 32, "response descriptors are 32 bytes");
_Static_assert(sizeof(rb_endpoint) == 24, "rb_endpoint is 24 bytes");
_Static_assert(sizeof(rb_request_head) == 128, "rb_request_head is 128 bytes: two 64-byte lines");
_Static_assert(__builtin_offsetof(rb_request_head, request_id) == 56, "metadata follows the v1 fields");
_Static_assert(__builtin_offsetof(rb_request_head, remote) == 72, "endpoints are 8-aligned");
_Static_assert(__builtin_offsetof(rb_request_head, local) == 96, "endpoints are 8-aligned");
_Static_assert(sizeof(rb_request_head) % 8 == 0, "the header table after the head stays 8-aligned");
_Static_assert(sizeof(rb_ring_control) == 3 * RB_LINE, "ring control is three lines");
_Static_assert(sizeof(rb_span) == 8, "rb_span is 8 bytes");
_Static_assert(sizeof(rb_front_counters) == 4 * RB_LINE, "front counters fill four lines");
_Static_assert(sizeof(rb_slot_claim) == RB_LINE, "one claim per line");
_Static_assert(__builtin_offsetof(rb_channel_header, front) == 2 * RB_LINE, "front counters on their own lines");
_Static_assert(__builtin_offsetof(rb_channel_header, worker) == 6 * RB_LINE, "worker counters on their own line");
_Static_assert(sizeof(rb_channel_header) == 7 * RB_LINE, "header is seven lines");
_Static_assert(__builtin_offsetof(rb_channel_header, stream_window_offset) == 200, "the stream window fields follow claims_offset");
_Static_assert(__builtin_offsetof(rb_front_stats, queue_wait) == 2 * RB_LINE, "counters fill two lines");
_Static_assert(sizeof(rb_front_stats) == 8 * RB_LINE, "front stats of two threads never share a line");

#endif
