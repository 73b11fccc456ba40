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
source bench/lib.sh

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

require_wrk
if [[ -z "$BROKER" ]]; then
  echo "building ringbroker (release)..." >&2
  swift build -c release --scratch-path "$SCRATCH" --product ringbroker >&2
  BROKER="$SCRATCH/release/ringbroker"
fi
if [[ -f workers/c-hello/Makefile ]]; then make -s -C workers/c-hello >&2 || true; fi

make_work_dir

declare -A SKIPPED=()
for round in $(seq 1 "$ROUNDS"); do
  for target in "${TARGETS[@]}"; do
    name=${target%%|*}
    args=${target#*|}
    [[ -n "${SKIPPED[$name]:-}" ]] && continue
    binary=$BROKER
    [[ $name == *-base ]] && binary=$BASELINE
    # shellcheck disable=SC2086 # EXTRA_ARGS is a word list on purpose
    if ! start_broker "$binary" "$args $EXTRA_ARGS"; then
      echo "skipping $name: ringbroker $args did not start" >&2
      SKIPPED[$name]=1
      continue
    fi
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d1s "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true  # warm-up
    out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/")
    stop_server
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
