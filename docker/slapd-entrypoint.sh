#!/bin/bash
# Entry point of the slapd-devicepw image (docker/Dockerfile). Also runs outside a
# container: tests/dovecot/ starts slapd through this very script, with the variables
# below pointing at a temporary directory and a loopback port.
#
#   slapd-entrypoint.sh              render slapd.conf from the environment, create the key
#                                    file if absent, create the base entries on first start,
#                                    check with slaptest, exec slapd in the foreground
#   slapd-entrypoint.sh healthcheck  exit 0 when slapd answers on its ldapi socket
#   slapd-entrypoint.sh CMD ARGS...  exec CMD (e.g. "devicepw keygen", "bash")
#
# As root it prepares the directories for the openldap user and slapd drops to it
# (-u/-g); as any other user (the image runs as openldap) everything runs as that user.
#
# Environment (defaults are the image's):
#   DEVICEPW_SUFFIX              dc=example,dc=com
#   DEVICEPW_ROOTDN              cn=admin,$DEVICEPW_SUFFIX
#   DEVICEPW_ADMIN_PASSWORD      the rootdn's password (required, or ..._FILE)
#   DEVICEPW_ADMIN_PASSWORD_FILE a file holding it (Docker secrets)
#   DEVICEPW_KEY_FILE            /var/lib/devicepw/key/devicepw.key; created (0600) if absent
#   DEVICEPW_DATA_DIR            /var/lib/devicepw/data (the mdb database)
#   DEVICEPW_RUN_DIR             /run/slapd (slapd.conf, pid file, ldapi socket)
#   DEVICEPW_URLS                ldap:///  (slapd -h: the network listeners; the ldapi
#                                socket <RUN_DIR>/ldapi is always added, for the health check)
#   DEVICEPW_LOG_LEVEL           stats (slapd -d; the log goes to stderr)
#   DEVICEPW_LOOKUP_DN           a read-only identity for mail servers' searches, created
#   DEVICEPW_LOOKUP_PASSWORD     with the base entries: cn=lookup,ou=services,<suffix>
#                                (no entry when the password is empty)
#   DEVICEPW_CREATE_BASE         1: on first start (empty database) add the suffix entry,
#                                ou=mailboxes, ou=people, ou=services (slapadd)
#   DEVICEPW_PRIMARY_PASSWORD    on|off   (devicepw-primary-password; unset: the default)
#   DEVICEPW_LASTUSED_PRECISION  seconds  (devicepw-lastused-precision; unset: the default)
#   DEVICEPW_MAX_DEVICES         N        (devicepw-max-devices; unset: the default)
#   DEVICEPW_ACL_FILE            a file of slapd.conf "access" lines replacing the default
#                                ACL below (mounted read-only, e.g.)
#   DEVICEPW_MODULE              /usr/lib/ldap/devicepw.so
#   DEVICEPW_SCHEMA              /etc/ldap/schema/devicepw.schema
#   DEVICEPW_SLAPD               /usr/sbin/slapd
#   DEVICEPW_ROOT_EXTERNAL       1: root (uid 0) binding with SASL EXTERNAL on the ldapi
#                                socket is the rootdn (authz-regexp), as on Debian's
#                                cn=config; 0: no such mapping
#   DEVICEPW_LDAP_CONF           a file to write BASE, URI (the ldapi socket) and
#                                SASL_MECH EXTERNAL to, so that the devicepw tool and
#                                ldap-utils need no flags as root in the container (the
#                                image sets /etc/ldap/ldap.conf); unset: none is written
set -euo pipefail

say() { echo "slapd-entrypoint: $*" >&2; }
die() { say "error: $*"; exit 1; }

