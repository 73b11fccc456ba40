#!/usr/bin/env bash
# Installs the Debian packages RingBroker builds and runs with, when any is missing.
set -euo pipefail
# util-linux: prlimit and setpriv, which tests run the broker and workers through.
# libluajit2-5.1-dev: OpenResty's LuaJIT (the one lua-nginx-module needs: Debian's libluajit-5.1
# conflicts with it), so the Lua worker and the nginx+Lua benchmark peer share one LuaJIT.
# prometheus: the real Prometheus (and promtool) the admin endpoint's tests scrape it with.
packages=(pkg-config gcc make liburing-dev libnuma-dev libluajit2-5.1-dev lua-cjson tmux wrk util-linux prometheus)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
