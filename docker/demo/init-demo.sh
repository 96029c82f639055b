#!/bin/bash
# The compose stack's init step (and tests/dovecot/): create a demo mailbox and the
# person who uses it, through the running slapd, as its rootdn. Safe to run again:
# entries that exist already are left alone.
#
#   alice@example.com   uid=<address>,ou=mailboxes,<suffix>: a mailbox with no password
#                       of its own (devicepwMailbox); devicepwUser: bob
#   bob                 uid=bob,ou=people,<suffix>: a person with his own password
#
# Env: LDAP_URI (ldap://slapd/), DEVICEPW_SUFFIX (dc=example,dc=com), DEVICEPW_ROOTDN
#      (cn=admin,<suffix>), DEVICEPW_ADMIN_PASSWORD (or DEVICEPW_ADMIN_PASSWORD_FILE),
#      DEMO_MAILBOX (alice@example.com), DEMO_PERSON (bob), DEMO_PERSON_PASSWORD
#      (bob-password).
set -euo pipefail

say() { echo "init-demo: $*" >&2; }
die() { say "error: $*"; exit 1; }

uri=${LDAP_URI:-ldap://slapd/}
suffix=${DEVICEPW_SUFFIX:-dc=example,dc=com}
rootdn=${DEVICEPW_ROOTDN:-cn=admin,$suffix}
if [ -n "${DEVICEPW_ADMIN_PASSWORD_FILE:-}" ]; then
    pw=$(cat "$DEVICEPW_ADMIN_PASSWORD_FILE")
else
    pw=${DEVICEPW_ADMIN_PASSWORD:?set DEVICEPW_ADMIN_PASSWORD}
fi
address=${DEMO_MAILBOX:-alice@example.com}
person=${DEMO_PERSON:-bob}
person_pw=${DEMO_PERSON_PASSWORD:-bob-password}
mailbox_dn="uid=$address,ou=mailboxes,$suffix"
person_dn="uid=$person,ou=people,$suffix"

# The password goes through a file, not the command line.
pwfile=$(mktemp)
trap 'rm -f "$pwfile"' EXIT
printf '%s' "$pw" > "$pwfile"
admin=(-x -H "$uri" -D "$rootdn" -y "$pwfile" -o nettimeout=10)

exists() {
    local rc=0
    ldapsearch "${admin[@]}" -LLL -s base -b "$1" 1.1 >/dev/null 2>&1 || rc=$?
    case $rc in
        0) return 0 ;;
        32) return 1 ;;   # noSuchObject
        *) die "cannot search $1 on $uri (ldapsearch exit $rc)" ;;
    esac
}

add() {  # dn ldif
    if exists "$1"; then
        say "exists: $1"
    else
        printf '%s\n' "$2" | ldapadd "${admin[@]}" >/dev/null || die "adding $1 failed"
        say "added: $1"
    fi
}

local_part=${address%@*}
# Store the person's password hashed when slappasswd is at hand (the slapd image has it).
if command -v slappasswd >/dev/null 2>&1; then
    person_pw=$(printf '%s' "$person_pw" | slappasswd -h '{SSHA}' -T /dev/stdin)
fi
add "$person_dn" "dn: $person_dn
objectClass: inetOrgPerson
uid: $person
cn: ${person^}
sn: Example
userPassword: $person_pw"

add "$mailbox_dn" "dn: $mailbox_dn
objectClass: inetOrgPerson
objectClass: devicepwMailbox
uid: $address
mail: $address
cn: ${local_part^}
sn: Mailbox
devicepwUser: $person_dn"

say "mailbox $address ready: add a device with
  devicepw -H $uri -D $rootdn -w ... device add $address --label iPhone"
