#!/usr/bin/env bash
# What the access log costs: `wrk -t1 -c$CONNECTIONS` on hello world through the C hello
# worker (workers/c-hello), with the access log off and on (--access-log to a file in a
# temporary directory under /tmp, --access-log-format $FORMAT), alternating rounds so that
# drift on a shared machine hits both alike. Prints the medians over the rounds and the ratio
# on/off (the goal: at least 0.9), and for each "on" run how many lines it wrote against the
# requests wrk counted (the lines include the warm-up's and the reply check's).
#
#   bench/access-log.sh
#   ROUNDS=5 DURATION=10s FORMAT=json bench/access-log.sh
#   BROKER=/path/to/ringbroker bench/access-log.sh     # skip the build
#   DURATION=2s ROUNDS=1 bench/access-log.sh           # does it run at all
#
# Env: ROUNDS (3), DURATION (5s), WARMUP (1s), CONNECTIONS (50), WORKERS (2), FORMAT
# (combined), BROKER, SCRATCH (.build), EXTRA_ARGS (added to both broker command lines).
# Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

# The defaults of the environment above (BROKER and SCRATCH are ensure_broker's).
: "${ROUNDS:=3}" "${DURATION:=5s}" "${WARMUP:=1s}" "${CONNECTIONS:=50}" "${WORKERS:=2}"
: "${FORMAT:=combined}" "${EXTRA_ARGS:=}"

require_wrk
ensure_broker
build_c_hello
make_work_dir

# run MODE: starts a broker with the access log off or on, checks its reply, warms up,
# measures; appends req/s to the mode's result file.
run() {
  local mode=$1 args="--workers $WORKERS --worker workers/c-hello/hello-worker $EXTRA_ARGS"
  local log="$WORK/access.log"
  rm -f "$log"
  [[ $mode == on ]] && args="$args --access-log $log --access-log-format $FORMAT"
  PORT=$(free_port)
  start_broker "$BROKER" "$args" || return 1
  local url="http://127.0.0.1:$PORT/"
  expect_hello "$url" "$mode" || return 1
  wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
  local out rps errors lines=""
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "$url")
  stop_server  # flushes the access log
  rps=$(wrk_rps "$out")
  errors=$(wrk_errors "$out")
  if [[ $mode == on ]]; then
    lines=", $(wc -l <"$log") lines for $(awk '/requests in/ { print $1 }' <<<"$out") requests"
  fi
  echo "round $round access log $mode: $rps req/s$lines ${errors:+($errors)}" >&2
  echo "$rps" >>"$WORK/result-$mode"
}

for round in $(seq 1 "$ROUNDS"); do
  for mode in off on; do
    run "$mode" || echo "round $round: access log $mode failed" >&2
  done
done

echo
echo "wrk -t1 -c$CONNECTIONS, $DURATION, medians of $ROUNDS rounds; $WORKERS C hello workers; format $FORMAT"
printf "%-12s %10s %9s\n" "access log" "req/s" "spread"
declare -A RPS=()
for mode in off on; do
  file="$WORK/result-$mode"
  if [[ ! -s $file ]]; then
    printf "%-12s %10s\n" "$mode" failed
    continue
  fi
  RPS[$mode]=$(median <"$file")
  printf "%-12s %10.0f %9s\n" "$mode" "${RPS[$mode]}" "$(spread "${RPS[$mode]}" <"$file")"
done
if [[ -n ${RPS[on]:-} && -n ${RPS[off]:-} ]]; then
  awk -v a="${RPS[on]}" -v b="${RPS[off]}" 'BEGIN { printf "ratio on/off: %.3f (goal: at least 0.9)\n", a / b }'
fi
