import RingStatus

/// GET /metrics: every `ringbroker_*` metric, from one BrokerReport (the same shared-memory
/// counters ringstat reads; nothing here touches the request path). The README's "Metrics"
/// table lists them; keep the two together.
enum MetricsExposition {
  static func render(_ report: BrokerReport) -> String {
    var out = PrometheusText()
    let front = report.front
    let info = report.info
    out.family(
      "ringbroker_info", .gauge, help: "Always 1; the labels say which broker this is.",
      [([("name", info.name), ("listen", info.listen)], 1)])
    out.family(
      "ringbroker_start_time_seconds", .gauge, help: "When the broker started (Unix time).",
      info.startedUnixNs / 1_000_000_000)
    out.family(
      "ringbroker_draining", .gauge, help: "1 while the broker stops: it takes no new requests.",
      info.draining ? 1 : 0)

    out.family(
      "ringbroker_connections_accepted_total", .counter, help: "Client connections accepted.",
      front.connectionsAccepted)
    out.family(
      "ringbroker_connections_rejected_total", .counter,
      help: "Connections closed at once: over --max-connections, or while stopping.",
      front.connectionsRejected)
    out.family(
      "ringbroker_connections_open", .gauge, help: "Client connections open now.",
      front.connectionsOpen)
    out.family(
      "ringbroker_requests_total", .counter, help: "Complete request heads read from clients.",
      front.requests)
    out.family(
      "ringbroker_requests_in_flight", .gauge,
      help: "Requests handed over whose reply has not been queued yet (queued ones included).",
      front.requestsInFlight)
    out.family(
      "ringbroker_requests_queued", .gauge,
      help: "Requests waiting in the front for a worker with room.", front.requestsQueued)
    out.family(
      "ringbroker_responses_total", .counter,
      help: "Responses by status class, the broker's own (4xx, 502, 503, 504) included.",
      front.replies.sorted { $0.key < $1.key }.map { ([("class", $0.key)], $0.value) })
    out.family(
      "ringbroker_gateway_errors_total", .counter,
      help:
        "Responses the broker gave for its workers: 502 (invalid reply, worker died), "
        + "503 (no worker in time, --queue-timeout), 504 (worker too slow, --timeout).",
      [
        ([("code", "502")], front.replies502), ([("code", "503")], front.replies503),
        ([("code", "504")], front.replies504),
      ])
    out.family(
      "ringbroker_malformed_requests_total", .counter,
      help: "Malformed requests the broker answered itself (400, 408, 413, 414, 431, 501...).",
      front.framingErrors)
    out.family(
      "ringbroker_client_timeouts_total", .counter,
      help:
        "Connections timed out: head too slow (header, 408), idle keep-alive (idle), "
        + "client not reading its reply (send).",
      [
        ([("kind", "header")], front.headerTimeouts), ([("kind", "idle")], front.idleTimeouts),
        ([("kind", "send")], front.sendTimeouts),
      ])
    out.family(
      "ringbroker_received_bytes_total", .counter, help: "Bytes read from clients.",
      front.bytesReceived)
    out.family(
      "ringbroker_sent_bytes_total", .counter, help: "Bytes sent to clients.", front.bytesSent)
    out.histogram(
      "ringbroker_queue_wait_seconds",
      help: "From a complete request head until a worker got the request (or it got 503).",
      buckets: front.queueWait.buckets.buckets, sumNs: front.queueWait.sumNs)
    out.histogram(
      "ringbroker_response_latency_seconds",
      help: "From a complete request head until its response head was queued for sending.",
      buckets: front.replyLatency.buckets.buckets, sumNs: front.replyLatency.sumNs)

    out.family(
      "ringbroker_workers", .gauge, help: "Workers serving now.",
      UInt64(report.rows.filter { $0.state.isServing }.count))
    out.family(
      "ringbroker_workers_target", .gauge, help: "Workers the broker keeps alive (--workers).",
      UInt64(info.workerTarget))
    out.family(
      "ringbroker_workers_crash_looping", .gauge,
      help: "Workers that keep exiting young, waiting out a respawn backoff.",
      front.workersCrashLooping)
    out.family(
      "ringbroker_reload_failures_total", .counter,
      help:
        "New workers (reload, recycling) that exited before they were ready; the old kept serving.",
      front.reloadFailures)
    out.family(
      "ringbroker_reload_failing", .gauge,
      help: "1 from a failed reload until a new worker gets ready.", front.reloadFailing ? 1 : 0)
    workerFamilies(report, into: &out)
    return out.text
  }

  /// Per worker id (a worker being replaced and its successor have one id: summed).
  private static func workerFamilies(_ report: BrokerReport, into out: inout PrometheusText) {
    let ids = Array(Set(report.rows.map(\.workerID))).sorted()
    func perWorker(_ value: (ChannelSample) -> UInt64, combine: (UInt64, UInt64) -> UInt64 = (&+))
      -> [(labels: [(String, String)], value: UInt64)]
    {
      ids.map { id in
        let samples = report.rows.filter { $0.workerID == id }.compactMap(\.sample)
        return ([("worker", "\(id)")], samples.map(value).reduce(0, combine))
      }
    }
    out.family(
      "ringbroker_worker_up", .gauge, help: "1 while the worker serves.",
      ids.map { id in
        let up = report.rows.contains { $0.workerID == id && $0.state.isServing }
        return ([("worker", "\(id)")], up ? 1 : 0)
      })
    out.family(
      "ringbroker_worker_requests_total", .counter,
      help:
        "Replies the worker completed (its current channel; restarts from 0 with a new worker).",
      perWorker { $0.front.replies_completed })
    out.family(
      "ringbroker_worker_errors_total", .counter,
      help: "5xx answered for the worker's requests, and invalid writes by the worker.",
      perWorker { $0.front.errors })
    out.family(
      "ringbroker_worker_restarts_total", .counter,
      help: "How many times the worker was started again (crash, --timeout, recycling, reload).",
      perWorker({ $0.front.restarts }, combine: max))
    out.family(
      "ringbroker_worker_requests_revoked_total", .counter,
      help: "Requests taken back unbegun from the stalled worker and run elsewhere.",
      perWorker { $0.front.requests_revoked })
    out.family(
      "ringbroker_worker_received_bytes_total", .counter,
      help: "Request bytes written into the worker's slots.", perWorker { $0.front.bytes_in })
    out.family(
      "ringbroker_worker_sent_bytes_total", .counter,
      help: "Reply bytes read from the worker's slots.", perWorker { $0.front.bytes_out })
    out.family(
      "ringbroker_worker_slots_in_use", .gauge, help: "Slots holding a request now.",
      perWorker { $0.front.slots_in_use })
    out.family(
      "ringbroker_worker_slots", .gauge, help: "Slots of the worker's channel.",
      perWorker { UInt64($0.slotCount) })
    out.family(
      "ringbroker_worker_request_ring_depth", .gauge,
      help: "Descriptors in the request ring (front to worker) now.",
      perWorker { UInt64($0.requestDepth) })
    out.family(
      "ringbroker_worker_response_ring_depth", .gauge,
      help: "Descriptors in the response ring (worker to front) now.",
      perWorker { UInt64($0.responseDepth) })
    out.family(
      "ringbroker_worker_ring_capacity", .gauge, help: "Entries each ring of the worker holds.",
      perWorker({ UInt64($0.requestCapacity) }, combine: max))
  }
}
