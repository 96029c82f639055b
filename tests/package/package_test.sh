#!/bin/bash
# The Debian package on this machine's stock slapd, the way an administrator installs it
# (CTest: package.debian_slapd, label package):
#
#  1. slapd configured the Debian way: debconf preseed (domain example.com, an admin
#     password) and dpkg-reconfigure, which writes cn=config to /etc/ldap/slapd.d with the
#     database olcDatabase={1}mdb;
#  2. devicepw_<version>_<arch>.deb installed (apt-get, local file): the module in
#     /usr/lib/ldap, the schema in /etc/ldap/schema, the tool, both man pages, the example;
#  3. the system slapd started on ldapi:/// only (no TCP port: the other tests start their
#     own slapd on free loopback ports, and scripts/setup.sh keeps this one stopped);
#  4. the overlay enabled as README "Install on an existing Debian slapd" says:
#     ldapadd/ldapmodify -Y EXTERNAL -H ldapi:/// with the schema LDIF, a key file and the
#     example LDIF; a mailbox and a device made with the installed tool; a bind with the
#     device password; revoked, and the bind refused;
#  5. slapd stopped, the package purged (no file of it left), and the machine restored:
#     /etc/ldap/slapd.d, /var/lib/ldap, slapd's debconf answers, /var/backups as they were.
#
#   package_test.sh DEB
#
# Prints PASS/FAIL lines, each step's time, and "N passed, N failed". Root only.
set -uo pipefail

deb=${1:?usage: package_test.sh DEB}
deb=$(readlink -f "$deb")
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "PASS: $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
step_start=$SECONDS
timed() { echo "TIME: $1: $((SECONDS - step_start)) s"; step_start=$SECONDS; }
finish() {
    echo
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}

[ "$(id -u)" -eq 0 ] || { echo "package test: needs root"; exit 1; }
[ -f "$deb" ] || { echo "package test: no package $deb (cmake --build build --target package)"; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
suffix=dc=example,dc=com
admin=cn=admin,$suffix
slapd_d=/etc/ldap/slapd.d
keyfile=/etc/ldap/devicepw.key
example=/usr/share/doc/devicepw/examples/debian-enable-overlay.ldif
pidfile=/run/slapd/slapd.pid

system_slapd_pid() {  # a slapd running from /etc/ldap/slapd.d, if any
    local p
    for p in $(pgrep -x slapd); do
        tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "-F $slapd_d" && { echo "$p"; return 0; }
    done
    return 1
}
if p=$(system_slapd_pid); then
    bad "a system slapd (pid $p) is running from $slapd_d: this test does not touch a running server"
    finish
fi
if dpkg-query -W -f='${Status}' devicepw 2>/dev/null | grep -q 'ok installed'; then
    bad "devicepw is installed on this machine already: this test installs and purges it"
    finish
fi

tmp=$(mktemp -d /tmp/devicepw-package-test.XXXXXX)
chmod 0700 "$tmp"
started_pid=""
own_prc=0
restored=0

# --- the machine as it was -------------------------------------------------------------------
state_sum() {  # what must come back: names, sizes, modes, owners and contents
    local d
    for d in "$slapd_d" /var/lib/ldap; do
        [ -e "$d" ] || { echo "absent $d"; continue; }
        find "$d" -printf '%p %y %m %u %g\n' | sort
        find "$d" -type f -print0 | sort -z | xargs -0 -r sha256sum
    done | sha256sum | cut -d' ' -f1
}
debconf_get() { echo "get $1" | debconf-communicate slapd 2>/dev/null | sed -n 's/^0 //p'; }
before=$(state_sum)
saved=()
for d in etc/ldap/slapd.d var/lib/ldap; do [ -e "/$d" ] && saved+=("$d"); done
tar -C / --numeric-owner -cpf "$tmp/state.tar" --files-from /dev/null "${saved[@]}" ||
    { bad "backing up $slapd_d and /var/lib/ldap"; finish; }
saved_domain=$(debconf_get slapd/domain)
saved_org=$(debconf_get shared/organization)
saved_noconf=$(debconf_get slapd/no_configuration)
ls -A /var/backups > "$tmp/backups.before" 2>/dev/null || true
[ -e "$keyfile" ] && { bad "$keyfile exists already"; finish; }

restore() {
    [ "$restored" = 1 ] && return 0
    restored=1
    if [ -n "$started_pid" ] && kill -0 "$started_pid" 2>/dev/null; then
        kill "$started_pid"
        for _ in $(seq 100); do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if dpkg-query -W -f='${Status}' devicepw 2>/dev/null | grep -q 'installed'; then
        apt-get purge "${apt_opts[@]}" devicepw > "$tmp/purge-late.log" 2>&1 || cat "$tmp/purge-late.log"
    fi
    rm -f "$keyfile"
    rm -rf "$slapd_d" /var/lib/ldap
    tar -C / --numeric-owner -xpf "$tmp/state.tar"
    printf 'slapd slapd/domain string %s\nslapd shared/organization string %s\nslapd slapd/no_configuration boolean %s\n' \
        "$saved_domain" "$saved_org" "${saved_noconf:-false}" | debconf-set-selections
    # dpkg-reconfigure moved the old database aside: remove what it added to /var/backups.
    ls -A /var/backups 2>/dev/null | sort > "$tmp/backups.after"
    sort "$tmp/backups.before" | comm -13 - "$tmp/backups.after" | while read -r f; do
        case $f in *slapd*|*ldapdb*) rm -rf "/var/backups/$f" ;; esac
    done
    [ "$own_prc" = 1 ] && rm -f /usr/sbin/policy-rc.d
    rm -rf "$tmp"
}
trap restore EXIT

