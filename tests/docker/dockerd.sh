#!/bin/bash
# Start Debian's dockerd (package docker.io) for the tests, on a host without bridge
# networking: no bridge, no iptables, no masquerading. Containers then use the host's
# network (network_mode: host); builds too (--network host).
#
#   tests/docker/dockerd.sh start    exit 0 when an engine answers on /var/run/docker.sock,
#                                    starting one if none does; prints "started PID" when
#                                    this call started it, "running" otherwise
#   tests/docker/dockerd.sh stop PID stop the dockerd that "start" started (by its pid),
#                                    bounded; containers of other projects are not touched
#
# Idempotent and bounded: waits at most DEVICEPW_DOCKERD_TIMEOUT seconds (60) for the
# engine. Its configuration is a file of its own (never /etc/docker/daemon.json), its log
# /var/log/devicepw-dockerd.log. Always /usr/bin/docker: another client may be first in PATH.
set -euo pipefail

docker=/usr/bin/docker
dockerd=/usr/sbin/dockerd
state=${DEVICEPW_DOCKERD_STATE:-/var/lib/devicepw-dockerd}
log=${DEVICEPW_DOCKERD_LOG:-/var/log/devicepw-dockerd.log}
timeout=${DEVICEPW_DOCKERD_TIMEOUT:-60}
say() { echo "dockerd.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

answers() { timeout 10 "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

case ${1:-} in
start)
    [ -x "$docker" ] && [ -x "$dockerd" ] || die "Debian's docker.io is not installed ($docker, $dockerd)"
    if answers; then echo running; exit 0; fi
    [ "$(id -u)" -eq 0 ] || die "no engine answers, and starting one needs root"
    # A dockerd that is starting (or hung) holds its pid file: wait for it first.
    # (A pid file left by a dockerd that was killed may name another process by now.)
    if [ -s /var/run/docker.pid ] && [ "$(readlink "/proc/$(cat /var/run/docker.pid)/exe" 2>/dev/null)" = "$dockerd" ]; then
        say "a dockerd (pid $(cat /var/run/docker.pid)) is running but does not answer yet: waiting"
        for _ in $(seq "$timeout"); do answers && { echo running; exit 0; }; sleep 1; done
        die "dockerd pid $(cat /var/run/docker.pid) does not answer after ${timeout}s (see $log)"
    fi
    mkdir -p "$state"
    cat > "$state/daemon.json" <<'JSON'
{
  "bridge": "none",
  "iptables": false,
  "ip6tables": false,
  "ip-masq": false,
  "log-driver": "json-file",
  "log-opts": { "max-size": "10m", "max-file": "2" }
}
JSON
    say "starting $dockerd (no bridge, no iptables; log $log)"
    # Detached from the caller: its own session, no inherited descriptors (ctest waits for
    # the test's output pipe to close).
    setsid "$dockerd" --config-file "$state/daemon.json" </dev/null >>"$log" 2>&1 &
    pid=$!
    for _ in $(seq "$timeout"); do
        if answers; then echo "started $pid"; exit 0; fi
        kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; die "dockerd exited (log above)"; }
        sleep 1
    done
    tail -20 "$log" >&2
    kill "$pid" 2>/dev/null || true
    die "dockerd did not answer within ${timeout}s"
    ;;
stop)
    pid=${2:?usage: dockerd.sh stop PID}
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$dockerd" ] || { say "pid $pid is not $dockerd: nothing to stop"; exit 0; }
    kill "$pid"
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || { say "dockerd $pid stopped"; exit 0; }; sleep 1; done
    say "dockerd $pid still running after 30s: SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
    ;;
*)
    echo "usage: $0 start | stop PID" >&2; exit 2 ;;
esac
