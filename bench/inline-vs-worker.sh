#!/usr/bin/env bash
# What the hop to a worker costs: wrk against the same front answering inline and through one
# worker process (workers/c-hello). Rounds alternate between the targets so that drift on a
# shared machine hits both alike; the table shows the median of the rounds and the ratios
# worker/inline, lua/inline and lua/worker (budgets: C worker >= 0.90 x inline, Lua >= 0.85 x C).
#
#   bench/inline-vs-worker.sh
#   DURATION=10s ROUNDS=5 CONNECTIONS=100 bench/inline-vs-worker.sh
#   BROKER=/path/to/ringbroker bench/inline-vs-worker.sh      # skip the build
#   BASELINE=/path/to/old/ringbroker bench/inline-vs-worker.sh  # also the C and Lua workers
#                                   # through an older build, in the same rounds (what a change costs);
#                                   # BASELINE_WORKER: a C worker built against that build's
#                                   # libringworker when its ABI version differs
#
# A target whose broker does not start (e.g. worker mode not built yet) is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-50}
WRK_THREADS=${WRK_THREADS:-2}
SCRATCH=${SCRATCH:-.build}
BROKER=${BROKER:-}
BASELINE=${BASELINE:-}
BASELINE_WORKER=${BASELINE_WORKER:-workers/c-hello/hello-worker}
EXTRA_ARGS=${EXTRA_ARGS:-}   # added to every broker command line, e.g. "--threads 2"

TARGETS=(
  "inline|--inline"
  "worker|--workers 1 --worker workers/c-hello/hello-worker"
  "lua|--workers 1 workers/lua/examples/hello.lua"
)
if [[ -n "$BASELINE" ]]; then
  TARGETS+=(
    "worker-base|--workers 1 --worker $BASELINE_WORKER"
    "lua-base|--workers 1 workers/lua/examples/hello.lua"
  )
fi

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [[ -z "$BROKER" ]]; then
  echo "building ringbroker (release)..." >&2
  swift build -c release --scratch-path "$SCRATCH" --product ringbroker >&2
  BROKER="$SCRATCH/release/ringbroker"
fi
if [[ -f workers/c-hello/Makefile ]]; then make -s -C workers/c-hello >&2 || true; fi

WORK=$(mktemp -d)
BROKER_PID=""
cleanup() {
  if [[ -n "$BROKER_PID" ]]; then kill -KILL "$BROKER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts the broker with the given arguments on a free port; sets PORT and BROKER_PID, or
# returns 1 (with the broker's own message on stderr) when it does not become ready.
# The second argument picks the binary (default $BROKER). Each broker gets its own name and
# control socket, so that none meets a broker already running on this machine.
start_broker() {
  local log="$WORK/broker.log"
  local binary=${2:-$BROKER}
  # shellcheck disable=SC2086 # the argument strings are word lists on purpose
  "$binary" $1 $EXTRA_ARGS --listen 127.0.0.1:0 --name "bench-$$" --control "$WORK/control.sock" \
    2>"$log" &
  BROKER_PID=$!
  for _ in $(seq 1 200); do
    if grep -q "listening on" "$log"; then
      PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$log" | head -1)
      return 0
    fi
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then break; fi
    sleep 0.05
  done
  sed 's/^/    /' "$log" >&2
  kill -KILL "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
  return 1
}

stop_broker() {
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
}

# wrk latency ("462.00us", "1.20ms", "2.00s") in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n
  }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print a[int((NR + 1) / 2)] }'; }

declare -A SKIPPED=()
for round in $(seq 1 "$ROUNDS"); do
  for target in "${TARGETS[@]}"; do
    name=${target%%|*}
    args=${target#*|}
    [[ -n "${SKIPPED[$name]:-}" ]] && continue
    binary=$BROKER
    [[ $name == *-base ]] && binary=$BASELINE
    if ! start_broker "$args" "$binary"; then
      echo "skipping $name: ringbroker $args did not start" >&2
      SKIPPED[$name]=1
      continue
    fi
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d1s "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true  # warm-up
    out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/")
    stop_broker
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
    p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
    echo "round $round $name: $rps req/s, p50 ${p50} us, p99 ${p99} us ${errors:+($errors)}" >&2
    echo "$rps $p50 $p99" >>"$WORK/$name"
  done
done

echo
printf "%-8s %12s %10s %10s\n" target "req/s" "p50 (us)" "p99 (us)"
declare -A RPS=()
for target in "${TARGETS[@]}"; do
  name=${target%%|*}
  if [[ ! -s "$WORK/$name" ]]; then
    printf "%-8s %12s\n" "$name" "skipped"
    continue
  fi
  RPS[$name]=$(awk '{ print $1 }' "$WORK/$name" | median)
  printf "%-8s %12.0f %10.0f %10.0f\n" "$name" "${RPS[$name]}" \
    "$(awk '{ print $2 }' "$WORK/$name" | median)" "$(awk '{ print $3 }' "$WORK/$name" | median)"
done
ratio() {  # ratio NAME OTHER: NAME's req/s over OTHER's, when both ran
  if [[ -n "${RPS[$1]:-}" && -n "${RPS[$2]:-}" ]]; then
    awk -v a="${RPS[$1]}" -v b="${RPS[$2]}" -v n="$1/$2" 'BEGIN { printf "ratio %s: %.3f\n", n, a / b }'
  else
    echo "ratio $1/$2: n/a (a target was skipped)"
  fi
}
ratio worker inline
ratio lua inline
ratio lua worker
if [[ -n "$BASELINE" ]]; then
  ratio worker worker-base
  ratio lua lua-base
fi
