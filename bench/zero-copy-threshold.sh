#!/usr/bin/env bash
# Does SENDMSG_ZC pay off? wrk against `ringbroker --inline --inline-body-size N` with zero-copy
# on (--zero-copy-threshold 16384) and off (0), for a 64 KiB and a 1 MiB body, alternating
# rounds. The result is recorded next to FrontConfig.defaultZeroCopyThreshold.
#
#   bench/zero-copy-threshold.sh
#   SIZES="16384 65536 1048576" ROUNDS=5 bench/zero-copy-threshold.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-50}
WRK_THREADS=${WRK_THREADS:-2}
SIZES=${SIZES:-65536 1048576}
SCRATCH=${SCRATCH:-.build}
BROKER=${BROKER:-}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [[ -z "$BROKER" ]]; then
  swift build -c release --scratch-path "$SCRATCH" --product ringbroker >&2
  BROKER="$SCRATCH/release/ringbroker"
fi

WORK=$(mktemp -d)
PID=""
trap '[[ -n "$PID" ]] && kill -KILL "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

run() {  # size threshold -> prints req/s
  # Clients on this host normally never get zero-copy; --zero-copy-local-clients measures it anyway.
  "$BROKER" --inline --inline-body-size "$1" --zero-copy-threshold "$2" --zero-copy-local-clients \
    --listen 127.0.0.1:0 2>"$WORK/log" &
  PID=$!
  for _ in $(seq 1 200); do grep -q "listening on" "$WORK/log" && break; sleep 0.05; done
  local port
  port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$WORK/log")
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d1s "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$port/" | awk '/^Requests\/sec:/ { print $2 }'
  kill -TERM "$PID"
  wait "$PID" || true
  PID=""
}

printf "%-10s %-6s %s\n" body mode "req/s per round"
for size in $SIZES; do
  copy=()
  zc=()
  for _ in $(seq 1 "$ROUNDS"); do
    copy+=("$(run "$size" 0)")
    zc+=("$(run "$size" 16384)")
  done
  printf "%-10s %-6s %s\n" "$size" copy "${copy[*]}"
  printf "%-10s %-6s %s\n" "$size" zc "${zc[*]}"
done