suffix=${DEVICEPW_SUFFIX:-dc=example,dc=com}
rootdn=${DEVICEPW_ROOTDN:-cn=admin,$suffix}
keyfile=${DEVICEPW_KEY_FILE:-/var/lib/devicepw/key/devicepw.key}
data=${DEVICEPW_DATA_DIR:-/var/lib/devicepw/data}
run=${DEVICEPW_RUN_DIR:-/run/slapd}
loglevel=${DEVICEPW_LOG_LEVEL:-stats}
lookup_dn=${DEVICEPW_LOOKUP_DN:-cn=lookup,ou=services,$suffix}
lookup_pw=${DEVICEPW_LOOKUP_PASSWORD:-}
create_base=${DEVICEPW_CREATE_BASE:-1}
root_external=${DEVICEPW_ROOT_EXTERNAL:-1}
ldap_conf=${DEVICEPW_LDAP_CONF:-}
module=${DEVICEPW_MODULE:-/usr/lib/ldap/devicepw.so}
schema=${DEVICEPW_SCHEMA:-/etc/ldap/schema/devicepw.schema}
slapd=${DEVICEPW_SLAPD:-/usr/sbin/slapd}
slapadd=$(dirname "$slapd")/slapadd
ldapi="ldapi://$(printf '%s' "$run/ldapi" | sed -e 's/%/%25/g' -e 's|/|%2F|g' -e 's/ /%20/g' -e 's/,/%2C/g')"
urls="${DEVICEPW_URLS:-ldap:///} $ldapi"
conf=$run/slapd.conf

# --- subcommands -------------------------------------------------------------------------
if [ $# -gt 0 ]; then
    case $1 in
        healthcheck)
            # The rootDSE over the ldapi socket must name our suffix.
            out=$(ldapsearch -x -LLL -o nettimeout=3 -l 3 -H "$ldapi" -b "" -s base namingContexts 2>/dev/null) || exit 1
            grep -qixF "namingContexts: $suffix" <<<"$out" || exit 1
            exit 0 ;;
        slapd) shift ;;             # "slapd-entrypoint.sh slapd" = no argument
        -*) ;;                      # options: passed on to slapd below
        *) exec "$@" ;;
    esac
fi

# --- checks ------------------------------------------------------------------------------
if [ -n "${DEVICEPW_ADMIN_PASSWORD_FILE:-}" ]; then
    [ -r "$DEVICEPW_ADMIN_PASSWORD_FILE" ] || die "cannot read DEVICEPW_ADMIN_PASSWORD_FILE=$DEVICEPW_ADMIN_PASSWORD_FILE"
    admin_pw=$(cat "$DEVICEPW_ADMIN_PASSWORD_FILE")
else
    admin_pw=${DEVICEPW_ADMIN_PASSWORD:-}
fi
[ -n "$admin_pw" ] || die "set DEVICEPW_ADMIN_PASSWORD (or DEVICEPW_ADMIN_PASSWORD_FILE): the password of $rootdn"
[ -x "$slapd" ] || die "$slapd not found"
[ -f "$module" ] || die "overlay module $module not found (DEVICEPW_MODULE)"
[ -f "$schema" ] || die "schema $schema not found (DEVICEPW_SCHEMA)"
case $loglevel in *[!a-zA-Z0-9,\ -]*) die "DEVICEPW_LOG_LEVEL: letters, digits, commas only" ;; esac
for v in "$suffix" "$rootdn" "$lookup_dn"; do
    case $v in *'"'*|*$'\n'*) die "DNs must not contain double quotes or newlines: $v" ;; esac
done

if [ "$(id -u)" -eq 0 ]; then
    as_root=1
    user=openldap; group=openldap
    getent passwd "$user" >/dev/null || die "user $user does not exist"
else
    as_root=0
fi

umask 077
keydir=$(dirname "$keyfile")
keydir_created=0
[ -d "$keydir" ] || keydir_created=1
mkdir -p "$data" "$run" "$keydir"
if [ "$as_root" = 1 ]; then
    chown "$user:$group" "$data" "$run"
    chmod 0700 "$data"; chmod 0755 "$run"
    # A key directory made here belongs to openldap; an existing one (/etc/ldap, a
    # secrets mount) is left as it is and must let openldap reach the file.
    if [ "$keydir_created" = 1 ]; then chown "$user:$group" "$keydir"; fi
