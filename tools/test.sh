#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds in release mode
# (the multi-process tests push millions of messages), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
swift build -c release
if [ -f workers/c-hello/Makefile ]; then make -s -C workers/c-hello; fi
swift test -c release --skip-build
