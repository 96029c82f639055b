#!/bin/sh
# Prepare the OpenLDAP source tree whose headers devicepw.so is compiled against.
#
# slapd's module ABI is whatever Debian's build of slapd says it is: the layout of
# Operation, Backend, Entry ... depends on configure options (GnuTLS vs OpenSSL,
# --enable-slapi, ...). Nothing checks layouts when slapd loads a module, so a
# mismatch shows up as stack smashing under load. This script therefore:
#   1. takes the source package of the *installed* slapd version, exactly;
#   2. configures it with Debian's own options and compiler flags;
#   3. generates only the headers a module needs (portable.h, ldap_config.h, ...).
#
# Usage: prepare-slapd-source.sh CACHE_DIR
# Prints the prepared tree's directory on its last line of stdout.
set -eu

cache=${1:?usage: prepare-slapd-source.sh CACHE_DIR}
say() { echo "prepare-slapd-source: $*" >&2; }
die() { say "error: $*"; exit 1; }

installed=$(dpkg-query -W -f='${Version}' slapd 2>/dev/null) ||
    die "slapd is not installed (apt-get install slapd)"
[ -n "$installed" ] || die "slapd is not installed (apt-get install slapd)"
upstream=${installed#*:}; upstream=${upstream%-*}   # 2.5.13+dfsg
tree="$cache/openldap-$installed"

if [ -f "$tree/.devicepw-ready" ] && [ "$(cat "$tree/.devicepw-ready")" = "$installed" ]; then
    echo "$tree"; exit 0
fi

mkdir -p "$cache"
rm -rf "$tree" "$cache/dl"
mkdir -p "$cache/dl"
say "fetching Debian source package openldap=$installed (matching installed slapd)"
if ! (cd "$cache/dl" && apt-get source --download-only "openldap=$installed" >&2 2>&1); then
    die "could not download the source package openldap=$installed.
  apt needs a deb-src entry mirroring your deb entry, then apt-get update.
  scripts/setup.sh adds one (/etc/apt/sources.list.d/devicepw-src.sources)."
fi
dsc=$(ls "$cache"/dl/openldap_*.dsc | head -n1)
dpkg-source --no-check -x "$dsc" "$tree" >&2

# The guard: the tree must be exactly the installed version.
srcver=$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Version)
[ "$srcver" = "$installed" ] ||
    die "source package version $srcver differs from installed slapd $installed; refusing to build (ABI mismatch)"

# Debian's own configure options (debian/rules: CONFIG = grep -v '^#' configure.options),
# the paths dh_auto_configure adds, and Debian's compiler flags.
opts=$(grep -v '^#' "$tree/debian/configure.options" |
       grep -v -e '--enable-sql' -e '--enable-perl' -e '--enable-argon2' -e '--with-argon2' | tr '\n' ' ')
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
export DEB_CFLAGS_MAINT_APPEND="-Wall -D_FILE_OFFSET_BITS=64 -D_GNU_SOURCE"
export DEB_BUILD_MAINT_OPTIONS="hardening=+all"
CFLAGS=$(dpkg-buildflags --get CFLAGS); CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS)
LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
export CFLAGS CPPFLAGS LDFLAGS

mkdir -p "$tree/debian/build"
say "configuring with Debian's options (about 30 s)"
# Debian copies its DFSG schema over upstream's before configuring; harmless to skip for headers.
# configure.options holds shell words with quotes ('${prefix}/lib'), as make passes them.
eval "set -- $opts"
(cd "$tree/debian/build" && ../../configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
    --libdir="/usr/lib/$multiarch" --runstatedir=/run --disable-option-checking \
    --disable-silent-rules --disable-dependency-tracking \
    "$@" --disable-sql --disable-perl --disable-argon2 >configure.out 2>&1) ||
    { tail -n 30 "$tree/debian/build/configure.out" >&2; die "configure failed (see above)"; }
make -C "$tree/debian/build/include" ldap_config.h >&2
for h in portable.h ldap_features.h lber_types.h ldap_config.h; do
    [ -f "$tree/debian/build/include/$h" ] || die "generated header $h is missing"
done
echo "$installed" > "$tree/.devicepw-ready"
rm -rf "$cache/dl"
echo "$tree"
