#!/bin/bash
# The compose stack with a real Docker engine, as CI runs it (CTest: docker.stack, label
# docker). On a host without bridge networking and without any reachable registry:
#
#  1. Debian's dockerd, started by tests/docker/dockerd.sh if none answers (no bridge, no
#     iptables);
#  2. a Debian bookworm base image made with debootstrap from the mirror apt already uses
#     (tests/docker/base-image.sh): nothing is pulled from any registry;
#  3. the images built by Debian's docker-compose 1.29 (its default: the docker CLI's
#     classic builder) from compose.yaml + compose.hostnet.yaml + compose.debian-relay.yaml;
#  4. the stack up on the host's network, every listener on 127.0.0.1;
#  5. from the host: a device password made by the tool inside the slapd container with no
#     flags at all; logins with it over IMAP (curl and imaplib), POP3 (poplib) and
#     submission (smtplib, and a message that reaches the relay); revoked, and every login
#     refused; no secret in any container's log; no image pulled;
#  6. everything taken down (containers, network, volumes; the images stay as a cache),
#     and the dockerd stopped again if this test started it.
#
# Prints PASS/FAIL lines, each step's time, and "N passed, N failed". Root only.
# Env: DEVICEPW_DOCKER_KEEP=1 leaves the stack running for a look (then: docker-compose
#      -p devicepw-test -f compose.yaml -f compose.hostnet.yaml -f compose.debian-relay.yaml down -v).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/tests/docker
docker=/usr/bin/docker
project=devicepw-test
base_image=devicepw/debian:bookworm

passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "PASS: $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
step_start=$SECONDS
timed() {  # label: print the time since the last call
    echo "TIME: $1: $((SECONDS - step_start)) s"; step_start=$SECONDS; }
finish() {
    echo
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
fatal() { bad "$*"; cleanup; finish; }

[ "$(id -u)" -eq 0 ] || { echo "docker.stack: needs root (dockerd, debootstrap)"; exit 1; }
command -v docker-compose >/dev/null || fatal "Debian's docker-compose is not installed (scripts/setup.sh installs it)"

tmp=$(mktemp -d /tmp/devicepw-docker-test.XXXXXX)
# docker-compose 1.29 runs "docker build" from PATH: make that Debian's client (another one
# may come first in PATH on these machines), with its classic builder, on the local engine.
mkdir -p "$tmp/bin"
ln -s "$docker" "$tmp/bin/docker"
export PATH="$tmp/bin:$PATH"
export DOCKER_HOST=unix:///var/run/docker.sock
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=1
unset DOCKER_CONTEXT COMPOSE_FILE COMPOSE_PROJECT_NAME
export DEVICEPW_BASE_IMAGE=$base_image

cd "$repo/docker"
compose=(docker-compose -p "$project" -f compose.yaml -f compose.hostnet.yaml -f compose.debian-relay.yaml)
dockerd_pid=""
stack_up=0

cleanup() {
    if [ "$stack_up" = 1 ] && [ "${DEVICEPW_DOCKER_KEEP:-0}" != 1 ]; then
        "${compose[@]}" down -v --remove-orphans -t 10 > "$tmp/down.log" 2>&1 || cat "$tmp/down.log"
        stack_up=0
    fi
    if [ -n "$dockerd_pid" ] && [ "${DEVICEPW_DOCKER_KEEP:-0}" != 1 ]; then
        "$here/dockerd.sh" stop "$dockerd_pid" || true
        dockerd_pid=""
    fi
    rm -rf "$tmp"
}
trap 'cleanup' EXIT

# --- 1. engine -------------------------------------------------------------------------------
out=$("$here/dockerd.sh" start) || fatal "no Docker engine (tests/docker/dockerd.sh start)"
case $out in started*) dockerd_pid=${out#started }; echo "dockerd started by this test (pid $dockerd_pid)" ;; esac
since=$(date +%s)
ok "Debian's dockerd answers: $("$docker" version --format '{{.Server.Version}}')"
timed "engine"

# What an interrupted run may have left (its containers come back with the engine:
# restart: unless-stopped) goes first.
"${compose[@]}" down -v --remove-orphans -t 5 > "$tmp/down-before.log" 2>&1 || cat "$tmp/down-before.log"

# The fixed loopback ports of the host-network stack must be free.
ports=(3389 1143 1110 1587 1025 8025)
for p in "${ports[@]}"; do
    if ss -ltnH "sport = :$p" | grep -q .; then fatal "port $p is in use on this host: $(ss -ltnpH "sport = :$p")"; fi
done
ss -ltnH | awk '{print $4}' | sort -u > "$tmp/listen.before"

# --- 2. base image ---------------------------------------------------------------------------
"$here/base-image.sh" "$base_image" || fatal "the debootstrap base image"
ok "base image $base_image (debootstrap, docker import)"
timed "base image"

# --- 3. build --------------------------------------------------------------------------------
check "docker-compose config accepts the files (no top-level name:, host networking without ports)" \
    "${compose[@]}" config -q
if ! nice "${compose[@]}" build > "$tmp/build.log" 2>&1; then
    tail -40 "$tmp/build.log"
    fatal "docker-compose build"
fi
ok "docker-compose 1.29 built the images with the classic builder"
timed "build"

# --- 4. up -----------------------------------------------------------------------------------
stack_up=1
if ! "${compose[@]}" up -d > "$tmp/up.log" 2>&1; then
    cat "$tmp/up.log"; "${compose[@]}" logs --no-color | tail -60
    fatal "docker-compose up"
fi
cid() { "${compose[@]}" ps -q "$1"; }
healthy() { [ "$("$docker" inspect -f '{{.State.Health.Status}}' "$(cid "$1")" 2>/dev/null)" = healthy ]; }
for _ in $(seq 60); do healthy slapd && healthy dovecot && break; sleep 2; done
check "slapd is healthy" healthy slapd
check "dovecot is healthy" healthy dovecot
check "init exited 0" test "$("$docker" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$(cid init)")" = "exited 0"
timed "up"

