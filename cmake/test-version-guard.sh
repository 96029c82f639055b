#!/bin/sh
# Test of the build's version guard (cmake/check-slapd-version.sh): it passes for the
# prepared tree of the installed slapd and refuses, with a message that says why, a tree
# prepared for any other version.
set -eu
tree=${1:?usage: test-version-guard.sh PREPARED_TREE}
here=$(dirname "$0")
fails=0
if sh "$here/check-slapd-version.sh" "$tree" 2>/dev/null; then
    echo "ok: the prepared tree matches the installed slapd"
else
    echo "FAIL: the prepared tree was refused"; fails=$((fails + 1))
fi
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
echo "2.4.57+dfsg-3" > "$fake/.devicepw-ready"
if out=$(sh "$here/check-slapd-version.sh" "$fake" 2>&1); then
    echo "FAIL: a tree for slapd 2.4.57+dfsg-3 was accepted"; fails=$((fails + 1))
elif echo "$out" | grep -q "ABI-incompatible" && echo "$out" | grep -q "2.4.57+dfsg-3"; then
    echo "ok: a tree for another version is refused: $(echo "$out" | head -n1)"
else
    echo "FAIL: refused without saying why: $out"; fails=$((fails + 1))
fi
echo "$((2 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
