#!/usr/bin/env bash
# Builds RingBroker and serves the bundled Lua example app on 127.0.0.1:8080, on a fresh
# machine: installs what is missing first. Extra arguments go to ringbroker (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
swift build -c release
exec .build/release/ringbroker --listen 127.0.0.1:8080 "$@" workers/lua/examples/hello.lua
