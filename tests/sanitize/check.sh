#!/bin/sh
# Run one instrumented test program and fail if any sanitizer report was written:
#   check.sh REPORT_DIR COMMAND [ARG...]
# Covers the test program and every process it starts that carries a sanitizer
# runtime: the devicepw tool, and slapd/slapadd/slaptest with the instrumented module
# (slapd-wrapper.sh).
#  - ASan (and LeakSanitizer) write to REPORT_DIR/asan.<pid> (log_path).
#  - UBSan: gcc's libubsan ignores log_path when ASan's runtime is in the process, so
#    its reports go to stderr. The test program's output is kept in REPORT_DIR/output.log,
#    and slapd's stderr is its log in the fixture's directory, kept here (TMPDIR,
#    DEVICEPW_IT_KEEP); all of them are searched for reports.
# The first error stops the process (halt_on_error), so a report cannot scroll by.
# LeakSanitizer runs in the instrumented programs (tests, tool), not in slapd (see
# slapd-wrapper.sh). On success the kept fixture directories are deleted.
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
DEVICEPW_IT_KEEP=1
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TMPDIR DEVICEPW_IT_KEEP
rc=0
{ "$@" 2>&1 || echo "check.sh: exit status $?"; } | tee "$reports/output.log"
status=$(sed -n 's/^check\.sh: exit status //p' "$reports/output.log")
[ -z "$status" ] || rc=$status
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
[ "$rc" -ne 0 ] || rm -rf "$reports/tmp"
echo "sanitize: no sanitizer report (test exit $rc)"
exit "$rc"