# Every listener the stack added is on 127.0.0.1.
# (Other tests may open loopback ports meanwhile: only the stack's ports are named.)
ss -ltnH | awk '{print $4}' | sort -u > "$tmp/listen.after"
new=$(comm -13 "$tmp/listen.before" "$tmp/listen.after")
echo "new listeners: $(echo $new)"
# (8025 is Mailpit's web view: the Debian relay has none.)
for p in 3389 1143 1110 1587 1025; do
    check "a listener on 127.0.0.1:$p" grep -qx "127.0.0.1:$p" <<<"$new"
done
# Every TCP listener of a container process (cgroup under docker) is on 127.0.0.1.
container_listeners() {
    ss -ltnpH | while read -r _ _ _ local _ users; do
        for pid in $(grep -o 'pid=[0-9]*' <<<"$users" | cut -d= -f2 | sort -u); do
            grep -q docker "/proc/$pid/cgroup" 2>/dev/null && { echo "$local"; break; }
        done
    done | sort -u
}
cl=$(container_listeners)
echo "listeners of container processes: $(echo $cl)"
check "the containers listen on 127.0.0.1 only" bash -c '[ -n "$1" ] && ! grep -v "^127\.0\.0\.1:" <<<"$1" | grep -q .' _ "$cl"

# --- 5. the loop -----------------------------------------------------------------------------
# The tool in the container, as root, with no flags: ldap.conf has BASE, URI ldapi:///...,
# SASL_MECH EXTERNAL, and root on the socket is the rootdn.
add_out=$("${compose[@]}" exec -T slapd devicepw device add alice@example.com --label iPhone --quiet 2>"$tmp/add.err")
rc=$?
secret=$(tr -d '[:space:]' <<<"$add_out")
if [ $rc -ne 0 ] || ! grep -Eq '^[a-z0-9]{1,16}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$' <<<"$secret"; then
    cat "$tmp/add.err"
    fatal "docker-compose exec slapd devicepw device add alice@example.com --label iPhone (exit $rc)"
fi
ok "devicepw device add in the slapd container, no flags: a device password"
check "devicepw device list shows it" bash -c '"$@" | grep -q iPhone' _ \
    "${compose[@]}" exec -T slapd devicepw device list alice@example.com
