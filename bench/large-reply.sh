#!/usr/bin/env bash
# Large replies against the peers users would pick: the same bytes from a C worker behind
# ringbroker (workers/c-hello, /bytes?n=N&part=N: one rw_reply_write of the whole body, as
# nginx-lua does one ngx.print; streamed from shared memory, length declared), from
# nginx as a static file (sendfile), and from nginx + lua-nginx-module (`ngx.print` of a Lua
# string made once at start). wrk -c50, rounds alternate between the targets so that drift on
# a shared machine hits all alike; the table shows medians of req/s and MB/s, then the ratios
# (goals: ringbroker >= 1.0 x nginx-lua and >= 0.8 x nginx static).
#
#   bench/large-reply.sh
#   SIZES="65536 1048576" ROUNDS=5 DURATION=10s bench/large-reply.sh
#   BROKER=/path/to/ringbroker bench/large-reply.sh     # skip the build
#
# Needs nginx and libnginx-mod-http-lua (installed here with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-50}
WRK_THREADS=${WRK_THREADS:-2}
SIZES=${SIZES:-65536 1048576}
WORKERS=${WORKERS:-2}          # broker workers and nginx worker processes alike
SCRATCH=${SCRATCH:-.build}
BROKER=${BROKER:-}

require_wrk
require_nginx
ensure_broker
build_c_hello
make_work_dir

# nginx's workers run as an unprivileged user: they must be able to read the files.
mkdir -p "$WORK/www"
chmod a+rx "$WORK" "$WORK/www"
# The C worker's /bytes pattern, so that every target sends the same bytes: byte i is
# i % 251 (hello-worker.c says the same).
for size in $SIZES; do
  python3 -c "import sys; n = int(sys.argv[1]); sys.stdout.buffer.write(bytes(i % 251 for i in range(n)))" \
    "$size" >"$WORK/www/file-$size"
done

LUA_INIT="init_by_lua_block {
    payloads = {}
    for _, n in ipairs({ $(tr ' ' ',' <<<"$SIZES") }) do
      local period = {}
      for i = 0, 250 do period[#period + 1] = string.char(i) end
      payloads[n] = string.rep(table.concat(period), math.ceil(n / 251)):sub(1, n)
    end
  }"

# run TARGET SIZE: starts the target, warms up, measures; appends "req/s MB/s" to its file.
run() {
  local name=$1 size=$2 path
  PORT=$(free_port)
  case $name in
    ringbroker)
      start_broker "$BROKER" "--workers $WORKERS --worker workers/c-hello/hello-worker" || return 1
      path="/bytes?n=$size&part=$size"
      ;;
    nginx-static)
      start_nginx "sendfile on; tcp_nopush on;
        server { listen 127.0.0.1:$PORT; root $WORK/www; location / { } }" "$WORKERS" || return 1
      path="/file-$size"
      ;;
    nginx-lua)
      start_nginx "$LUA_INIT
        server { listen 127.0.0.1:$PORT;
          location / { content_by_lua_block { ngx.print(payloads[tonumber(ngx.var.arg_n) or 0] or '') } } }" \
        "$WORKERS" || return 1
      path="/?n=$size"
      ;;
  esac
  local url="http://127.0.0.1:$PORT$path"
  local got
  got=$(curl -s "$url" | wc -c)
  if [[ $got -ne $size ]]; then
    echo "$name: $url sent $got bytes, not $size" >&2
    stop_server
    return 1
  fi
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d1s "$url" >/dev/null 2>&1 || true  # warm-up
  local out
  out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" "$url")
  stop_server
  local rps mbs errors
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  mbs=$(to_mb_per_s "$(awk '/^Transfer\/sec:/ { print $2 }' <<<"$out")")
  errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
  echo "round $round $name $size: $rps req/s, $mbs MB/s ${errors:+($errors)}" >&2
  echo "$rps $mbs" >>"$WORK/result-$name-$size"
}

TARGETS=(ringbroker nginx-static nginx-lua)
for round in $(seq 1 "$ROUNDS"); do
  for size in $SIZES; do
    for target in "${TARGETS[@]}"; do
      run "$target" "$size" || echo "round $round: $target $size failed" >&2
    done
  done
done

echo
printf "%-13s %9s %10s %9s\n" target bytes "req/s" "MB/s"
declare -A RPS=()
for size in $SIZES; do
  for target in "${TARGETS[@]}"; do
    file="$WORK/result-$target-$size"
    [[ -s $file ]] || { printf "%-13s %9s %10s\n" "$target" "$size" failed; continue; }
    RPS[$target-$size]=$(awk '{ print $1 }' "$file" | median)
    printf "%-13s %9s %10.0f %9.1f\n" "$target" "$size" "${RPS[$target-$size]}" \
      "$(awk '{ print $2 }' "$file" | median)"
  done
done
echo
for size in $SIZES; do
  for peer in nginx-lua nginx-static; do
    a=${RPS[ringbroker-$size]:-} b=${RPS[$peer-$size]:-}
    if [[ -n $a && -n $b ]]; then
      awk -v a="$a" -v b="$b" -v n="ringbroker/$peer $size" 'BEGIN { printf "ratio %s: %.3f\n", n, a / b }'
    else
      echo "ratio ringbroker/$peer $size: n/a"
    fi
  done
done
