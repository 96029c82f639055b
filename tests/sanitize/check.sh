#!/bin/sh
# Run one instrumented test program and fail if any sanitizer report was written:
#   check.sh REPORT_DIR COMMAND [ARG...]
# Covers the test program and every process it starts that carries a sanitizer
# runtime: the devicepw tool, and slapd/slapadd/slaptest with the instrumented module
# (slapd-wrapper.sh).
#  - ASan (and LeakSanitizer) write to REPORT_DIR/asan.<pid> (log_path).
#  - UBSan: gcc's libubsan ignores log_path when ASan's runtime is in the process, so
#    its reports go to stderr: the test program's (and the tool's) to
#    REPORT_DIR/output.log, which is searched; slapd's to its log in the fixture's
#    directory (under REPORT_DIR/tmp, searched if left behind).
# The first error stops the process (halt_on_error): a report in a test program fails
# it; in slapd, slapd dies and the test fails. So no report can pass unnoticed.
# LeakSanitizer runs in the instrumented programs (tests, tool), not in slapd (see
# slapd-wrapper.sh).
set -u
reports=$1
shift
rm -rf "$reports"
mkdir -p "$reports/tmp"
here=$(cd "$(dirname "$0")" && pwd)
ASAN_OPTIONS="log_path=$reports/asan:halt_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:print_summary=1"
UBSAN_OPTIONS="log_path=$reports/ubsan:halt_on_error=1:print_stacktrace=1:report_error_type=1"
LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
TMPDIR=$reports/tmp
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TMPDIR
rc=0
{ "$@" 2>&1; echo $? > "$reports/status"; } | tee "$reports/output.log"
rc=$(cat "$reports/status")
# Files with a report: sanitizer logs, and any output or slapd log naming an error.
pattern='runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: [A-Za-z]*Sanitizer'
found=$(
    for f in "$reports"/asan.* "$reports"/ubsan.*; do [ -s "$f" ] && echo "$f"; done
    grep -lE "$pattern" "$reports/output.log"
    grep -rlE --include="*.log" "$pattern" "$reports/tmp" 2>/dev/null
)
if [ -n "$found" ]; then
    for f in $found; do
        echo "==== sanitizer report in $f ===="
        grep -E -B2 -A40 "$pattern" "$f" | head -200
    done
    echo "sanitize: sanitizer report(s) in: $found"
    exit 1
fi
echo "sanitize: no sanitizer report (test exit $rc)"
exit "$rc"
