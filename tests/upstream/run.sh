#!/bin/sh
# Run OpenLDAP's own tests with the devicepw overlay in every back-mdb database.
#
# Usage: run.sh [options] POSITION TEST...
#   POSITION  first | last: devicepw before the database's other overlays or after them
#   TEST      test names as in OpenLDAP's tests/scripts (test003-search, ...)
# Options (CMake passes them; tests/upstream/CMakeLists.txt):
#   --tree DIR      the prepared slapd source tree (cmake/prepare-slapd-source.sh)
#   --work DIR      where the tree is copied and built, and the runs happen
#   --module FILE   devicepw.so
#   --schema-dir D  the repository's schema/ (devicepw.schema, devicepw.ldif)
#   --baseport N    first of the ports used is N+1 (OpenLDAP uses N+1 .. N+7); default 9010
#
# Steps: prepare.sh copies and builds the tree once; per position, a copy of tests/data
# whose slapd*.conf templates carry the overlay (inject.py data) and a key file; per test,
# a copy of its script that adds the overlay where the script builds cn=config from LDIF
# (inject.py script); then `./run -b mdb` in the tree's tests directory with
# USER_DATADIR, USER_TESTDIR (one directory per test and position) and SLAPD_BASEPORT.
# Prints one line per test: PASS/FAIL, time; on failure the end of its output and the
# slapd log lines that name devicepw. Exit status: 0 when every test passed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree="" work="" module="" schemadir="" baseport=9010
while [ $# -gt 0 ]; do
    case $1 in
        --tree) tree=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --module) module=$2; shift 2 ;;
        --schema-dir) schemadir=$2; shift 2 ;;
        --baseport) baseport=$2; shift 2 ;;
        --) shift; break ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
position=${1:?usage: run.sh [options] first|last TEST...}; shift
case $position in first|last) ;; *) echo "run.sh: position is first or last" >&2; exit 2 ;; esac
[ $# -gt 0 ] || { echo "run.sh: no test given" >&2; exit 2; }
for v in tree work module schemadir; do
    eval "[ -n \"\$$v\" ]" || { echo "run.sh: --$v is required" >&2; exit 2; }
done
abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
mkdir -p "$work"
work=$(abs "$work"); module=$(abs "$module"); schemadir=$(cd "$schemadir" && pwd)
[ -f "$module" ] || { echo "run.sh: no module $module" >&2; exit 2; }

built=$("$here/prepare.sh" "$tree" "$work" | tail -n 1)
tests="$built/debian/build/tests"

# Per position: the templates and a key file, made once (flock: ctest -j runs in parallel).
pos="$work/$position"
mkdir -p "$pos"
(
    flock 9
    if [ ! -f "$pos/.ready" ] || [ "$pos/.ready" -ot "$here/inject.py" ]; then
        rm -rf "$pos/data" "$pos/scripts"; mkdir -p "$pos/scripts"
        key="$pos/devicepw.key"
        rm -f "$key"
        (umask 077; printf 'upstream %s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$key")
        python3 "$here/inject.py" data "$built/tests/data" "$pos/data" --position "$position" \
            --module "$module" --schema "$schemadir/devicepw.schema" \
            --ldif "$schemadir/devicepw.ldif" --key "$key" >&2
        touch "$pos/.ready"
    fi
) 9>"$pos/.lock"

failed=0
for t in "$@"; do
    src="$built/tests/scripts/$t"
    [ -x "$src" ] || { echo "run.sh: no test $t in $built/tests/scripts" >&2; exit 2; }
    python3 "$here/inject.py" script "$src" "$pos/scripts/$t" --position "$position" \
        --module "$module" --schema "$schemadir/devicepw.schema" \
        --ldif "$schemadir/devicepw.ldif" --key "$pos/devicepw.key" >/dev/null
    rundir="$work/runs/$t.$position"
    rm -rf "$rundir"; mkdir -p "$rundir"
    # tests/run looks scripts up under its own scripts directory: a relative path from there
    rel=$(python3 -c 'import os,sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' \
          "$pos/scripts/$t" "$built/tests/scripts")
    start=$(date +%s)
    rc=0
    (cd "$tests" && USER_DATADIR="$pos/data" USER_TESTDIR="$rundir/testrun" \
        SLAPD_BASEPORT="$baseport" ./run -b mdb "$rel") >"$rundir/output" 2>&1 || rc=$?
    secs=$(( $(date +%s) - start ))
    # A test that failed half-way may leave its servers running: stop those (by the pid
    # files in its own directory, and only when the pid is still one of this tree's slapd).
    for pf in "$rundir"/testrun/*.pid "$rundir"/testrun/*/*.pid; do
        [ -f "$pf" ] || continue
        pid=$(cat "$pf" 2>/dev/null) || continue
        case $(readlink "/proc/$pid/exe" 2>/dev/null) in
            "$built"/*slapd) kill "$pid" 2>/dev/null || true ;;
        esac
    done
    if [ $rc -eq 0 ] && ! grep -q 'test skipped' "$rundir/output"; then
        echo "PASS $t ($position) ${secs}s"
    elif [ $rc -eq 0 ]; then
        echo "SKIP $t ($position) ${secs}s: $(grep 'test skipped' "$rundir/output" | head -n 1)"
    else
        failed=1
        echo "FAIL $t ($position) ${secs}s, exit $rc; output: $rundir/output, logs: $rundir/testrun"
        tail -n 25 "$rundir/output" | sed 's/^/  | /'
        if grep -qs 'Address already in use' "$rundir"/testrun/slapd.*.log; then
            echo "  environment: a port of $((baseport + 1))..$((baseport + 7)) is taken by another process (--baseport, DEVICEPW_UPSTREAM_BASEPORT)"
        fi
        for log in "$rundir"/testrun/slapd.*.log; do
            [ -f "$log" ] || continue
            # the overlay's own lines (not schema dumps), then how the log ends
            grep -i 'devicepw' "$log" | grep -v -i -e matchingRuleUse -e "NAME .olc" -e mdb_entry_get |
                tail -n 20 | sed "s|^|  $(basename "$log"): |" || true
            tail -n 8 "$log" | sed "s|^|  $(basename "$log") (end): |"
        done
    fi
done
exit $failed