# Maintainer scripts must not start the system slapd on port 389.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# temporary, devicepw tests/package\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    own_prc=1
fi

# --- 1. slapd configured the Debian way ------------------------------------------------------
pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
( umask 077; printf '%s' "$pw" > "$tmp/admin.pw" )
debconf-set-selections <<EOF
slapd slapd/no_configuration boolean false
slapd slapd/domain string example.com
slapd shared/organization string Example
slapd slapd/password1 password $pw
slapd slapd/password2 password $pw
slapd slapd/purge_database boolean false
slapd slapd/move_old_database boolean true
EOF
if ! dpkg-reconfigure -f noninteractive slapd > "$tmp/reconfigure.log" 2>&1; then
    cat "$tmp/reconfigure.log"; bad "dpkg-reconfigure slapd"; finish
fi
check "dpkg-reconfigure slapd wrote cn=config to $slapd_d with olcDatabase={1}mdb for $suffix" \
    grep -qx "olcSuffix: $suffix" "$slapd_d/cn=config/olcDatabase={1}mdb.ldif"
timed "dpkg-reconfigure slapd"

# --- 2. the package --------------------------------------------------------------------------
if apt-get install "${apt_opts[@]}" "$deb" > "$tmp/install.log" 2>&1; then
    ok "apt-get install $(basename "$deb")"
else
    cat "$tmp/install.log"; bad "apt-get install $(basename "$deb")"; finish
fi
files=(/usr/lib/ldap/devicepw.so /etc/ldap/schema/devicepw.schema /etc/ldap/schema/devicepw.ldif
       /usr/bin/devicepw /usr/share/man/man1/devicepw.1.gz /usr/share/man/man5/slapo-devicepw.5.gz
       "$example")
for f in "${files[@]}"; do check "installed: $f" test -f "$f"; done
check "dpkg -L devicepw lists the module" bash -c 'dpkg -L devicepw | grep -qx /usr/lib/ldap/devicepw.so'
check "it depends on exactly the installed slapd" bash -c \
    'dpkg-query -W -f="\${Depends}" devicepw | grep -qF "slapd (= $(dpkg-query -W -f="\${Version}" slapd))"'
timed "install"

# --- 3. the system slapd, ldapi only ---------------------------------------------------------
mkdir -p /run/slapd && chown openldap:openldap /run/slapd
/usr/sbin/slapd -h "ldapi:///" -u openldap -g openldap -F "$slapd_d" > "$tmp/slapd.out" 2>&1
for _ in $(seq 100); do [ -s "$pidfile" ] && ldapwhoami -Q -Y EXTERNAL -H ldapi:/// >/dev/null 2>&1 && break; sleep 0.1; done
started_pid=$(cat "$pidfile" 2>/dev/null)
check "Debian's slapd answers on ldapi:/// (pid $started_pid), no TCP listener" \
    bash -c '[ -n "$1" ] && ! ss -ltnpH | grep -q "pid=$1,"' _ "$started_pid"

