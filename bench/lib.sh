# Shared by the bench/ scripts (sourced, not run): starting and stopping a broker or nginx on a
# free port, wrk's numbers, medians. Each script sets WORK (a temporary directory it removes).

# Starts `$1` (a ringbroker binary) with the argument words in `$2` on a free loopback port;
# sets PORT and SERVER_PID, or returns 1 (with the broker's own message on stderr) when it does
# not become ready. Each broker gets its own name and control socket, so that none meets a
# broker already running on this machine.
start_broker() {
  local binary=$1 log="$WORK/broker.log"
  # shellcheck disable=SC2086 # the argument string is a word list on purpose
  "$binary" $2 --listen "${LISTEN_HOST:-127.0.0.1}:0" --name "bench-$$" \
    --control "$WORK/control.sock" 2>"$log" &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    if grep -q "listening on" "$log"; then
      PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$log" | head -1)
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  sed 's/^/    /' "$log" >&2
  stop_server
  return 1
}

# Stops what start_broker or start_nginx started (TERM, then waits).
stop_server() {
  [[ -n "${SERVER_PID:-}" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# A port nobody listens on now (the kernel picks it).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts nginx in the foreground with the `http { ... }` body in `$1` (PORT is already in it)
# and `$2` worker processes; sets SERVER_PID, or returns 1 when it does not answer.
start_nginx() {
  local conf="$WORK/nginx.conf"
  mkdir -p "$WORK/nginx-logs"
  cat >"$conf" <<CONF
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes $2;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-logs;
  keepalive_requests 1000000;
  $1
}
CONF
  nginx -p "$WORK" -c "$conf" 2>>"$WORK/nginx-logs/stderr" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$WORK/nginx-logs/stderr" "$WORK/nginx-logs/error.log" >&2 2>/dev/null || true
  stop_server
  return 1
}

# wrk latency ("462.00us", "1.20ms", "2.00s") in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n
  }'
}

# wrk's requests/s, from its output in `$1`.
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' <<<"$1"; }

# A latency from the output of `wrk --latency` in `$2`, in microseconds: `$1` is a percentile
# of its Latency Distribution (50%, 75%, 90%, 99%) or max (its Thread Stats line). Returns 1
# (printing nothing) when the output has no such number, e.g. when wrk got no reply at all.
wrk_latency_us() {
  local value
  if [[ $1 == max ]]; then
    value=$(awk '$1 == "Latency" && NF == 5 { print $4; exit }' <<<"$2")
  else
    value=$(awk -v p="$1" '$1 == p { print $2; exit }' <<<"$2")
  fi
  [[ -n $value ]] || return 1
  to_us "$value"
}

# wrk's error lines (non-2xx replies, socket errors: connect, read, write, timeout), if any.
wrk_errors() { awk '/Non-2xx|Socket errors/ { $1 = $1; print }' <<<"$1" | paste -sd ';' -; }

# Microseconds as milliseconds, two decimals ("-" stays "-").
us_to_ms() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.2f\n", v / 1000 }'; }

# wrk's "Transfer/sec: 1.23GB" in MB/s (10^6 bytes).
to_mb_per_s() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /GB$/) n *= 1073741824; else if (v ~ /MB$/) n *= 1048576; else if (v ~ /KB$/) n *= 1024
    printf "%.1f\n", n / 1000000
  }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print a[int((NR + 1) / 2)] }'; }

# The largest distance of the numbers on stdin from `$1` (their median), in percent of it:
# "±7.5%". What "stable throughput" is judged by, over alternating rounds.
spread() {
  awk -v m="$1" '{ d = ($1 > m ? $1 - m : m - $1) / m * 100; if (d > w) w = d }
    END { if (NR == 0 || m == 0) print "-"; else printf "±%.1f%%\n", w }'
}

# Exits with a message when wrk is missing.
require_wrk() {
  command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
}

# nginx and lua-nginx-module, the benchmark peers, installed with apt when missing.
require_nginx() {
  if ! command -v nginx >/dev/null || [[ ! -e /usr/lib/nginx/modules/ngx_http_lua_module.so ]]; then
    echo "installing nginx and lua-nginx-module..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx libnginx-mod-http-lua >&2
  fi
}

# Sets BROKER to a release build (built into SCRATCH, default .build) unless it is set already.
ensure_broker() {
  if [[ -z "${BROKER:-}" ]]; then
    echo "building ringbroker and its workers (release)..." >&2
    swift build -c release --scratch-path "${SCRATCH:-.build}" >&2
    BROKER="${SCRATCH:-.build}/release/ringbroker"
  fi
}

# Builds the C example worker against the library next to $BROKER (the same build).
build_c_hello() {
  make -s -B -C workers/c-hello BUILD="$(cd "$(dirname "$BROKER")" && pwd)" >&2
}

# Returns 1 (and stops the server) unless `$1` answers "hello world"; `$2` names the target.
expect_hello() {
  local body
  body=$(curl -s "$1" || true)
  if [[ $body != "hello world" ]]; then
    echo "$2: $1 answered '$body', not 'hello world'" >&2
    stop_server
    return 1
  fi
}

# A temporary WORK directory, and a trap that stops the server and removes it at exit.
make_work_dir() {
  WORK=$(mktemp -d)
  SERVER_PID=""
  trap 'stop_server; rm -rf "$WORK"' EXIT
}