random=${secret#*-}; random=${random//-/}

mc() { python3 "$repo/tests/dovecot/mailclient.py" "$@" >"$tmp/mc.out" 2>&1; echo $?; }
curl_imap() {  # the password through curl's config on stdin, not its command line
    printf 'user = "alice@example.com:%s"\n' "$1" |
        curl -sS -K - --max-time 20 imap://127.0.0.1:1143/ > "$tmp/curl.out" 2>&1
    echo $?
}
r=$(curl_imap "$secret"); check "IMAP login with curl (exit $r)" test "$r" = 0
check "curl lists INBOX" grep -q INBOX "$tmp/curl.out"
r=$(mc imap 127.0.0.1 1143 alice@example.com "$secret"); check "IMAP login with imaplib (exit $r)" test "$r" = 0
r=$(mc pop3 127.0.0.1 1110 alice@example.com "$secret"); check "POP3 login with poplib (exit $r)" test "$r" = 0
r=$(mc submission 127.0.0.1 1587 alice@example.com "$secret"); check "submission login with smtplib (exit $r)" test "$r" = 0
subject="devicepw-docker-test-$$-$RANDOM"
python3 - "$secret" "$subject" > "$tmp/send.out" 2>&1 <<'PY'
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "alice@example.com"; m["To"] = "bob@example.com"; m["Subject"] = sys.argv[2]
m.set_content("sent through Dovecot's submission service with a device password\n")
with smtplib.SMTP("127.0.0.1", 1587, timeout=20) as s:
    s.ehlo("client.example")
    s.login("alice@example.com", sys.argv[1])
    s.send_message(m)
PY
check "a message submitted with the device password" test $? = 0
for _ in $(seq 10); do
    "$docker" exec "$(cid relay)" sh -c 'cat /srv/relay/Maildir/new/* 2>/dev/null' | grep -qF "$subject" && break
    sleep 1
done
check "the message reached the relay" bash -c '"$1" exec "$2" sh -c "cat /srv/relay/Maildir/new/*" | grep -qF "$3"' _ \
    "$docker" "$(cid relay)" "$subject"

# Service scopes: the stack's Dovecot binds as devicepwService=%s,<mailbox> (scoped mode):
# an IMAP-only device logs in over IMAP and nowhere else; the unscoped iPhone everywhere.
imap_out=$("${compose[@]}" exec -T slapd devicepw device add alice@example.com --label "IMAP only" \
    --service imap --quiet 2>"$tmp/add2.err")
imaponly=$(tr -d '[:space:]' <<<"$imap_out")
check "an IMAP-only device from the tool (device add --service imap)" \
    bash -c 'grep -Eq "^[a-z0-9]{1,16}(-[a-z0-9]{4}){4}$" <<<"$1"' _ "$imaponly"
imaponly_random=${imaponly#*-}; imaponly_random=${imaponly_random//-/}
r=$(mc imap 127.0.0.1 1143 alice@example.com "$imaponly"); check "IMAP login with the IMAP-only device (exit $r)" test "$r" = 0
r=$(mc pop3 127.0.0.1 1110 alice@example.com "$imaponly"); check "POP3 refused for the IMAP-only device (exit $r)" test "$r" = 1
r=$(mc submission 127.0.0.1 1587 alice@example.com "$imaponly"); check "submission refused for the IMAP-only device (exit $r)" test "$r" = 1

check "devicepw device revoke in the container" \
    "${compose[@]}" exec -T slapd devicepw device revoke alice@example.com iPhone
r=$(curl_imap "$secret"); check "IMAP (curl) refused after the revocation (curl exit $r, 67 = login denied)" test "$r" = 67
r=$(mc imap 127.0.0.1 1143 alice@example.com "$secret"); check "IMAP (imaplib) refused after the revocation (exit $r)" test "$r" = 1
r=$(mc pop3 127.0.0.1 1110 alice@example.com "$secret"); check "POP3 refused after the revocation (exit $r)" test "$r" = 1
r=$(mc submission 127.0.0.1 1587 alice@example.com "$secret"); check "submission refused after the revocation (exit $r)" test "$r" = 1
r=$(mc imap 127.0.0.1 1143 bob bob-password); check "Bob's own password is no IMAP login (exit $r)" test "$r" = 1

# No secret in any container's log (slapd's stats log, Dovecot's, the relay's, init's).
leak=0
for c in $("${compose[@]}" ps -a -q); do
    name=$("$docker" inspect -f '{{.Name}}' "$c")
    "$docker" logs "$c" > "$tmp/log" 2>&1
    lines=$(wc -l < "$tmp/log")
    if grep -qiF -e "$secret" -e "$random" -e "$imaponly_random" "$tmp/log"; then
        leak=1; bad "a secret appears in the log of $name"
    fi
    echo "log of $name: $lines lines"
done
check "no secret in any container's log" test "$leak" = 0
check "slapd's log names the device (RESULT ... devicepw device=)" bash -c '"$1" logs "$2" 2>&1 | grep -q "devicepw device="' _ \
    "$docker" "$(cid slapd)"

# Nothing came from a registry: no pull event since the engine was checked.
pulls=$("$docker" events --since "$since" --until "$(date +%s)" --filter type=image --filter event=pull 2>&1)
check "no image was pulled (docker events)" test -z "$pulls"
[ -z "$pulls" ] || echo "$pulls"
timed "logins, revocation, log checks"

# --- 6. down ---------------------------------------------------------------------------------
if [ "${DEVICEPW_DOCKER_KEEP:-0}" = 1 ]; then
    echo "DEVICEPW_DOCKER_KEEP=1: the stack stays up (project $project)"
else
    "${compose[@]}" down -v --remove-orphans -t 10 > "$tmp/down.log" 2>&1
    check "docker-compose down -v" test $? = 0
    stack_up=0
    check "no container of the project is left" test -z "$("$docker" ps -a -q --filter "label=com.docker.compose.project=$project")"
    check "no volume of the project is left" test -z "$("$docker" volume ls -q --filter "label=com.docker.compose.project=$project")"
    open_ports=""
    for p in "${ports[@]}"; do ss -ltnH "sport = :$p" | grep -q . && open_ports+=" $p"; done
    check "the stack's ports are closed${open_ports:+ (open:$open_ports)}" test -z "$open_ports"
    check "no container process listens any more" test -z "$(container_listeners)"
fi
timed "down"
cleanup
finish
