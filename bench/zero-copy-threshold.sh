#!/usr/bin/env bash
# Does SENDMSG_ZC pay off? wrk against `ringbroker --inline --inline-body-size N` with zero-copy
# on (--zero-copy-threshold 16384) and off (0), for a 64 KiB and a 1 MiB body, alternating
# rounds. The result is recorded next to FrontConfig.defaultZeroCopyThreshold.
#
#   bench/zero-copy-threshold.sh
#   SIZES="16384 65536 1048576" ROUNDS=5 bench/zero-copy-threshold.sh
#   REMOTE=1 bench/zero-copy-threshold.sh    # wrk in a network namespace of its own, over a veth
#                                            # pair: a client that is not on loopback (needs root)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-50}
WRK_THREADS=${WRK_THREADS:-2}
SIZES=${SIZES:-65536 1048576}
SCRATCH=${SCRATCH:-.build}
BROKER=${BROKER:-}
REMOTE=${REMOTE:-}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [[ -z "$BROKER" ]]; then
  swift build -c release --scratch-path "$SCRATCH" --product ringbroker >&2
  BROKER="$SCRATCH/release/ringbroker"
fi

WORK=$(mktemp -d)
SERVER_PID=""
NETNS=""
cleanup() {
  stop_server
  [[ -n "$NETNS" ]] && ip netns delete "$NETNS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# Where the broker listens and how wrk reaches it: loopback, or with REMOTE the host end of a
# veth pair whose other end is in a namespace made here (link-local addresses, 169.254/16:
# nothing outside this machine is ever addressed).
HOST=127.0.0.1
CLIENT=()
ZC_LOCAL=(--zero-copy-local-clients)  # loopback clients normally never get zero-copy
if [[ -n "$REMOTE" ]]; then
  NETNS="rbzc-$$"
  ip netns add "$NETNS"
  ip link add "rbzc$$h" type veth peer name "rbzc$$c"
  ip link set "rbzc$$c" netns "$NETNS"
  ip addr add 169.254.77.1/30 dev "rbzc$$h"
  ip link set "rbzc$$h" up
  ip -n "$NETNS" addr add 169.254.77.2/30 dev "rbzc$$c"
  ip -n "$NETNS" link set "rbzc$$c" up
  ip -n "$NETNS" link set lo up
  HOST=169.254.77.1
  CLIENT=(ip netns exec "$NETNS")
  ZC_LOCAL=()  # the client is remote: the broker decides by itself
fi

run() {  # size threshold -> prints req/s
  LISTEN_HOST=$HOST start_broker "$BROKER" \
    "--inline --inline-body-size $1 --zero-copy-threshold $2 ${ZC_LOCAL[*]}" >&2 || return 1
  "${CLIENT[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d1s "http://$HOST:$PORT/" >/dev/null 2>&1 || true
  "${CLIENT[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" "http://$HOST:$PORT/" |
    awk '/^Requests\/sec:/ { print $2 }'
  stop_server
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
