#!/bin/bash
# Dovecot against slapd + devicepw, with the compose stack's own entry points and
# templates, outside any container (CI has no Docker engine):
#
#   docker/slapd-entrypoint.sh            slapd on 127.0.0.1:<free port>, temp dirs
#   docker/demo/init-demo.sh              mailbox alice@example.com, person bob
#   ldapadd + ldappasswd                  devices and their secrets
#   docker/dovecot/dovecot-entrypoint.sh  Dovecot on 127.0.0.1 high ports, once with the
#                                         DN template and once with search-then-bind
#   tests/dovecot/mailclient.py           IMAP LOGIN and POP3 USER/PASS (python3 stdlib)
#   doveadm auth test -x service=submission
#
# Usage: dovecot_test.sh MODULE_PATH (the built devicepw.so). Run by CTest.
# As root it re-executes itself as nobody (slapd and Dovecot then run unprivileged, as the
# image's slapd runs as openldap); DEVICEPW_DOVECOT_TEST_KEEP=1 keeps the temp directory.
# Prints one line per assertion and "N passed, N failed"; exits 1 when any failed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
module=${1:?usage: dovecot_test.sh MODULE_PATH}
module=$(readlink -f "$module")

say() { echo "dovecot-test: $*"; }
fatal() { echo "dovecot-test: FATAL: $*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    getent passwd nobody >/dev/null || fatal "running as root and there is no user nobody to drop to"
    # nobody may not be able to reach the checkout (a clone in a 0700 directory): run
    # from a world-readable copy of what the test uses, removed again afterwards.
    stage=$(mktemp -d /tmp/devicepw-dovecot-stage.XXXXXX) || fatal "mktemp failed"
    mkdir -p "$stage/tests" &&
        cp -a "$repo/docker" "$repo/schema" "$stage/" &&
        cp -a "$repo/tests/dovecot" "$stage/tests/" &&
        install -m 0644 "$module" "$stage/devicepw.so" &&
        chmod -R a+rX "$stage" || { rm -rf "$stage"; fatal "cannot stage the test files in $stage"; }
    say "running as root: re-executing as nobody (from $stage)"
    setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
        env HOME=/ TMPDIR=/tmp "$stage/tests/dovecot/dovecot_test.sh" "$stage/devicepw.so"
    rc=$?
    rm -rf "$stage"
    exit "$rc"
fi

for cmd in /usr/sbin/slapd /usr/sbin/dovecot /usr/bin/doveadm /usr/bin/doveconf ldapadd ldappasswd ldapmodify ldapwhoami python3; do
    command -v "$cmd" >/dev/null || fatal "$cmd not found (scripts/setup.sh installs slapd, ldap-utils, dovecot-imapd, dovecot-pop3d, dovecot-ldap)"
done
[ -e /usr/lib/dovecot/modules/auth/libauthdb_ldap.so ] ||
    fatal "Dovecot's LDAP driver is missing (apt-get install dovecot-ldap)"
[ -f "$module" ] || fatal "module $module not found"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/devicepw-dovecot.XXXXXX") || fatal "mktemp failed"
pids=()

stop_pid() {  # pid name: TERM, bounded wait, KILL
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "dovecot-test: $2 (pid $pid) did not stop, killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}
cleanup() {
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        stop_pid "${pids[i]%%:*}" "${pids[i]#*:}"
    done
    if [ "${DEVICEPW_DOVECOT_TEST_KEEP:-0}" = 1 ]; then
        echo "dovecot-test: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- assertions ----------------------------------------------------------------------------
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "PASS: $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }
show_logs() {
    local f
    for f in "$tmp"/*.log; do
        [ -f "$f" ] || continue
        echo "---- last lines of $(basename "$f") ----"
        tail -n 25 "$f"
    done
    echo "----"
}

free_ports() {  # N: N distinct free TCP ports on 127.0.0.1
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

wait_for() {  # what pid command...: poll every 100 ms, 30 s at most, while pid lives
    local what=$1 pid=$2 end=$((SECONDS + 30)); shift 2
    while [ "$SECONDS" -lt "$end" ]; do
        kill -0 "$pid" 2>/dev/null || { echo "dovecot-test: $what exited during startup" >&2; return 1; }
        if timeout 5 "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "dovecot-test: $what did not come up within 30 s" >&2
    return 1
}

read -r ldap_port imap_u pop3_u subm_u imap_s pop3_s subm_s relay_port imap_c pop3_c subm_c < <(free_ports 11)
[ -n "$relay_port" ] || fatal "could not find free ports"
suffix="dc=example,dc=com"
rootdn="cn=admin,$suffix"
adminpw="admin-$RANDOM$RANDOM"
lookuppw="lookup-$RANDOM$RANDOM"
address="alice@example.com"
mailbox="uid=$address,ou=mailboxes,$suffix"
person="uid=bob,ou=people,$suffix"
personpw="bob-own-password"
uri="ldap://127.0.0.1:$ldap_port/"

# ---- slapd through the image's entry point ---------------------------------------------------
slapd_env=(
    DEVICEPW_SUFFIX="$suffix"
    DEVICEPW_ADMIN_PASSWORD="$adminpw"
    DEVICEPW_LOOKUP_PASSWORD="$lookuppw"
    DEVICEPW_KEY_FILE="$tmp/slapd/key/devicepw.key"
    DEVICEPW_DATA_DIR="$tmp/slapd/data"
    DEVICEPW_RUN_DIR="$tmp/slapd/run"
    DEVICEPW_URLS="$uri"
    DEVICEPW_LOG_LEVEL=stats
    DEVICEPW_MODULE="$module"
    DEVICEPW_SCHEMA="$repo/schema/devicepw.schema"
)
say "starting slapd via docker/slapd-entrypoint.sh on $uri"
env "${slapd_env[@]}" "$repo/docker/slapd-entrypoint.sh" < /dev/null > "$tmp/slapd.log" 2>&1 &
spid=$!
pids+=("$spid:slapd")
if ! wait_for slapd "$spid" env "${slapd_env[@]}" "$repo/docker/slapd-entrypoint.sh" healthcheck; then
    show_logs; fatal "slapd did not start"
fi
ok "slapd-entrypoint.sh started slapd and its healthcheck answers"
mode=$(stat -c %a "$tmp/slapd/key/devicepw.key" 2>/dev/null)
if [ "$mode" = 600 ] && grep -Eq '^[a-z0-9]{1,16} [0-9a-f]{64}$' "$tmp/slapd/key/devicepw.key"; then
    ok "the entry point created the key file, mode 0600, with a valid key"
else
    bad "key file: mode '$mode' or no valid key line"
fi
if [ "$(readlink "/proc/$spid/exe")" = /usr/sbin/slapd ]; then
    ok "the entry point exec'd slapd (same pid, no wrapper left)"
else
    bad "pid $spid is not slapd: $(readlink "/proc/$spid/exe")"
fi

# ---- data: the compose init step, then devices with ldap-utils --------------------------------
admin=(-x -H "$uri" -D "$rootdn" -w "$adminpw" -o nettimeout=10)
if LDAP_URI="$uri" DEVICEPW_SUFFIX="$suffix" DEVICEPW_ADMIN_PASSWORD="$adminpw" \
   DEMO_MAILBOX="$address" DEMO_PERSON=bob DEMO_PERSON_PASSWORD="$personpw" \
   "$repo/docker/demo/init-demo.sh" > "$tmp/init-demo.log" 2>&1 &&
   LDAP_URI="$uri" DEVICEPW_SUFFIX="$suffix" DEVICEPW_ADMIN_PASSWORD="$adminpw" \
   DEMO_MAILBOX="$address" DEMO_PERSON=bob DEMO_PERSON_PASSWORD="$personpw" \
   "$repo/docker/demo/init-demo.sh" >> "$tmp/init-demo.log" 2>&1; then
    ok "docker/demo/init-demo.sh created the demo mailbox and person (and runs again)"
else
    cat "$tmp/init-demo.log"; show_logs; fatal "init-demo.sh failed"
fi

add_device() {  # id label
    printf 'dn: devicepwId=%s,%s\nobjectClass: devicepwDevice\ndevicepwId: %s\ndevicepwLabel: %s\n' \
        "$1" "$mailbox" "$1" "$2" | ldapadd "${admin[@]}" > /dev/null
}
gen_secret() {  # id: prints the new secret
    ldappasswd "${admin[@]}" "devicepwId=$1,$mailbox" | sed -n 's/^New password: //p'
}
add_device phone "Alice's phone" && add_device old "Alice's old laptop" ||
    { show_logs; fatal "adding the devices failed"; }
# an IMAP-only device (service scope), for the scoped mode
printf 'dn: devicepwId=imaponly,%s\nobjectClass: devicepwDevice\ndevicepwId: imaponly\ndevicepwLabel: IMAP only\ndevicepwService: imap\n' \
    "$mailbox" | ldapadd "${admin[@]}" > /dev/null || { show_logs; fatal "adding the IMAP-only device failed"; }
imaponly=$(gen_secret imaponly)
[[ $imaponly =~ ^imaponly-([a-z0-9]{4}-){3}[a-z0-9]{4}$ ]] || { show_logs; fatal "no secret for the IMAP-only device"; }
phone=$(gen_secret phone); old=$(gen_secret old)
if [[ $phone =~ ^phone-([a-z0-9]{4}-){3}[a-z0-9]{4}$ && $old =~ ^old-([a-z0-9]{4}-){3}[a-z0-9]{4}$ ]]; then
    ok "ldappasswd generated device secrets (phone-..., old-...)"
else
    show_logs; fatal "ldappasswd gave no device secret (got '$phone' / '$old')"
fi
# Sanity of the negative cases: bob's own password is good for bob himself, and both
# secrets bind as the mailbox directly.
if ldapwhoami -x -H "$uri" -D "$person" -w "$personpw" >/dev/null 2>&1; then
    ok "bob's own password binds as bob (so refusing it for the mailbox means something)"
else
    bad "bob's own password does not bind as bob"
fi
if ldapwhoami -x -H "$uri" -D "$mailbox" -w "$phone" >/dev/null 2>&1 &&
   ldapwhoami -x -H "$uri" -D "$mailbox" -w "$old" >/dev/null 2>&1; then
    ok "both device secrets bind as the mailbox over LDAP"
else
    bad "a device secret does not bind as the mailbox over LDAP"
fi

# ---- Dovecot, both DN modes, through the image's entry point ---------------------------------
declare -A imap_port=([userdn]=$imap_u [search]=$imap_s [scoped]=$imap_c)
declare -A pop3_port=([userdn]=$pop3_u [search]=$pop3_s [scoped]=$pop3_c)
declare -A subm_port=([userdn]=$subm_u [search]=$subm_s [scoped]=$subm_c)
# Dovecot's own submission service when its package is there (dovecot-submissiond): real
# SMTP AUTH logins too. doveadm auth test service=submission runs either way.
protocols="imap pop3"
if [ -x /usr/lib/dovecot/submission-login ]; then
    protocols="imap pop3 submission"
    # the submission process connects to its relay right after a login: a stub that greets
    python3 "$repo/tests/dovecot/relay_stub.py" "$relay_port" > "$tmp/relay.log" 2>&1 &
    rpid=$!
    pids+=("$rpid:relay-stub")
    wait_for relay-stub "$rpid" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$relay_port" ||
        { show_logs; fatal "the relay stub did not start"; }
else
    say "dovecot-submissiond is not installed: submission checked with doveadm auth test only"
fi
dovecot_env() {  # mode: sets the array denv
    local d="$tmp/dovecot-$1"
    denv=(DOVECOT_CONFIG_DIR="$d/conf" DOVECOT_BASE_DIR="$d/run" DOVECOT_STATE_DIR="$d/state"
        DOVECOT_INSTANCE_NAME="devicepw-test-$1" DOVECOT_LISTEN=127.0.0.1
        DOVECOT_PROTOCOLS="$protocols"
        DOVECOT_IMAP_PORT="${imap_port[$1]}" DOVECOT_POP3_PORT="${pop3_port[$1]}"
        DOVECOT_SUBMISSION_PORT="${subm_port[$1]}"
        DOVECOT_MAIL_UID="$(id -u)" DOVECOT_MAIL_GID="$(id -g)" DOVECOT_MAIL_ROOT="$d/mail"
        DOVECOT_FIRST_VALID_UID="$(id -u)" DOVECOT_FIRST_VALID_GID="$(id -g)"
        DOVECOT_AUTH_FAILURE_DELAY=0 DOVECOT_AUTH_PENALTY_SOCKET_MODE=0
        DOVECOT_LDAP_MODE="$1" DOVECOT_LDAP_URIS="$uri" DOVECOT_LDAP_SUFFIX="$suffix"
        DOVECOT_LDAP_LOOKUP_PASSWORD="$lookuppw" DOVECOT_HOSTNAME=localhost
        DOVECOT_SUBMISSION_RELAY_HOST=127.0.0.1 DOVECOT_SUBMISSION_RELAY_PORT="$relay_port")
}
for m in userdn search scoped; do
    dovecot_env "$m"
    env "${denv[@]}" "$repo/docker/dovecot/dovecot-entrypoint.sh" < /dev/null > "$tmp/dovecot-$m.log" 2>&1 &
    dpid=$!
    pids+=("$dpid:dovecot-$m")
    if ! wait_for "dovecot ($m)" "$dpid" env "${denv[@]}" "$repo/docker/dovecot/dovecot-entrypoint.sh" healthcheck; then
        show_logs; fatal "Dovecot ($m) did not start"
    fi
    ok "[$m] dovecot-entrypoint.sh rendered the templates and Dovecot greets on 127.0.0.1:${imap_port[$m]}"
done
conf() { echo "$tmp/dovecot-$1/conf/dovecot.conf"; }
if grep -q '^auth_bind_userdn = uid=%u,ou=mailboxes,dc=example,dc=com$' "$tmp/dovecot-userdn/conf/dovecot-ldap.conf.ext" &&
   ! grep -q '^auth_bind_userdn' "$tmp/dovecot-search/conf/dovecot-ldap.conf.ext" &&
   grep -q '^pass_filter = (&(objectClass=devicepwMailbox)(mail=%u))$' "$tmp/dovecot-search/conf/dovecot-ldap.conf.ext"; then
    ok "the two Dovecot instances use the DN template and the search by mail respectively"
else
    bad "rendered LDAP configurations are not the two expected modes"
fi
if [ "$(doveconf -c "$(conf userdn)" -h auth_cache_size)" = 0 ]; then
    ok "the rendered configuration has no auth cache (auth_cache_size = 0)"
else
    bad "auth_cache_size is $(doveconf -c "$(conf userdn)" -h auth_cache_size)"
fi

expect_login() {  # mode proto user password expect(ok|refused) description
    local rc=0 got
    local -n ports="${2}_port"
    [ "$2" != submission ] || local -n ports=subm_port
    python3 "$repo/tests/dovecot/mailclient.py" "$2" 127.0.0.1 "${ports[$1]}" \
        "$3" "$4" > "$tmp/client.out" 2>&1 || rc=$?
    case $rc in 0) got=ok ;; 1) got=refused ;; *) got="error ($(tr '\n' ' ' < "$tmp/client.out"))" ;; esac
    if [ "$got" = "$5" ]; then ok "[$1] ${2^^} $6: $got"; else bad "[$1] ${2^^} $6: expected $5, got $got"; fi
}
expect_auth() {  # mode user password expect description [service]
    local rc=0 out got svc=${6:-submission}
    out=$(doveadm -c "$(conf "$1")" auth test -x service="$svc" "$2" "$3" 2>&1) || rc=$?
    if [ "$rc" = 0 ] && grep -q 'auth succeeded' <<<"$out"; then got=ok
    elif [ "$rc" != 0 ] && grep -q 'auth failed' <<<"$out"; then got=refused
    else got="error (exit $rc: $(tr '\n' ' ' <<<"$out"))"; fi
    if [ "$got" = "$4" ]; then ok "[$1] doveadm auth test service=$svc $5: $got"
    else bad "[$1] doveadm auth test service=$svc $5: expected $4, got $got"; fi
}

wrong_device="phone-$(tr 'a-z' 'b-za' <<<"${phone#phone-}")"   # right id, wrong random part
upper_spaced=$(tr 'a-z-' 'A-Z ' <<<"$phone")                   # PHONE XXXX XXXX ...
for m in userdn search; do
    expect_login "$m" imap "$address" "$phone" ok "with the device password"
    expect_login "$m" imap "${address^^}" "$upper_spaced" ok "with upper-case login and the secret in upper case with spaces"
    expect_login "$m" pop3 "$address" "$phone" ok "with the device password"
    expect_auth  "$m" "$address" "$phone" ok "with the device password"
    [ "$protocols" = "imap pop3" ] || expect_login "$m" submission "$address" "$phone" ok "with the device password"
    expect_login "$m" imap "$address" "$old" ok "with the second device's password (before revocation)"
done

# The scoped mode: Dovecot binds as devicepwService=%s,<mailbox>. The IMAP-only device logs
# in over IMAP and nowhere else; an unscoped device everywhere; the rendered DN names %s.
if grep -q '^auth_bind_userdn = devicepwService=%s,uid=%u,ou=mailboxes,dc=example,dc=com$' \
        "$tmp/dovecot-scoped/conf/dovecot-ldap.conf.ext"; then
    ok "[scoped] the rendered DN template is devicepwService=%s,uid=%u,ou=mailboxes,..."
else
    bad "[scoped] rendered auth_bind_userdn is not the scoped template"
fi
expect_login scoped imap "$address" "$phone" ok "with an unscoped device"
expect_login scoped pop3 "$address" "$phone" ok "with an unscoped device"
expect_auth  scoped "$address" "$phone" ok "with an unscoped device"
[ "$protocols" = "imap pop3" ] || expect_login scoped submission "$address" "$phone" ok "with an unscoped device"
expect_login scoped imap "$address" "$imaponly" ok "with the IMAP-only device"
expect_auth  scoped "$address" "$imaponly" ok "with the IMAP-only device" imap
expect_login scoped pop3 "$address" "$imaponly" refused "with the IMAP-only device"
expect_auth  scoped "$address" "$imaponly" refused "with the IMAP-only device"
expect_auth  scoped "$address" "$imaponly" refused "with the IMAP-only device (Postfix SASL)" smtp
[ "$protocols" = "imap pop3" ] || expect_login scoped submission "$address" "$imaponly" refused "with the IMAP-only device"
expect_login scoped imap "$address" "$personpw" refused "with bob's own password"
# an IMAP-only device through the plain mailbox DN (userdn mode: no service) is refused too
expect_login userdn imap "$address" "$imaponly" refused "with the IMAP-only device (the plain mailbox DN names no service)"

# Revoke the second device: no cache anywhere, so the very next login is refused.
if printf 'dn: devicepwId=old,%s\nchangetype: modify\nreplace: devicepwRevoked\ndevicepwRevoked: TRUE\n' "$mailbox" |
   ldapmodify "${admin[@]}" > /dev/null; then
    ok "revoked device old"
else
    bad "revoking device old failed"
fi

for m in userdn search; do
    expect_login "$m" imap "$address" "$old" refused "with the revoked device's password"
    expect_login "$m" pop3 "$address" "$old" refused "with the revoked device's password"
    expect_auth  "$m" "$address" "$old" refused "with the revoked device's password"
    [ "$protocols" = "imap pop3" ] || expect_login "$m" submission "$address" "$old" refused "with the revoked device's password"
    expect_login "$m" imap "$address" "$personpw" refused "with bob's own password (a user of the mailbox)"
    expect_login "$m" pop3 "$address" "$personpw" refused "with bob's own password"
    expect_auth  "$m" "$address" "$personpw" refused "with bob's own password"
    [ "$protocols" = "imap pop3" ] || expect_login "$m" submission "$address" "$personpw" refused "with bob's own password"
    expect_login "$m" imap "$address" "wrong-password" refused "with a wrong password"
    expect_login "$m" pop3 "$address" "wrong-password" refused "with a wrong password"
    expect_auth  "$m" "$address" "wrong-password" refused "with a wrong password"
    [ "$protocols" = "imap pop3" ] || expect_login "$m" submission "$address" "wrong-password" refused "with a wrong password"
    expect_login "$m" imap "$address" "$wrong_device" refused "with the phone's id and a wrong random part"
    expect_auth  "$m" "$address" "$wrong_device" refused "with the phone's id and a wrong random part"
    expect_login "$m" imap "nobody@example.com" "$phone" refused "as a mailbox that does not exist"
    # the revocation of one device leaves the other alone
    expect_login "$m" imap "$address" "$phone" ok "with the unrevoked device after the revocation"
done

# Dovecot's logs must never hold a secret.
if grep -qiF -e "${phone#phone-}" -e "${old#old-}" -e "${imaponly#imaponly-}" "$tmp"/dovecot-*.log "$tmp/slapd.log"; then
    bad "a device secret appears in the Dovecot or slapd log"
else
    ok "no device secret in the Dovecot or slapd logs"
fi

[ "$failed" -eq 0 ] || show_logs
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
