#!/usr/bin/env bash
# Two ringbroker builds side by side under the same load: did a change cost anything on the
# request path? `wrk -t1 -c$CONNECTIONS` on hello world against OLD and NEW, started with the
# same ARGS, alternating rounds so that drift on a shared machine hits both alike; medians,
# spread and the ratio new/old. Each build runs its own ringworker-lua (next to the binary).
#
#   git worktree add /tmp/old HEAD~5 && (cd /tmp/old && swift build -c release)
#   OLD=/tmp/old/.build/release/ringbroker NEW=.build/release/ringbroker bench/compare-builds.sh
#   ARGS="--workers 2 workers/lua/examples/hello.lua" OLD=... NEW=... bench/compare-builds.sh
#
# Env: OLD, NEW (binaries; required), ARGS (--inline), ROUNDS (5), DURATION (5s), WARMUP (1s),
# CONNECTIONS (50). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

: "${OLD:?set OLD to the ringbroker binary to compare against}" "${NEW:?set NEW}"
: "${ARGS:=--inline}" "${ROUNDS:=5}" "${DURATION:=5s}" "${WARMUP:=1s}" "${CONNECTIONS:=50}"

require_wrk
make_work_dir

# run NAME BINARY: one measurement, appended to NAME's result file.
run() {
  local name=$1 binary=$2
  start_broker "$binary" "$ARGS" || return 1
  local url="http://127.0.0.1:$PORT/"
  expect_hello "$url" "$name" || return 1
  wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
  local out
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "$url")
  stop_server
  echo "round $round $name: $(wrk_rps "$out") req/s $(wrk_errors "$out")" >&2
  wrk_rps "$out" >>"$WORK/result-$name"
}

for round in $(seq 1 "$ROUNDS"); do
  # Alternate which goes first, so neither always runs on a warmer (or busier) machine.
  if ((round % 2)); then order="old new"; else order="new old"; fi
  for name in $order; do
    binary=$OLD
    [[ $name == new ]] && binary=$NEW
    run "$name" "$binary" || echo "round $round: $name failed" >&2
  done
done

echo
echo "wrk -t1 -c$CONNECTIONS, $DURATION, medians of $ROUNDS rounds; ringbroker $ARGS"
printf "%-6s %10s %9s\n" build req/s spread
declare -A RPS=()
for name in old new; do
  file="$WORK/result-$name"
  [[ -s $file ]] || { printf "%-6s %10s\n" "$name" failed; continue; }
  RPS[$name]=$(median <"$file")
  printf "%-6s %10.0f %9s\n" "$name" "${RPS[$name]}" "$(spread "${RPS[$name]}" <"$file")"
done
if [[ -n ${RPS[old]:-} && -n ${RPS[new]:-} ]]; then
  awk -v a="${RPS[new]}" -v b="${RPS[old]}" 'BEGIN { printf "ratio new/old: %.3f\n", a / b }'
fi
