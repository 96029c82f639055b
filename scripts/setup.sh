#!/bin/bash
# Set up a Debian bookworm machine to build and test devicepw, then configure and build it.
#
#   sudo scripts/setup.sh
#
# 1. apt-get update; add a deb-src entry mirroring the Debian deb entries (the slapd
#    headers come from Debian's source package of the installed slapd, see
#    cmake/prepare-slapd-source.sh), apt-get update again;
# 2. install the build, test and demo dependencies (--no-install-recommends);
#    installing slapd does not start a system slapd (policy-rc.d), and a system slapd
#    that the installation started anyway is stopped again;
# 3. cmake -S . -B build && cmake --build build -j$(nproc).
# Safe to run again: it changes nothing that is already in place.
#
# Env: DEVICEPW_BUILD_DIR (default <repo>/build), DEVICEPW_SKIP_APT=1 (skip steps 1-2,
#      e.g. offline, when everything is installed already).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DEVICEPW_BUILD_DIR:-$repo/build}
say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

packages=(
    # the overlay and its slapd headers (cmake/prepare-slapd-source.sh configures
    # Debian's source package of slapd: sasl, tcp wrappers, ltdl, gnutls)
    slapd libldap-dev libsodium-dev libsasl2-dev libwrap0-dev libltdl-dev libgnutls28-dev
    dpkg-dev cmake g++ gcc make pkg-config
    # the tool and the tests
    libboost-program-options-dev libboost-test-dev nlohmann-json3-dev
    # ldapadd/ldappasswd for the demo and the integration tests
    ldap-utils
    # tests/dovecot: Dovecot against slapd with docker/dovecot's templates, python3 for its
    # IMAP/POP3/SMTP client and (with python3-yaml) the docker/compose.yaml check;
    # tests/upstream (OpenLDAP's own tests with the overlay) needs nothing more: python3,
    # flock (util-linux) and what configuring the slapd source tree needs already
    dovecot-imapd dovecot-pop3d dovecot-ldap dovecot-submissiond python3 python3-yaml
    # cmake/abi-check.sh: objdump (binutils), cc and dpkg-buildflags (above)
    binutils
    # apt-get source / dpkg-source: xz-compressed orig tarball
    xz-utils
    # bench/run.sh (table arithmetic, chart) and bench/callgrind.sh
    bc gnuplot-nox valgrind
)

[ "$(id -u)" -eq 0 ] || die "run as root: sudo $0"
export DEBIAN_FRONTEND=noninteractive

# --- deb-src entries -------------------------------------------------------------------
# Mirror the Debian archive's deb entries (not third-party repositories) as deb-src, in a
# file of our own; nothing is written when deb-src entries exist already.
deb822=/etc/apt/sources.list.d/debian.sources
classic=/etc/apt/sources.list
src_file=""
src_text=""
debsrc_elsewhere() {
    # an active deb-src entry in the Debian sources themselves (either format)?
    { [ -f "$deb822" ] && grep -Eqi '^[[:space:]]*Types:.*[[:space:]]deb-src([[:space:]]|$)' "$deb822"; } ||
    { [ -f "$classic" ] && grep -Eq '^[[:space:]]*deb-src[[:space:]]' "$classic"; }
}
if [ -f "$deb822" ] && grep -Eqi '^[[:space:]]*Types:.*\bdeb\b' "$deb822"; then
    src_file=/etc/apt/sources.list.d/devicepw-src.sources
    # every stanza whose Types has "deb": same stanza, Types: deb-src; comments dropped
    src_text=$(awk '
        BEGIN { RS = ""; FS = "\n" }
        {
            isdeb = 0; out = ""
            for (i = 1; i <= NF; i++) {
                line = $i
                if (line ~ /^[ \t]*#/) continue
                if (tolower(line) ~ /^types:/) {
                    n = split(substr(line, 7), t, /[ \t]+/)
                    for (j = 1; j <= n; j++) if (t[j] == "deb") isdeb = 1
                    line = "Types: deb-src"
                }
                out = out line "\n"
            }
            if (isdeb) { printf "%s%s", (shown++ ? "\n" : ""), out }
        }' "$deb822")
elif [ -f "$classic" ] && grep -Eq '^[[:space:]]*deb[[:space:]]' "$classic"; then
    src_file=/etc/apt/sources.list.d/devicepw-src.list
    src_text=$(sed -n -E 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' "$classic")
fi

if [ "${DEVICEPW_SKIP_APT:-0}" = 1 ]; then
    say "DEVICEPW_SKIP_APT=1: not touching apt"
else
    say "apt-get update"
    apt-get update -q
    header="# added by devicepw scripts/setup.sh: Debian source packages (apt-get source)"
    if debsrc_elsewhere; then
        say "deb-src entries already configured"
    elif [ -z "$src_file" ]; then
        die "found no Debian deb entry in $deb822 or $classic to mirror as deb-src;
  add a deb-src entry for your Debian mirror by hand (needed for apt-get source openldap)"
    elif [ -f "$src_file" ] && [ "$(cat "$src_file")" = "$header
$src_text" ]; then
        say "deb-src entries already in $src_file"
    else
        say "adding deb-src entries mirroring the deb entries: $src_file"
        printf '%s\n%s\n' "$header" "$src_text" > "$src_file"
        say "apt-get update (with deb-src)"
        apt-get update -q
    fi

    # --- packages --------------------------------------------------------------------------
    slapd_was_installed=0
    dpkg-query -W -f='${Status}' slapd 2>/dev/null | grep -q '^install ok installed' &&
        slapd_was_installed=1
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' ||
            missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "all packages installed"
    else
        say "installing: ${missing[*]}"
        # Keep maintainer scripts from starting a system slapd on port 389: policy-rc.d
        # exit 101 = action forbidden (invoke-rc.d and deb-systemd-invoke honour it).
        prc=/usr/sbin/policy-rc.d
        own_prc=0
        if [ ! -e "$prc" ]; then
            printf '#!/bin/sh\n# temporary, devicepw scripts/setup.sh\nexit 101\n' > "$prc"
            chmod 755 "$prc"; own_prc=1
        fi
        rc=0
        apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "${packages[@]}" || rc=$?
        if [ "$own_prc" = 1 ]; then rm -f "$prc"; fi
        [ "$rc" -eq 0 ] || die "apt-get install failed (exit $rc)"
        # If slapd came with this run and a system slapd runs anyway (no policy-rc.d
        # support in this environment), stop that one — only that one, by its pid file.
        if [ "$slapd_was_installed" = 0 ] && [ -s /run/slapd/slapd.pid ]; then
            pid=$(cat /run/slapd/slapd.pid)
            if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/slapd ]; then
                say "stopping the system slapd that the package installation started (pid $pid)"
                kill "$pid" || true
                for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            fi
        fi
    fi
fi

for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' ||
        die "package $p is not installed"
done

# --- build -------------------------------------------------------------------------------
say "configuring ($build)"
cmake -S "$repo" -B "$build"
say "building"
cmake --build "$build" -j"$(nproc)"
say "done: module $build/overlay/devicepw.so; run the tests with: ctest --test-dir $build"
