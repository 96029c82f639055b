#!/bin/sh
# Refuse to build when the installed slapd is not the version whose headers we use.
set -eu
tree=${1:?usage: check-slapd-version.sh SOURCE_TREE}
installed=$(dpkg-query -W -f='${Version}' slapd 2>/dev/null || true)
prepared=$(cat "$tree/.devicepw-ready" 2>/dev/null || true)
if [ -z "$installed" ] || [ "$installed" != "$prepared" ]; then
    echo "error: slapd headers are from OpenLDAP ${prepared:-?} but the installed slapd is ${installed:-not installed}." >&2
    echo "       A module built against other headers is ABI-incompatible. Re-run cmake" >&2
    echo "       (delete the build directory) so that the matching source is prepared." >&2
    exit 1
fi
