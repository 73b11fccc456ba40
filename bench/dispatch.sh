#!/usr/bin/env bash
# What dispatching to workers costs as the number of connections grows: `wrk -t1 --latency`
# on a hello-world reply at c = 1, 50, 200 and 1000 connections, against four targets:
#
#   inline      ringbroker --inline (the front answers itself: the baseline)
#   c-worker    ringbroker --workers 2 --worker workers/c-hello/hello-worker
#   lua-worker  ringbroker --workers 2 workers/lua/examples/hello.lua (ringworker-lua)
#   nginx-lua   nginx + lua-nginx-module, ONE worker process,
#               content_by_lua_block { ngx.print("hello world\n") }
#
# Each round runs every c, and at each c every target in turn (a fresh server each time, a
# 1 s warm-up, then DURATION), so that drift on a shared machine hits all targets alike. The
# table shows the medians over the rounds of req/s and p99 latency, then the req/s ratios
# lua-worker/inline, lua-worker/nginx-lua and c-worker/inline at each c. "spread" is the
# largest distance of one round from the median: the stability goal is ±10% over ten rounds
# (`ROUNDS=10 CONNECTIONS=50 bench/dispatch.sh`).
#
#   bench/dispatch.sh
#   ROUNDS=5 DURATION=10s bench/dispatch.sh
#   CONNECTIONS="50 1000" bench/dispatch.sh
#   BROKER=/path/to/ringbroker bench/dispatch.sh     # skip the build
#
# Env: CONNECTIONS (default "1 50 200 1000"), ROUNDS (3), DURATION (5s), WARMUP (1s),
# WORKERS (broker workers, 2), BROKER, SCRATCH (.build), EXTRA_ARGS (added to every broker
# command line). Raises `ulimit -n` for c=1000 (to 65536, or the hard limit when not root).
# Needs wrk, nginx and libnginx-mod-http-lua (the latter two installed with apt-get when
# missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

CONNECTIONS=${CONNECTIONS:-1 50 200 1000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
WORKERS=${WORKERS:-2}
SCRATCH=${SCRATCH:-.build}
BROKER=${BROKER:-}
EXTRA_ARGS=${EXTRA_ARGS:-}

require_wrk
require_nginx
ensure_broker
build_c_hello
make_work_dir

# Every connection costs wrk one descriptor and the server one (nginx: two while it accepts):
# 1024, a common default, is not enough at c=1000.
max_c=$(tr ' ' '\n' <<<"$CONNECTIONS" | sort -n | tail -1)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 2 * max_c + 64)); then
  echo "warning: ulimit -n is $(ulimit -n), low for $max_c connections" >&2
fi
# The broker refuses connections above --max-connections: make sure it is not below max_c.
help=$("$BROKER" --help 2>&1 || true)
max_connections=$(awk '/--max-connections/ { on = 1 }
  on && match($0, /default: [0-9]+/) { print substr($0, RSTART + 9, RLENGTH - 9); exit }' <<<"$help")
if [[ -z $max_connections || $max_connections -lt $max_c ]]; then
  EXTRA_ARGS="$EXTRA_ARGS --max-connections $((max_c * 2))"
fi

TARGETS=(inline c-worker lua-worker nginx-lua)

# run TARGET C: starts the target, checks its reply, warms up, measures; appends
# "req/s p99-us" to its result file.
run() {
  local name=$1 c=$2
  PORT=$(free_port)
  case $name in
    inline) start_broker "$BROKER" "--inline $EXTRA_ARGS" || return 1 ;;
    c-worker)
      start_broker "$BROKER" "--workers $WORKERS --worker workers/c-hello/hello-worker $EXTRA_ARGS" ||
        return 1
      ;;
    lua-worker) start_broker "$BROKER" "--workers $WORKERS workers/lua/examples/hello.lua $EXTRA_ARGS" || return 1 ;;
    nginx-lua)
      start_nginx "server { listen 127.0.0.1:$PORT;
        location / { default_type text/plain; content_by_lua_block { ngx.print('hello world\\n') } } }" 1 ||
        return 1
      ;;
  esac
  local url="http://127.0.0.1:$PORT/"
  expect_hello "$url" "$name" || return 1
  wrk -t1 -c"$c" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
  local out rps p99 errors
  out=$(wrk -t1 -c"$c" -d"$DURATION" --latency "$url")
  stop_server
  rps=$(wrk_rps "$out")
  p99=$(wrk_latency_us 99% "$out") || { echo "$name c=$c: wrk got no replies" >&2; return 1; }
  errors=$(wrk_errors "$out")
  echo "round $round c=$c $name: $rps req/s, p99 $(us_to_ms "$p99") ms ${errors:+($errors)}" >&2
  echo "$rps $p99" >>"$WORK/result-$name-$c"
}

for round in $(seq 1 "$ROUNDS"); do
  for c in $CONNECTIONS; do
    for target in "${TARGETS[@]}"; do
      run "$target" "$c" || echo "round $round: $target c=$c failed" >&2
    done
  done
done

echo
echo "wrk -t1, $DURATION, medians of $ROUNDS rounds; $WORKERS broker workers, 1 nginx worker"
printf "%-11s %6s %10s %10s %9s\n" target c "req/s" "p99 (ms)" "spread"
declare -A RPS=()
for c in $CONNECTIONS; do
  for target in "${TARGETS[@]}"; do
    file="$WORK/result-$target-$c"
    if [[ ! -s $file ]]; then
      printf "%-11s %6s %10s\n" "$target" "$c" failed
      continue
    fi
    RPS[$target-$c]=$(awk '{ print $1 }' "$file" | median)
    printf "%-11s %6s %10.0f %10s %9s\n" "$target" "$c" "${RPS[$target-$c]}" \
      "$(us_to_ms "$(awk '{ print $2 }' "$file" | median)")" \
      "$(awk '{ print $1 }' "$file" | spread "${RPS[$target-$c]}")"
  done
done

echo
printf "%-22s" "req/s ratio"
for c in $CONNECTIONS; do printf " %8s" "c=$c"; done
echo
for pair in lua-worker/inline lua-worker/nginx-lua c-worker/inline; do
  printf "%-22s" "$pair"
  for c in $CONNECTIONS; do
    a=${RPS[${pair%/*}-$c]:-} b=${RPS[${pair#*/}-$c]:-}
    if [[ -n $a && -n $b ]]; then
      awk -v a="$a" -v b="$b" 'BEGIN { printf " %8.3f", a / b }'
    else
      printf " %8s" n/a
    fi
  done
  echo
done
