#!/bin/bash
# Build and run every test: sudo scripts/test.sh
# Runs scripts/setup.sh (dependencies, configure, build), then ctest; exits with ctest's
# status. Extra arguments go to ctest (e.g. -R abi_check, -L abi).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DEVICEPW_BUILD_DIR:-$repo/build}

"$repo/scripts/setup.sh"

log="$build/ctest.log"
rc=0
ctest --test-dir "$build" --output-on-failure -j2 "$@" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}

echo
echo "==== devicepw test summary ===="
grep -E '^[0-9]+% tests passed|^The following tests FAILED|^[[:space:]]+[0-9]+ - .* \(.*\)$|^Total Test time' "$log" || true
if [ "$rc" -eq 0 ]; then
    echo "RESULT: PASS (ctest exit 0; log: $log)"
else
    echo "RESULT: FAIL (ctest exit $rc; log: $log)"
fi
exit "$rc"
