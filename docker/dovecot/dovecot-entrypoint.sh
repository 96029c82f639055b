#!/bin/bash
# Render Dovecot's configuration for devicepw from the templates next to this script and
# run Dovecot in the foreground. The entry point of the compose stack's dovecot image, and
# what tests/dovecot/ runs outside any container (with temporary directories and loopback
# ports), so that the image's configuration is the one CI proves.
#
#   dovecot-entrypoint.sh              render, check with doveconf, exec dovecot -F
#   dovecot-entrypoint.sh render       render and check only; print the dovecot.conf path
#   dovecot-entrypoint.sh healthcheck  exit 0 when the IMAP listener greets
#   dovecot-entrypoint.sh CMD ARGS...  exec CMD (e.g. doveadm -c ... auth test ...)
#
# Every @NAME@ in the templates is $DOVECOT_NAME, or the default below. Values are
# inserted as they are (no newlines).
set -euo pipefail

say() { echo "dovecot-entrypoint: $*" >&2; }
die() { say "error: $*"; exit 1; }

templates=${DOVECOT_TEMPLATE_DIR:-$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")}

if [ "$(id -u)" -eq 0 ]; then
    d_internal=dovecot; d_internal_group=dovecot; d_login=dovenull
    d_chroot=login; d_anvil_chroot=empty
else
    # Dovecot started by an unprivileged user runs every process as that user.
    d_internal=$(id -un); d_internal_group=$(id -gn); d_login=$(id -un)
    d_chroot=""; d_anvil_chroot=""
fi

# name  default
# shellcheck disable=SC2054  # commas inside DNs, not separators
defaults=(
    CONFIG_DIR            /etc/dovecot/devicepw
    PROTOCOLS             "imap pop3"
    LISTEN                "*"
    BASE_DIR              /run/dovecot
    STATE_DIR             /var/lib/dovecot
    INSTANCE_NAME         dovecot
    INTERNAL_USER         "$d_internal"
    INTERNAL_GROUP        "$d_internal_group"
    LOGIN_USER            "$d_login"
    LOGIN_CHROOT          "$d_chroot"
    ANVIL_CHROOT          "$d_anvil_chroot"
    SSL                   no
    SSL_CERT              /etc/dovecot/tls/cert.pem
    SSL_KEY               /etc/dovecot/tls/key.pem
    DISABLE_PLAINTEXT_AUTH no
    AUTH_CACHE_SIZE       0
    AUTH_CACHE_TTL        "1 hour"
    AUTH_FAILURE_DELAY    "2 secs"
    AUTH_DEBUG            no
    LOGIN_TRUSTED_NETWORKS ""
    AUTH_PENALTY_SOCKET_MODE 0600
    MAIL_UID              vmail
    MAIL_GID              vmail
    MAIL_ROOT             /srv/mail
    FIRST_VALID_UID       500
    FIRST_VALID_GID       1
    IMAP_PORT             143
    POP3_PORT             110
    SUBMISSION_PORT       587
    AUTH_PORT             0
    HOSTNAME              "$(hostname -f 2>/dev/null || hostname)"
    SUBMISSION_RELAY_HOST localhost
    SUBMISSION_RELAY_PORT 25
    LDAP_MODE             userdn
    LDAP_URIS             ldap://slapd/
    LDAP_SUFFIX           dc=example,dc=com
    LDAP_BASE             ""
    LDAP_USERDN           ""
    LDAP_LOOKUP_DN        ""
    LDAP_LOOKUP_PASSWORD  ""
)

declare -A val=()
for ((i = 0; i < ${#defaults[@]}; i += 2)); do
    name=${defaults[i]}
    env="DOVECOT_$name"
    val[$name]=${!env-${defaults[i+1]}}
done
# Derived defaults.
[ -n "${val[LDAP_BASE]}" ] || val[LDAP_BASE]="ou=mailboxes,${val[LDAP_SUFFIX]}"
[ -n "${val[LDAP_USERDN]}" ] || val[LDAP_USERDN]="uid=%u,${val[LDAP_BASE]}"
[ -n "${val[LDAP_LOOKUP_DN]}" ] || val[LDAP_LOOKUP_DN]="cn=lookup,ou=services,${val[LDAP_SUFFIX]}"
if [ -z "${val[LDAP_LOOKUP_PASSWORD]}" ] && [ -n "${DOVECOT_LDAP_LOOKUP_PASSWORD_FILE:-}" ]; then
    val[LDAP_LOOKUP_PASSWORD]=$(cat "$DOVECOT_LDAP_LOOKUP_PASSWORD_FILE")
fi

healthcheck() {
    # The IMAP greeting on the IMAP port (bash's /dev/tcp), bounded in time.
    local host=${val[LISTEN]}
    case $host in "*"|"::"|"0.0.0.0"|"") host=127.0.0.1 ;; esac
    host=${host%% *}
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" && IFS= read -r line <&3 && [[ $line == "* OK"* ]]' \
        "$host" "${val[IMAP_PORT]}"
}

render_one() {  # template output
    local tmpl=$1 out=$2 text name v
    text=$(cat "$tmpl")
    for name in "${!val[@]}"; do
        v=${val[$name]}
        text=${text//"@$name@"/"$v"}   # quoted: no "&" expansion (bash 5.2)
    done
    if grep -Eo '@[A-Z_]+@' <<<"$text" | head -n1 | grep -q .; then
        die "$tmpl: unknown placeholder $(grep -Eo '@[A-Z_]+@' <<<"$text" | head -n1)"
    fi
    printf '%s\n' "$text" > "$out.tmp"
    mv "$out.tmp" "$out"
}

render() {
    local n
    for n in "${!val[@]}"; do
        case ${val[$n]} in *$'\n'*) die "DOVECOT_$n must not contain a newline" ;; esac
    done
    case ${val[LDAP_MODE]} in
        userdn|search|scoped) ;;
        *) die "DOVECOT_LDAP_MODE must be userdn (DN from the login), scoped (DN from the login and the service: devicepwService=%s,<userdn>) or search (search by mail, then bind)" ;;
    esac
    if [ "${val[LDAP_MODE]}" = search ] && [ -z "${val[LDAP_LOOKUP_PASSWORD]}" ]; then
        die "DOVECOT_LDAP_MODE=search needs DOVECOT_LDAP_LOOKUP_PASSWORD (the password of ${val[LDAP_LOOKUP_DN]})"
    fi
    local dir=${val[CONFIG_DIR]}
    mkdir -p "$dir" "${val[BASE_DIR]}" "${val[STATE_DIR]}"
    (
        umask 077   # dovecot-ldap.conf.ext may hold the lookup password
        render_one "$templates/dovecot-ldap-${val[LDAP_MODE]}.conf.ext.in" "$dir/dovecot-ldap.conf.ext"
    )
    if [ "$(id -u)" -eq 0 ]; then chown root:root "$dir/dovecot-ldap.conf.ext"; fi
    render_one "$templates/dovecot.conf.in" "$dir/dovecot.conf"
    rm -f "$dir/tls.conf" "$dir/submission.conf"
    if [ "${val[SSL]}" != no ]; then
        render_one "$templates/tls.conf.in" "$dir/tls.conf"
    fi
    case " ${val[PROTOCOLS]} " in
        *" submission "*) render_one "$templates/submission.conf.in" "$dir/submission.conf" ;;
    esac
    # doveconf parses everything (unknown settings, bad values) without starting anything.
    local out
    if ! out=$(doveconf -c "$dir/dovecot.conf" -n 2>&1 >/dev/null); then
        printf '%s\n' "$out" >&2
        die "Dovecot does not accept the rendered configuration $dir/dovecot.conf (above)"
    fi
}

case ${1:-} in
    healthcheck) healthcheck; exit ;;
    render) render; echo "${val[CONFIG_DIR]}/dovecot.conf"; exit 0 ;;
    ""|dovecot) ;;
    *) exec "$@" ;;
esac

render
if [ "$(id -u)" -eq 0 ] && [ "${val[MAIL_UID]}" = vmail ] && getent passwd vmail >/dev/null; then
    mkdir -p "${val[MAIL_ROOT]}"
    chown vmail:vmail "${val[MAIL_ROOT]}"
fi
say "starting Dovecot (${val[PROTOCOLS]}; LDAP ${val[LDAP_MODE]} against ${val[LDAP_URIS]})"
unset DOVECOT_LDAP_LOOKUP_PASSWORD   # it is in dovecot-ldap.conf.ext (0600) now
exec dovecot -F -c "${val[CONFIG_DIR]}/dovecot.conf"
