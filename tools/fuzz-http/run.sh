#!/usr/bin/env bash
# Builds the HTTP1 fuzz target (libFuzzer + AddressSanitizer) into .build-fuzz/ and runs it.
#   tools/fuzz-http/run.sh [RUNS]      RUNS defaults to 1000000
# Extra arguments after RUNS go to libFuzzer (e.g. -jobs=2, or a crash file to reproduce).
# Inputs libFuzzer finds interesting go to .build-fuzz/corpus (git-ignored); the committed
# seeds in tools/fuzz-http/corpus are only read.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-1000000}"
shift || true
out="$root/.build-fuzz"
mkdir -p "$out/corpus"

# One module: the fuzz file sees the parser's internals (isTokenByte) without an import,
# and no SwiftPM target is needed for something that has no main of its own. The reply
# header rules (the front's check of a worker's header block) are fuzzed with it.
swiftc -O -wmo -sanitize=fuzzer,address -parse-as-library -module-name HTTP1Fuzz \
  "$root"/Sources/HTTP1/*.swift "$root"/Sources/ReplyHeaderRules/*.swift \
  "$root/tools/fuzz-http/FuzzHTTP.swift" \
  -o "$out/fuzz-http"

cd "$out"
# libFuzzer and ASan report crashes themselves; the Swift runtime's backtracer would only
# add a helper process that can outlive the fuzzer.
export SWIFT_BACKTRACE=enable=no
exec ./fuzz-http -runs="$runs" "$@" "$out/corpus" "$root/tools/fuzz-http/corpus"
