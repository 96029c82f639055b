#!/bin/bash
# Build the libFuzzer targets with clang and run each for a bounded time.
#
#   tests/fuzz/run.sh [--build-dir DIR] [--seconds N] [TARGET...]
#
# Configures tests/fuzz (a CMake project of its own: libFuzzer needs clang, the main
# build uses g++) into DIR (default build/fuzz) with clang++ and
# -fsanitize=fuzzer,address,undefined, then runs each target (default: all, from
# DIR/fuzzers.txt) for N seconds (default $DEVICEPW_FUZZ_SECONDS or 20) on a working
# corpus DIR/work/TARGET seeded from the committed corpus tests/fuzz/corpus/TARGET
# (which it never writes). Exits 1 if any target finds a crash, a leak, an oracle
# failure or a timeout; the input is saved as DIR/artifacts/TARGET/crash-*.
# Prints executions per target. Needs clang and libclang-rt-dev (scripts/setup.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/fuzz
seconds=${DEVICEPW_FUZZ_SECONDS:-20}
targets=()
while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) build=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
say() { echo "fuzz: $*"; }

mkdir -p "$build"
CC=${FUZZ_CC:-clang} CXX=${FUZZ_CXX:-clang++} \
    cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; say "configure failed"; exit 2; }
nice cmake --build "$build" -j2 > "$build/build.log" 2>&1 ||
    { cat "$build/build.log"; say "build failed"; exit 2; }
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < "$build/fuzzers.txt"

failed=()
total=0
for t in "${targets[@]}"; do
    [ -n "$t" ] || continue
    seed=$here/corpus/$t
    work=$build/work/$t
    art=$build/artifacts/$t
    mkdir -p "$work" "$art"
    [ -d "$seed" ] || { say "$t: no seed corpus $seed"; failed+=("$t"); continue; }
    log=$build/$t.log
    rc=0
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: memory blow-up.
    # UBSan findings abort (built with -fno-sanitize-recover); LeakSanitizer is on.
    nice "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/" "$work" "$seed" > "$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    corpus=$(find "$work" -type f | wc -l)
    if [ "$rc" -ne 0 ]; then
        failed+=("$t")
        say "$t: FAILED (exit $rc) after ${execs:-?} executions; log $log; input(s):"
        ls "$art" >&2 || true
        grep -E 'ERROR|SUMMARY|check failed|runtime error|#[0-9]+ 0x' "$log" | head -40 >&2 || true
    else
        say "$t: ${execs:-?} executions in ${seconds}s, corpus $corpus inputs"
        total=$((total + ${execs:-0}))
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    say "FAILED: ${failed[*]} (reproduce: $build/fuzz_<target> $build/artifacts/<target>/crash-...)"
    exit 1
fi
say "all targets clean: $total executions"
