#!/usr/bin/env bash
# Memory of a running broker against nginx + Lua serving the same hello app: the PSS
# (proportional set size: shared pages split among the processes that map them) of the whole
# process tree, after a short wrk load, and the broker's shared memory per worker as its --help
# states it. Prints one table.
#
#   bench/memory.sh
#   WORKERS=4 bench/memory.sh
#   BROKER=/path/to/ringbroker bench/memory.sh     # skip the build
#
# Needs nginx and libnginx-mod-http-lua (installed here with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

WORKERS=${WORKERS:-2}
SCRATCH=${SCRATCH:-.build}
BROKER=${BROKER:-}

require_wrk
require_nginx
ensure_broker
make_work_dir

# The PIDs of a process and all its descendants.
tree_pids() {
  local pid=$1
  echo "$pid"
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do tree_pids "$child"; done
}

# PSS of a process tree in KiB.
tree_pss_kib() {
  local total=0 pss
  for pid in $(tree_pids "$1"); do
    pss=$(awk '/^Pss:/ { print $2 }' /proc/"$pid"/smaps_rollup 2>/dev/null || echo 0)
    total=$((total + ${pss:-0}))
  done
  echo "$total"
}

measure() {  # name: loads the server on PORT, then prints "name processes PSS"
  wrk -t2 -c50 -d2s "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true
  sleep 1
  printf "%-16s %9s %10.1f\n" "$1" "$(tree_pids "$SERVER_PID" | wc -l)" \
    "$(awk -v k="$(tree_pss_kib "$SERVER_PID")" 'BEGIN { print k / 1024 }')"
}

printf "%-16s %9s %10s\n" server processes "PSS (MiB)"
PORT=$(free_port)
start_broker "$BROKER" "--workers $WORKERS workers/lua/examples/hello.lua"
measure "ringbroker+lua"
stop_server

PORT=$(free_port)
start_nginx "server { listen 127.0.0.1:$PORT;
  location / { default_type text/plain; content_by_lua_block { ngx.print('hello world\\n') } } }" "$WORKERS"
measure "nginx+lua"
stop_server
echo
# ringbroker --help states it, computed from the channel layout.
"$BROKER" --help | tr -s ' \n' ' ' | grep -o 'channel of [0-9.]* MiB' | sed 's/^/each broker worker has a /'

