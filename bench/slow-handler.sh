#!/usr/bin/env bash
# Head-of-line blocking: do fast requests wait behind a slow one? The broker runs 2 workers;
# SLOW clients (default 1) keep a slow request in flight all the time (each a loop of curl, one
# request after another, each holding its worker SLOW_MS ms), and meanwhile
# `wrk -t1 -c50 --latency` measures the fast requests on `/`. Two targets, alternating in each
# round:
#
#   c-worker  ringbroker --workers 2 --worker workers/c-hello/hello-worker, slow: /sleep?ms=N
#             (nanosleep in the handler)
#   lua       ringbroker --workers 2 bench/apps/slow.lua, slow: /slow?ms=N (poll(2) in the
#             handler; LUA_SLOW_PATH=/spin busy-waits on os.clock() instead)
#
# The table shows the fast requests' p50, p99 and max latency and req/s (medians over the
# rounds) and how many slow replies came back meanwhile. Goal: fast p99 < 10 ms (must: < 50
# ms). A dispatcher that keeps handing requests to the busy worker shows a p99 near SLOW_MS.
#
#   bench/slow-handler.sh
#   ROUNDS=5 DURATION=10s bench/slow-handler.sh
#   SLOW=2 SLOW_MS=500 bench/slow-handler.sh    # SLOW >= WORKERS busies every worker
#   BROKER=/path/to/ringbroker bench/slow-handler.sh     # skip the build
#
# Env: ROUNDS (3), DURATION (5s), WARMUP (1s), CONNECTIONS (fast connections, 50), SLOW (1),
# SLOW_MS (1000), WORKERS (2), LUA_SLOW_PATH (/slow), BROKER, SCRATCH (.build), EXTRA_ARGS
# (added to every broker command line).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
CONNECTIONS=${CONNECTIONS:-50}
SLOW=${SLOW:-1}
SLOW_MS=${SLOW_MS:-1000}
WORKERS=${WORKERS:-2}
LUA_SLOW_PATH=${LUA_SLOW_PATH:-/slow}
SCRATCH=${SCRATCH:-.build}
BROKER=${BROKER:-}
EXTRA_ARGS=${EXTRA_ARGS:-}

require_wrk
ensure_broker
build_c_hello
make_work_dir
SLOW_PIDS=()
trap 'stop_slow; stop_server; rm -rf "$WORK"' EXIT

# Starts SLOW loops, each sending `$1` again as soon as its last reply came back, and counting
# the replies that said "slept" in $WORK/slow-done.
start_slow() {
  : >"$WORK/slow-done"
  SLOW_PIDS=()
  for _ in $(seq 1 "$SLOW"); do
    (
      curl="" reply="$WORK/slow-reply-$BASHPID"
      trap '[[ -z $curl ]] || kill "$curl" 2>/dev/null; exit 0' TERM
      while :; do
        curl -s --max-time 60 "$1" >"$reply" &
        curl=$!
        wait "$curl" || true
        if grep -q slept "$reply" 2>/dev/null; then echo >>"$WORK/slow-done"; fi
      done
    ) &
    SLOW_PIDS+=($!)
  done
}

stop_slow() {
  local pid
  for pid in "${SLOW_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SLOW_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  SLOW_PIDS=()
}

TARGETS=(
  "c-worker|--workers $WORKERS --worker workers/c-hello/hello-worker|/sleep?ms=$SLOW_MS"
  "lua|--workers $WORKERS bench/apps/slow.lua|$LUA_SLOW_PATH?ms=$SLOW_MS"
)

# run TARGET: starts the broker, warms up, starts the slow clients, measures the fast ones;
# appends "req/s p50 p99 max slow-replies" (latencies in us) to the target's result file.
run() {
  local name=${1%%|*} rest=${1#*|}
  local args=${rest%%|*} slow_path=${rest#*|}
  PORT=$(free_port)
  start_broker "$BROKER" "$args $EXTRA_ARGS" || return 1
  local url="http://127.0.0.1:$PORT/"
  expect_hello "$url" "$name" || return 1
  wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
  start_slow "http://127.0.0.1:$PORT$slow_path"
  sleep 0.2  # the slow requests reach their workers
  local out rps p50 p99 max slow_done errors
  # A fast request stuck behind a slow one takes about SLOW_MS: wrk's default 2 s timeout
  # would leave the worst out of the latencies.
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency "$url")
  stop_slow
  stop_server
  slow_done=$(wc -l <"$WORK/slow-done")
  rps=$(wrk_rps "$out")
  p50=$(wrk_latency_us 50% "$out") || { echo "$name: wrk got no replies" >&2; return 1; }
  p99=$(wrk_latency_us 99% "$out")
  max=$(wrk_latency_us max "$out")
  errors=$(wrk_errors "$out")
  echo "round $round $name: $rps req/s, p50 $(us_to_ms "$p50") ms, p99 $(us_to_ms "$p99") ms," \
    "max $(us_to_ms "$max") ms, $slow_done slow replies ${errors:+($errors)}" >&2
  echo "$rps $p50 $p99 $max $slow_done" >>"$WORK/result-$name"
}

for round in $(seq 1 "$ROUNDS"); do
  for target in "${TARGETS[@]}"; do
    run "$target" || echo "round $round: ${target%%|*} failed" >&2
  done
done

echo
echo "fast: wrk -t1 -c$CONNECTIONS $DURATION on /; slow: $SLOW client(s) of ${SLOW_MS} ms;" \
  "$WORKERS workers; medians of $ROUNDS rounds"
printf "%-9s %10s %10s %10s %10s %6s\n" target "req/s" "p50 (ms)" "p99 (ms)" "max (ms)" slow
declare -A P99=()
for target in "${TARGETS[@]}"; do
  name=${target%%|*} file="$WORK/result-${target%%|*}"
  if [[ ! -s $file ]]; then
    printf "%-9s %10s\n" "$name" failed
    continue
  fi
  field() { awk -v k="$1" '{ print $k }' "$file" | median; }
  P99[$name]=$(field 3)
  printf "%-9s %10.0f %10s %10s %10s %6s\n" "$name" "$(field 1)" "$(us_to_ms "$(field 2)")" \
    "$(us_to_ms "${P99[$name]}")" "$(us_to_ms "$(field 4)")" "$(field 5)"
done
echo
echo "goal: fast p99 < 10 ms (must: < 50 ms)"
for target in "${TARGETS[@]}"; do
  name=${target%%|*}
  [[ -n ${P99[$name]:-} ]] || continue
  awk -v n="$name" -v p="${P99[$name]}" 'BEGIN {
    printf "%-9s p99 %.2f ms: %s\n", n, p / 1000, p < 10000 ? "meets the goal" : p < 50000 ? "meets the must, not the goal" : "MISSES the must"
  }'
done
