#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds in release mode
# (the multi-process tests push millions of messages) with testing enabled, into its own build
# folder (.build-test, so that it never invalidates the plain release build used to run and
# benchmark), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
build=(-c release --scratch-path .build-test -Xswiftc -enable-testing)
swift build "${build[@]}" --build-tests
make -s -B -C workers/c-hello BUILD="$PWD/.build-test/release"
swift test "${build[@]}" --skip-build
