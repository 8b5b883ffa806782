#!/bin/sh
# Configure, build and test the dom0 agent in xen-ether/agent/build/ (CI calls this).
# Needs (Debian): cmake make gcc pkg-config libxen-dev libmsgpack-dev.  No Xen needed.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
build="$here/build"
jobs="${JOBS:-2}"

for tool in cmake make cc pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test.sh: $tool is missing (apt-get install cmake make gcc pkg-config)" >&2; exit 1; }
done
for pc in xencontrol xenevtchn xenforeignmemory xentoollog msgpack; do
  pkg-config --exists "$pc" || { echo "test.sh: pkg-config cannot find $pc (apt-get install libxen-dev libmsgpack-dev)" >&2; exit 1; }
done

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs"