fi
for d in "$data" "$run"; do
    [ -w "$d" ] || die "$d is not writable by $(id -un) (a volume owned by someone else? chown it to $(id -un))"
done

# --- key file ----------------------------------------------------------------------------
if [ ! -e "$keyfile" ]; then
    say "creating key file $keyfile"
    [ -w "$(dirname "$keyfile")" ] || die "cannot create $keyfile: $(dirname "$keyfile") is not writable by $(id -un)"
    if command -v devicepw >/dev/null 2>&1 && line=$(devicepw keygen 2>/dev/null) &&
       grep -Eq '^[a-z0-9]{1,16} [0-9a-f]{64}$' <<<"$line"; then
        :
    else
        line="k1 $(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
    fi
    printf '# devicepw key file, created by slapd-entrypoint.sh on %s\n%s\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$line" > "$keyfile.tmp"
    chmod 0600 "$keyfile.tmp"
    mv "$keyfile.tmp" "$keyfile"
fi
if [ "$as_root" = 1 ]; then
    chown "$user:$group" "$keyfile"
    setpriv --reuid="$user" --regid="$group" --init-groups test -r "$keyfile" ||
        die "$user cannot read $keyfile (check the directories above it)"
fi
chmod 0600 "$keyfile" 2>/dev/null || true   # slapd refuses a key file others can read

# --- slapd.conf --------------------------------------------------------------------------
rootpw_hash=$(printf '%s' "$admin_pw" | "$(dirname "$slapd")/slappasswd" -h '{SSHA}' -T /dev/stdin) ||
    die "slappasswd failed"
if [ -n "${DEVICEPW_ACL_FILE:-}" ]; then
    [ -r "$DEVICEPW_ACL_FILE" ] || die "cannot read DEVICEPW_ACL_FILE=$DEVICEPW_ACL_FILE"
    acl=$(cat "$DEVICEPW_ACL_FILE")
else
    # The default: people and mailboxes bind; each entry reads itself; the lookup identity
    # (mail servers searching by mail) reads the mailboxes' names and addresses; the
    # overlay hides devicepwSecret whatever the ACL says. Only the rootdn writes.
    acl="access to attrs=userPassword
        by self write
        by anonymous auth
        by * none
access to dn.subtree=\"ou=mailboxes,$suffix\" attrs=entry,objectClass,uid,mail,cn
        by dn.exact=\"$lookup_dn\" read
        by self read
        by * none
access to *
        by self read
        by * none"
fi
overlay_opts=""
[ -z "${DEVICEPW_PRIMARY_PASSWORD:-}" ] || overlay_opts+="devicepw-primary-password $DEVICEPW_PRIMARY_PASSWORD"$'\n'
[ -z "${DEVICEPW_LASTUSED_PRECISION:-}" ] || overlay_opts+="devicepw-lastused-precision $DEVICEPW_LASTUSED_PRECISION"$'\n'
[ -z "${DEVICEPW_MAX_DEVICES:-}" ] || overlay_opts+="devicepw-max-devices $DEVICEPW_MAX_DEVICES"$'\n'

authz=""
if [ "$root_external" = 1 ]; then
    # The peer credentials of uid 0 on the ldapi socket (SASL EXTERNAL) are the rootdn.
    authz="authz-regexp    \"^gidNumber=0[+]uidNumber=0,cn=peercred,cn=external,cn=auth\$\" \"$rootdn\""
fi

cat > "$conf.tmp" <<EOF
# Generated by slapd-entrypoint.sh at every start from the DEVICEPW_* environment.
include         /etc/ldap/schema/core.schema
include         /etc/ldap/schema/cosine.schema
include         /etc/ldap/schema/inetorgperson.schema
include         $schema

pidfile         $run/slapd.pid
argsfile        $run/slapd.args
$authz

modulepath      /usr/lib/ldap
moduleload      back_mdb
moduleload      $module

database        mdb
suffix          "$suffix"
rootdn          "$rootdn"
rootpw          $rootpw_hash
directory       $data
maxsize         1073741824
index           objectClass eq
index           uid,mail eq
index           devicepwUser,devicepwOwner eq

