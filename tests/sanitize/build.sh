#!/bin/sh
# Configure and build the instrumented tree for the sanitizer tests:
#   build.sh SOURCE_DIR BUILD_DIR SLAPD_SOURCE_CACHE CC CXX
# DEVICEPW_SANITIZE=ON instruments everything with -fsanitize=address,undefined; only
# the targets the sanitizer tests run are built (2 jobs, nice: CI machines are shared).
# -O1 -g1 (line tables): ASan's recommendation, and at -O2 -g the instrumented Boost.Test
# suites take several times as long to compile. (The module gets Debian's flags.)
set -eu
src=$1 build=$2 cache=$3 cc=$4 cxx=$5
start=$(date +%s)
cmake -S "$src" -B "$build" -DDEVICEPW_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DDEVICEPW_SLAPD_SOURCE_CACHE="$cache" > "$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
nice cmake --build "$build" -j2 --target devicepw devicepw_tool devicepw_unit_tests \
    devicepw_integration devicepw_tool_tests devicepw_sanitize_selftest \
    devicepw_sanitize_exit_shim
echo "sanitize: instrumented build in $build ready after $(( $(date +%s) - start )) s"
