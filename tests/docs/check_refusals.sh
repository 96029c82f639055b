#!/bin/bash
# The rules are stated three times: the policy (overlay/core/policy.h, tested as tables in
# tests/unit/policy_test.cc), README's "What the overlay refuses" and slapo-devicepw(5)'s
# RESULT CODES. This check keeps them in step where a script can: every result code the
# README's table gives is documented in the man page and is one the policy (or the bind,
# 49) answers, and every code the policy can answer appears in both documents.
set -euo pipefail
repo=${1:?usage: check_refusals.sh REPO}
readme=$repo/README.md
man=$repo/doc/slapo-devicepw.5
policy=$repo/overlay/core/policy.h
fail=0
table=$(awk '/^### What the overlay refuses/{on=1; next} on && /^#/{exit} on' "$readme")
[ -n "$table" ] || { echo "README has no 'What the overlay refuses' table"; exit 1; }
readme_codes=$(grep -oE '\(([0-9]+)\)' <<<"$table" | tr -d '()' | sort -un)
man_codes=$(awk '/^\.SH RESULT CODES/{on=1; next} on && /^\.SH/{exit} on' "$man" |
    grep -oE '^\.B [0-9]+ ' | awk '{print $2}' | sort -un)
policy_codes=$( { grep -oE 'DPW_R_[A-Z]+ = [0-9]+' "$policy" | awk '{print $3}' | grep -v '^0$'; echo 49; } | sort -un)
for c in $readme_codes; do
    grep -qx "$c" <<<"$man_codes" || { echo "README code $c is not in slapo-devicepw(5) RESULT CODES"; fail=1; }
    grep -qx "$c" <<<"$policy_codes" || { echo "README code $c is not a code of the policy"; fail=1; }
done
for c in $policy_codes; do
    grep -qx "$c" <<<"$readme_codes" || { echo "policy code $c is missing from README's refusal table"; fail=1; }
    grep -qx "$c" <<<"$man_codes" || { echo "policy code $c is missing from slapo-devicepw(5)"; fail=1; }
done
# every directive of the overlay's config table is documented in both
for d in $(grep -oE '"devicepw-[a-z-]+"' "$repo/overlay/devicepw.c" | tr -d '"' | sort -u); do
    grep -q -- "\`$d" "$readme" || { echo "directive $d is not in README's configuration table"; fail=1; }
    grep -q -- "${d//-/\\\\-}" "$man" || { echo "directive $d is not in slapo-devicepw(5)"; fail=1; }
done
if [ "$fail" = 0 ]; then
    echo "refusal codes agree: README $(echo $readme_codes), man page $(echo $man_codes), policy $(echo $policy_codes)"
fi
exit "$fail"
