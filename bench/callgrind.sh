#!/bin/bash
# Instructions per bind, under callgrind: repeatable even on a loaded machine.
#
#   bench/run.sh --keep ...              # leaves its work directory (configs, key, data, db)
#   bench/callgrind.sh --work DIR [--build-dir DIR] [--binds N] [--levels "none stats"]
#                     [--conf-dir DIR] [--cases "PAIRS ..."] [--out DIR]
#
# For each log level, starts slapd (stock, then devicepw) under
# `valgrind --tool=callgrind` on 127.0.0.1, and for each scenario: a warm-up of the
# bind list, counters zeroed (callgrind_control -z), N binds from one rebinding
# connection (devicepw-bindbench -c 1 -n N, results checked), counters dumped
# (callgrind_control -d). Instructions per bind = the dump's total / N: everything slapd
# executed for them, in every thread (frontend, back-mdb, overlay, logging).
# --conf-dir takes the slapd configurations from another directory (e.g. one that loads
# a patched devicepw.so); they must use the work directory's database.
# --cases measures only the devicepw configuration, on the named pair files of
# DIR/data (without .pairs), as scenarios "devicepw <name>" (bench/timing.sh).
# --out writes the table and dumps there instead of DIR/callgrind.
# Prints a table and writes callgrind.tsv (and the dumps, for callgrind_annotate) in
# DIR/callgrind.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build
work=""
confdir=""
binds=2000
levels="none stats"
cases=""
out=""
while [ $# -gt 0 ]; do
    case $1 in
        --work) work=$2; shift ;;
        --build-dir) build=$2; shift ;;
        --binds) binds=$2; shift ;;
        --levels) levels=$2; shift ;;
        --conf-dir) confdir=$2; shift ;;
        --cases) cases=$2; shift ;;
        --out) out=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ -d "$build" ] && build=$(cd "$build" && pwd)
say() { echo "callgrind: $*"; }
die() { echo "callgrind: error: $*" >&2; exit 1; }
[ -n "$work" ] && [ -f "$work/stock.conf" ] && [ -d "$work/db" ] ||
    die "--work must name a directory kept by bench/run.sh --keep"
confdir=${confdir:-$work}
bindbench=$build/bench/devicepw-bindbench
[ -x "$bindbench" ] || die "$bindbench not found"
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
    die "valgrind not found (apt-get install valgrind)"
out=${out:-$work/callgrind}
mkdir -p "$out"
vpid=""
cleanup() { if [ -n "$vpid" ]; then kill "$vpid" 2>/dev/null || true; wait "$vpid" 2>/dev/null || true; fi; }
trap cleanup EXIT

port=""
start() {  # start CONF LEVEL
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    rm -f "$out"/cg.out*
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" \
        /usr/sbin/slapd -d "${2/none/0}" -s 0 -f "$confdir/$1.conf" -h "ldap://127.0.0.1:$port/" \
        < /dev/null > "$out/slapd-$1-$2.log" 2>&1 &
    vpid=$!
    local i
    for i in $(seq 600); do
        kill -0 "$vpid" 2>/dev/null || break
        if ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -b "" -s base 1.1 >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    tail -n 20 "$out/slapd-$1-$2.log" >&2
    die "slapd under valgrind ($1) did not start"
}
stop() { kill "$vpid"; wait "$vpid" 2>/dev/null || true; vpid=""; }

ndump=0
measure() {  # measure NAME LEVEL PAIRS
    local f="$work/data/$3.pairs" total
    "$bindbench" -H "ldap://127.0.0.1:$port/" -f "$f" -c 1 -n 200 -d 120 --timeout 60 > /dev/null ||
        die "$1: warm-up failed"
    callgrind_control -z "$vpid" > /dev/null
    "$bindbench" -H "ldap://127.0.0.1:$port/" -f "$f" -c 1 -n "$binds" -d 600 --timeout 60 -w 0 \
        > "$out/bench.out" || die "$1: unexpected results"
    grep -q "^RESULT binds=$binds " "$out/bench.out" || die "$1: did not complete $binds binds in time"
    callgrind_control -d "$vpid" > /dev/null
    ndump=$((ndump + 1))
    local dump
    for _ in $(seq 100); do
        dump="$out/cg.out.$ndump"; [ -f "$dump" ] || dump=""
        [ -n "$dump" ] && grep -q '^totals:\|^summary:' "$dump" && break
        sleep 0.1
    done
    [ -n "$dump" ] || die "$1: no callgrind dump"
    total=$(grep -m1 '^totals:\|^summary:' "$dump" | awk '{ print $2 }')
    mv "$dump" "$out/$(echo "$1-$2" | tr ' {}/' '_()_').callgrind"
    printf '%s\t%s\t%d\n' "$1" "$2" $(( total / binds )) | tee -a "$out/callgrind.tsv"
}

printf 'scenario\tloglevel\tinstructions_per_bind\n' > "$out/callgrind.tsv"
for lvl in $levels; do
    if [ -n "$cases" ]; then
        ndump=0
        start devicepw "$lvl"
        for c in $cases; do measure "devicepw $c" "$lvl" "$c"; done
        stop
        continue
    fi
    ndump=0
    start stock "$lvl"
    measure "stock {SSHA}" "$lvl" ssha-right
    stop
    ndump=0
    start devicepw "$lvl"
    for d in 1 10 100; do
        for pw in right wrong revoked; do
            measure "devicepw d$d $pw" "$lvl" "d$d-$pw"
        done
    done
    [ -f "$work/data/d1-scoped.pairs" ] && measure "devicepw d1 right, scoped bind" "$lvl" d1-scoped
    stop
done
# Realistic traffic at log level none: every bind recorded (the background flush's
# writes are in the count: every thread), and stock slapd + slapo-lastbind at precision 0.
if [ -f "$confdir/lu0.conf" ] && [ -f "$confdir/lastbind.conf" ]; then
    ndump=0
    start lu0 none
    measure "devicepw d1 right, every bind recorded" none d1-right
    stop
    ndump=0
    start lastbind none
    measure "stock {SSHA} + lastbind 0" none ssha-right
    stop
fi
say "written $out/callgrind.tsv"
