#!/bin/bash
# Make a Debian bookworm base image without any container registry: debootstrap
# --variant=minbase from the Debian mirror that this machine's apt already uses, then
# `docker import`. Its apt sources name bookworm, bookworm-updates and bookworm-security,
# so that the images' build and runtime stages see the same slapd version as this host.
#
#   tests/docker/base-image.sh [TAG]      default TAG: devicepw/debian:bookworm
#
# Does nothing when TAG exists already (DEVICEPW_BASE_REBUILD=1 makes it anew).
# Env: DEVICEPW_DEBIAN_MIRROR (default: the first Debian mirror in apt's sources),
#      DOCKER (default /usr/bin/docker).
set -euo pipefail

tag=${1:-devicepw/debian:bookworm}
docker=${DOCKER:-/usr/bin/docker}
say() { echo "base-image: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap)"
if [ "${DEVICEPW_BASE_REBUILD:-0}" != 1 ] && "$docker" image inspect "$tag" >/dev/null 2>&1; then
    say "$tag exists"
    exit 0
fi
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"

# The mirror: the URI of the first deb entry for the Debian archive (not -security).
mirror=${DEVICEPW_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
    mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
             awk '$2 == "bookworm" { print $1; exit }')
fi
[ -n "$mirror" ] || die "found no bookworm entry in apt's sources; set DEVICEPW_DEBIAN_MIRROR"
mirror=${mirror%/}
security=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
           awk '$2 == "bookworm-security" { print $1; exit }')
security=${security%/}
[ -n "$security" ] || security=${mirror%/debian}/debian-security
say "debootstrap --variant=minbase bookworm from $mirror (security: $security)"

work=$(mktemp -d /var/tmp/devicepw-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
debootstrap --variant=minbase --components=main bookworm "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

cat > "$rootfs/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SRC
# What Debian's official images do: no daemons started by package installs, no caches.
printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
printf 'APT::Install-Recommends "false";\n' > "$rootfs/etc/apt/apt.conf.d/90devicepw-no-recommends"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/tmp/* 2>/dev/null || true

say "docker import as $tag"
tar -C "$rootfs" --numeric-owner -c . |
    "$docker" import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "$tag" >/dev/null
"$docker" image inspect -f '{{.Id}} {{.Size}}' "$tag" >&2