# --- 4. enable the overlay, a device, a bind -------------------------------------------------
ext=(-Q -Y EXTERNAL -H ldapi:///)
check "ldapadd -Y EXTERNAL the schema /etc/ldap/schema/devicepw.ldif" \
    bash -c 'ldapadd "$@" -f /etc/ldap/schema/devicepw.ldif > /dev/null' _ "${ext[@]}"
( umask 077; devicepw keygen > "$keyfile" ) && chown openldap:openldap "$keyfile" && chmod 0600 "$keyfile"
check "devicepw keygen > $keyfile (0600 openldap)" test "$(stat -c '%a %U' "$keyfile")" = "600 openldap"
if ldapmodify "${ext[@]}" -f "$example" > "$tmp/enable.log" 2>&1; then
    ok "ldapmodify -Y EXTERNAL -H ldapi:/// -f $example"
else
    cat "$tmp/enable.log"; bad "ldapmodify the example LDIF"
fi
check "cn=config has olcOverlay={0}devicepw on olcDatabase={1}mdb" bash -c \
    'ldapsearch "$@" -LLL -b "olcDatabase={1}mdb,cn=config" "(objectClass=olcDevicepwConfig)" dn | grep -q "olcOverlay={0}devicepw"' \
    _ "${ext[@]}"

export LDAPBASE=$suffix
tool=(devicepw -H ldapi:/// -x -D "$admin" -y "$tmp/admin.pw")
ldapadd -x -H ldapi:/// -D "$admin" -y "$tmp/admin.pw" > /dev/null 2>&1 <<EOF
dn: ou=mailboxes,$suffix
objectClass: organizationalUnit
ou: mailboxes
EOF
check "devicepw mailbox create alice@example.com (the installed tool, as $admin)" \
    bash -c '"$@" mailbox create alice@example.com > /dev/null' _ "${tool[@]}"
secret=$("${tool[@]}" device add alice@example.com --label Laptop --quiet 2>"$tmp/add.err")
check "devicepw device add: a device password" \
    grep -Eq '^[a-z0-9]{1,16}(-[a-z0-9]{4}){4}$' <<<"$secret"
( umask 077; printf '%s' "$secret" > "$tmp/device.pw"; printf '%s' "${secret%?}x" > "$tmp/wrong.pw" )
mb="uid=alice@example.com,ou=mailboxes,$suffix"
check "a simple bind as the mailbox with the device password" \
    bash -c 'ldapwhoami -x -H ldapi:/// -D "$1" -y "$2" 2>/dev/null | grep -qix "dn:$1"' _ "$mb" "$tmp/device.pw"
check "a wrong password is refused (49)" \
    bash -c 'ldapwhoami -x -H ldapi:/// -D "$1" -y "$2" > /dev/null 2>&1; test $? = 49' _ "$mb" "$tmp/wrong.pw"
check "devicepw device revoke" bash -c '"$@" device revoke alice@example.com Laptop > /dev/null' _ "${tool[@]}"
check "the revoked device is refused (49)" \
    bash -c 'ldapwhoami -x -H ldapi:/// -D "$1" -y "$2" > /dev/null 2>&1; test $? = 49' _ "$mb" "$tmp/device.pw"
timed "enable, device, bind"

# --- 5. stop, purge, restore -----------------------------------------------------------------
kill "$started_pid"
for _ in $(seq 100); do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.1; done
check "the system slapd stopped" bash -c '! kill -0 "$1" 2>/dev/null' _ "$started_pid"
started_pid=""
if apt-get purge "${apt_opts[@]}" devicepw > "$tmp/purge.log" 2>&1; then ok "apt-get purge devicepw"; else cat "$tmp/purge.log"; bad "apt-get purge devicepw"; fi
check "dpkg knows no devicepw any more" bash -c '! dpkg-query -W -f="\${Status}" devicepw 2>/dev/null | grep -q .'
left=""
for f in "${files[@]}"; do [ -e "$f" ] && left+=" $f"; done
[ -d /usr/share/doc/devicepw ] && left+=" /usr/share/doc/devicepw"
check "no file of the package is left${left:+:$left}" test -z "$left"
restore
check "$slapd_d and /var/lib/ldap are as they were" test "$(state_sum)" = "$before"
check "slapd's debconf domain is as it was ($saved_domain)" test "$(debconf_get slapd/domain)" = "$saved_domain"
check "no system slapd runs" bash -c '! pgrep -x slapd -a | grep -q -- "-F /etc/ldap/slapd.d"'
timed "stop, purge, restore"
finish
