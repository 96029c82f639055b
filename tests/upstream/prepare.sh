#!/bin/sh
# Build OpenLDAP's test suite from the source tree that the build prepared for the headers.
#
# Usage: prepare.sh PREPARED_TREE WORK_DIR
#
# The prepared tree (cmake/prepare-slapd-source.sh) is shared: other builds read their slapd
# headers from it, so it is never written. This script copies it (about 30 MB, configured
# with Debian's options, relative paths only) to WORK_DIR/<tree name>, copies Debian's base
# schema files over upstream's as Debian's packaging does (the DFSG source lacks core.schema,
# cosine.schema, ...), and runs make there once (about 90 s on two cores). A marker
# (.devicepw-upstream-built, holding the prepared tree's version) makes later runs skip it.
# Prints the copy's directory on its last line of stdout.
set -eu
src=${1:?usage: prepare.sh PREPARED_TREE WORK_DIR}
work=${2:?usage: prepare.sh PREPARED_TREE WORK_DIR}
say() { echo "upstream/prepare: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ -f "$src/.devicepw-ready" ] || die "$src is not a prepared tree (no .devicepw-ready)"
ver=$(cat "$src/.devicepw-ready")
tree="$work/$(basename "$src")"
mkdir -p "$work"
# One build at a time (ctest -j runs the tests that need it in parallel).
exec 9>"$work/.prepare.lock"
flock 9
if [ -f "$tree/.devicepw-upstream-built" ] && [ "$(cat "$tree/.devicepw-upstream-built")" = "$ver" ] &&
   [ -x "$tree/debian/build/servers/slapd/slapd" ]; then
    echo "$tree"; exit 0
fi
rm -rf "$tree"
say "copying $src to $tree"
cp -a "$src" "$tree"
rm -f "$tree/.devicepw-ready"     # not a header tree for anybody
# debian/rules: "cp debian/schema/* servers/slapd/schema/" before building.
cp "$tree"/debian/schema/* "$tree/servers/slapd/schema/"
say "building OpenLDAP (make -j2 in debian/build, log $tree/debian/build/make.log; about 90 s)"
start=$(date +%s)
(cd "$tree/debian/build" && nice make -j2 >make.log 2>&1) ||
    { tail -n 40 "$tree/debian/build/make.log" >&2; die "make failed (see above)"; }
[ -x "$tree/debian/build/servers/slapd/slapd" ] || die "make built no slapd"
# tests/run links these on first use; make them now so that parallel runs do not race.
(cd "$tree/debian/build/tests" &&
    { [ -e testdata ] || ln -s ../../../tests/data testdata; } &&
    { [ -e schema ] || ln -s ../../../servers/slapd/schema schema; })
say "built in $(( $(date +%s) - start )) s"
echo "$ver" > "$tree/.devicepw-upstream-built"
echo "$tree"
