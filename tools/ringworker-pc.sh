#!/usr/bin/env bash
# Writes ringworker.pc, a pkg-config file for libringworker.so (the C worker library), into a
# build folder of this repository: BUILD (default .build/release, where `swift build -c release`
# puts the library). Then, from anywhere:
#
#   export PKG_CONFIG_PATH=/path/to/ringbroker/.build/release
#   cc -O2 -o my-worker my-worker.c $(pkg-config --cflags --libs ringworker)
#
# The flags point at this checkout (header in Sources/CRingABI/include, library in BUILD) and
# record BUILD as the program's run-time library path; libringworker.so itself finds the Swift
# runtime it needs where this toolchain keeps it (its RUNPATH) and libnuma in the system's.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/.build/release}" && pwd)"
if [[ ! -e "$build/libringworker.so" ]]; then
  echo "ringworker-pc.sh: no libringworker.so in $build (run swift build -c release first)" >&2
  exit 1
fi
# The one home of the version: Sources/ToolSupport/ToolVersion.swift.
version="$(sed -n 's/.*static let number = "\(.*\)".*/\1/p' "$root/Sources/ToolSupport/ToolVersion.swift")"
cat >"$build/ringworker.pc" <<PC
# libringworker: RingBroker's worker library, C ABI (ringworker.h). Written by tools/ringworker-pc.sh.
prefix=$root
includedir=\${prefix}/Sources/CRingABI/include
libdir=$build

Name: ringworker
Description: RingBroker worker library (C ABI: ringworker.h)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lringworker -Wl,-rpath,\${libdir}
PC
echo "$build/ringworker.pc"