$acl

overlay         devicepw
devicepw-keyfile $keyfile
$overlay_opts
EOF
chmod 0600 "$conf.tmp"
mv "$conf.tmp" "$conf"
if [ "$as_root" = 1 ]; then chown "$user:$group" "$conf"; fi

# slaptest first: a configuration error is easier to read from it.
if ! out=$("$slapd" -T test -f "$conf" -u 2>&1); then
    printf '%s\n' "$out" >&2
    die "the configuration does not load (slaptest output above)"
fi

# --- base entries, on first start ----------------------------------------------------------
if [ "$create_base" = 1 ] && [ ! -e "$data/data.mdb" ]; then
    first=${suffix%%,*}; attr=${first%%=*}; value=${first#*=}
    case ${attr,,} in
        dc) top="objectClass: dcObject
objectClass: organization
dc: $value
o: $value" ;;
        o) top="objectClass: organization
o: $value" ;;
        ou) top="objectClass: organizationalUnit
ou: $value" ;;
        *) die "DEVICEPW_CREATE_BASE=1 knows suffixes starting with dc=, o= or ou=; create the base entry yourself and set DEVICEPW_CREATE_BASE=0" ;;
    esac
    ldif="dn: $suffix
$top

dn: ou=mailboxes,$suffix
objectClass: organizationalUnit
ou: mailboxes

dn: ou=people,$suffix
objectClass: organizationalUnit
ou: people

dn: ou=services,$suffix
objectClass: organizationalUnit
ou: services
"
    if [ -n "$lookup_pw" ]; then
        lookup_hash=$(printf '%s' "$lookup_pw" | "$(dirname "$slapd")/slappasswd" -h '{SSHA}' -T /dev/stdin)
        lrdn=${lookup_dn%%,*}
        ldif+="
dn: $lookup_dn
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: ${lrdn#*=}
description: read-only lookups for mail servers (slapd-entrypoint.sh)
userPassword: $lookup_hash
"
    fi
    say "empty database: adding the base entries under $suffix"
    slapadd_user=()
    if [ "$as_root" = 1 ]; then
        # slapadd creates the database files: as the user slapd will run as.
        slapadd_user=(setpriv --reuid="$user" --regid="$group" --init-groups)
    fi
    printf '%s' "$ldif" | "${slapadd_user[@]}" "$slapadd" -q -f "$conf" -b "$suffix" ||
        die "slapadd of the base entries failed"
fi

# --- ldap.conf for the tool and ldap-utils in this container --------------------------------
if [ -n "$ldap_conf" ]; then
    if { printf '# Written by slapd-entrypoint.sh at every start: as root in this container the\n'
         printf '# devicepw tool and ldap-utils reach this slapd over ldapi as its rootdn.\n'
         printf 'BASE\t\t%s\n' "$suffix"
         printf 'URI\t\t%s\n' "$ldapi"
         printf 'SASL_MECH\tEXTERNAL\n'; } > "$ldap_conf.tmp" 2>/dev/null &&
       chmod 0644 "$ldap_conf.tmp" && mv "$ldap_conf.tmp" "$ldap_conf"; then
        say "wrote $ldap_conf (BASE $suffix, URI $ldapi, SASL_MECH EXTERNAL)"
    else
        rm -f "$ldap_conf.tmp" 2>/dev/null || true
        say "warning: cannot write $ldap_conf (DEVICEPW_LDAP_CONF) as $(id -un): the tool needs -H/-D flags"
    fi
fi

# --- run ----------------------------------------------------------------------------------
say "starting slapd on $urls (suffix $suffix, log level $loglevel)"
args=(-d "$loglevel" -f "$conf" -h "$urls")
if [ "$as_root" = 1 ]; then args+=(-u "$user" -g "$group"); fi
# slapd needs neither password in its environment (the rootdn's is hashed in slapd.conf).
unset DEVICEPW_ADMIN_PASSWORD DEVICEPW_LOOKUP_PASSWORD admin_pw lookup_pw
exec "$slapd" "${args[@]}" "$@"
