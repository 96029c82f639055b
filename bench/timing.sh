#!/bin/bash
# Timing of failed binds: does a failed bind tell an attacker which way it failed?
#
#   bench/timing.sh [--build-dir DIR] [--out DIR] [--mailboxes N] [--rounds R]
#                   [--duration S] [--binds N] [--levels "none stats"] [--no-callgrind]
#                   [--mailbox-password] [--primary-password on|off] [--module PATH]
#                   [--work DIR] [--tag NAME] [--keep]
#
# One directory, one slapd, every case: a simple bind with a secret-shaped password
# (4-character id, like the devices') that fails with 49, for
#   unknown-dn      a mailbox DN that does not exist
#   d0-any          a mailbox without devices
#   d1-unknown-id   a mailbox with a device, an id it does not have
#   d1-wrong        a real device id with a wrong random part
#   d1-revoked      a revoked device's right secret
# and, for reference, d1-right (a successful device bind).
#
# Wall clock: one connection, one bind at a time (no queueing in the figure), --rounds
# rounds, each case --duration seconds per round in a rotating order, after a warm-up
# pass over every list; mean and percentiles over all rounds, in microseconds.
# Instructions per bind: bench/callgrind.sh --cases on the same database and configuration.
# Wall-clock differences of a few per cent drown in a loaded machine's noise; the
# instruction counts do not.
#
# --mailbox-password gives the mailboxes an {SSHA} userPassword (default: none, a mailbox
# needs no password with devicepw); --primary-password sets devicepw-primary-password
# (default: the overlay's default, on); --module measures another build of devicepw.so (a
# patched one) on a directory kept by an earlier run (--work DIR, --keep); --tag names the
# result files (timing-<tag>.md).
# Env: SLAPD (default /usr/sbin/slapd), SLAPADD, SLAPPASSWD.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build
out=""
mailboxes=20000
rounds=5
duration=3
binds=2000
levels="none stats"
callgrind=1
mailbox_password=0
primary=""
module=""
work=""
tag=""
keep=0
cmdline="bench/timing.sh $*"
while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) build=$2; shift ;;
        --out) out=$2; shift ;;
        --mailboxes) mailboxes=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --duration) duration=$2; shift ;;
        --binds) binds=$2; shift ;;
        --levels) levels=$2; shift ;;
        --no-callgrind) callgrind=0 ;;
        --mailbox-password) mailbox_password=1 ;;
        --primary-password) primary=$2; shift ;;
        --module) module=$2; shift ;;
        --work) work=$2; shift ;;
        --tag) tag=$2; shift ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "timing.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

slapd=${SLAPD:-/usr/sbin/slapd}
slapadd=${SLAPADD:-/usr/sbin/slapadd}
slappasswd=${SLAPPASSWD:-/usr/sbin/slappasswd}
[ -d "$build" ] && build=$(cd "$build" && pwd)
bindbench=$build/bench/devicepw-bindbench
benchgen=$build/bench/devicepw-benchgen
module=${module:-$build/overlay/devicepw.so}
[ -e "$module" ] && module=$(cd "$(dirname "$module")" && pwd)/$(basename "$module")
say() { echo "timing: $*"; }
die() { echo "timing: error: $*" >&2; exit 1; }
for f in "$bindbench" "$benchgen" "$module"; do
    [ -e "$f" ] || die "$f not found: build first (cmake --build $build)"
done
command -v ldapsearch >/dev/null || die "ldapsearch not found (apt-get install ldap-utils)"
cases="unknown-dn d0-any d1-unknown-id d1-wrong d1-revoked d1-right"
suffix="dc=example,dc=com"

reuse=0
if [ -n "$work" ]; then
    [ -f "$work/stock.conf" ] && [ -d "$work/db" ] || die "--work must name a directory kept by timing.sh --keep"
    work=$(cd "$work" && pwd)
    reuse=1
    keep=1
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/devicepw-timing.XXXXXX")
fi
out=${out:-$work}
mkdir -p "$out"
out=$(cd "$out" && pwd)
spid=""
cleanup() {
    if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
    if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
t0=$(date +%s)
say "work directory $work; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

mkconf() {  # mkconf FILE MODULE-LINE OVERLAY-TEXT
    cat > "$1" <<EOF
include         /etc/ldap/schema/core.schema
include         /etc/ldap/schema/cosine.schema
include         /etc/ldap/schema/inetorgperson.schema
include         $repo/schema/devicepw.schema
pidfile         $work/slapd.pid
argsfile        $work/slapd.args
modulepath      /usr/lib/ldap
moduleload      back_mdb
$2
database        mdb
suffix          "$suffix"
rootdn          "cn=admin,$suffix"
rootpw          secret
directory       $work/db
maxsize         8589934592
index           objectClass eq
access to attrs=userPassword
        by self write
        by anonymous auth
        by * none
access to *
        by * read
$3
EOF
}

# --- directory (as bench/run.sh, smaller, plus mailboxes without devices) ---------------
if [ "$reuse" = 0 ]; then
    (umask 077; printf 'k1 %s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$work/devicepw.key")
    mkdir -p "$work/data"
    pwopt=(--no-mailbox-password)
    if [ "$mailbox_password" = 1 ]; then
        : > "$work/ssha.pool"
        for k in $(seq 8); do
            pw="ssha-$k-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
            printf '%s\t%s\n' "$pw" "$("$slappasswd" -h '{SSHA}' -s "$pw")" >> "$work/ssha.pool"
        done
        pwopt=(--ssha-pool "$work/ssha.pool")
    fi
    "$benchgen" --keyfile "$work/devicepw.key" --out "$work/data" --mailboxes "$mailboxes" \
        --d100 $((mailboxes / 100)) --d10 $((mailboxes / 10)) --d0 $((mailboxes / 10)) --argon2 0 "${pwopt[@]}"
    mkconf "$work/stock.conf" "" ""
    mkdir -p "$work/db"
    chmod 700 "$work/db"
    "$slapadd" -q -f "$work/stock.conf" -l "$work/data/data.ldif" 2> "$work/slapadd.err" ||
        { tail -n 20 "$work/slapadd.err" >&2; die "slapadd failed"; }
    rm -f "$work/data/data.ldif"
    printf 'mailboxes=%s\nmailbox_password=%s\n' "$mailboxes" "$mailbox_password" > "$work/params"
fi
# the directory's own parameters, when reusing one
[ -f "$work/params" ] && . "$work/params"
# The configuration measured: devicepw's defaults, except a last-used precision of a day
# (the directory's devicepwLastUsed is recent: the d1-right binds write nothing) and a
# telemetry interval of an hour: the flush task writes the failures counted in memory
# off the bind path, in a transaction of its own; left at 10 s it would run during the
# measured binds and land in callgrind's count of all threads.
confdir=$work/conf${tag:+-$tag}
mkdir -p "$confdir"
cp "$work/stock.conf" "$confdir/stock.conf"
mkconf "$confdir/devicepw.conf" "moduleload      $module" "overlay         devicepw
devicepw-keyfile $work/devicepw.key
devicepw-lastused-precision 86400
devicepw-telemetry-interval 3600${primary:+
devicepw-primary-password $primary}"

# --- wall clock ---------------------------------------------------------------------------
start_slapd() {  # start_slapd LOGLEVEL
    local try i
    for try in 1 2 3 4 5; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        "$slapd" -d "${1/none/32768}" -s 0 -f "$confdir/devicepw.conf" -h "ldap://127.0.0.1:$port/" \
            < /dev/null > "$work/slapd.log" 2>&1 &
        spid=$!
        for i in $(seq 300); do
            kill -0 "$spid" 2>/dev/null || break
            ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -b "" -s base 1.1 >/dev/null 2>&1 && return 0
            sleep 0.1
        done
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
        spid=""
        grep -q 'bind(.*) failed\|Address already in use' "$work/slapd.log" || break
    done
    tail -n 20 "$work/slapd.log" >&2
    die "slapd did not start"
}
lat=$work/lat${tag:+-$tag}
rm -rf "$lat"
mkdir -p "$lat"
for lvl in $levels; do
    start_slapd "$lvl"
    for c in $cases; do
        "$bindbench" -H "ldap://127.0.0.1:$port/" -f "$work/data/$c.pairs" -c 1 -n 3000 -d 30 > /dev/null ||
            die "$c: warm-up failed (unexpected results)"
    done
    for r in $(seq "$rounds"); do
        # rotate the order from round to round: no case always runs first or last
        set -- $cases
        for _ in $(seq $(( (r - 1) % $# ))); do set -- "${@:2}" "$1"; done
        for c in "$@"; do
            "$bindbench" -H "ldap://127.0.0.1:$port/" -f "$work/data/$c.pairs" -c 1 -d "$duration" \
                --latency-file "$lat/$lvl-$c-$r" > "$work/bench.out" || { cat "$work/bench.out" >&2; die "$c: unexpected results"; }
        done
    done
    kill "$spid"; wait "$spid" 2>/dev/null || true; spid=""
    say "$lvl: wall clock done"
done

# --- instructions per bind ------------------------------------------------------------------
cgtsv=""
if [ "$callgrind" = 1 ]; then
    "$repo/bench/callgrind.sh" --work "$work" --conf-dir "$confdir" --build-dir "$build" --binds "$binds" \
        --levels "$levels" --cases "$cases" --out "$work/callgrind${tag:+-$tag}" > "$work/callgrind.out" 2>&1 ||
        { cat "$work/callgrind.out" >&2; die "callgrind.sh failed"; }
    cgtsv=$work/callgrind${tag:+-$tag}/callgrind.tsv
fi

# --- table -----------------------------------------------------------------------------------
tsv=$out/timing${tag:+-$tag}.tsv
printf 'case\tloglevel\tbinds\tmean_us\tp50_us\tp90_us\tp99_us\tp999_us\tinstructions\n' > "$tsv"
for lvl in $levels; do
    for c in $cases; do
        ins=-
        if [ -n "$cgtsv" ]; then
            ins=$(awk -F'\t' -v c="devicepw $c" -v l="$lvl" '$1 == c && $2 == l { print $3 }' "$cgtsv")
        fi
        cat "$lat/$lvl-$c-"* | sort -n | awk -v c="$c" -v l="$lvl" -v ins="${ins:--}" '
            { v[NR] = $1; s += $1 }
            function q(p,  k) { k = int(p * NR); if (k < 1) k = 1; if (k > NR) k = NR; return v[k] / 1000 }
            END { printf "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\n", c, l, NR, s / NR / 1000,
                         q(0.5), q(0.9), q(0.99), q(0.999), ins }' >> "$tsv"
    done
done
md=$out/timing${tag:+-$tag}.md
awk -F'\t' -v cmd="$cmdline" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" -v rounds="$rounds" -v dur="$duration" \
        -v binds="$([ "$callgrind" = 1 ] && echo "$binds" || echo 0)" -v mb="$mailboxes" -v pw="$mailbox_password" \
        -v primary="${primary:-default (on)}" '
    BEGIN {
        name["unknown-dn"] = "unknown DN"; name["d0-any"] = "mailbox without devices"
        name["d1-unknown-id"] = "unknown device id"; name["d1-wrong"] = "wrong random part, real id"
        name["d1-revoked"] = "revoked device"; name["d1-right"] = "(right secret, succeeds)"
    }
    NR == 1 { next }
    { if (!($2 in ref) && $1 == "d1-wrong") ref[$2] = $0
      row[++n] = $0 }
    END {
        printf "| case | log level | mean µs | p50 µs | p90 µs | p99 µs | p99.9 µs | instructions/bind | vs wrong random part |\n"
        printf "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
        for (i = 1; i <= n; i++) {
            split(row[i], f, "\t"); split(ref[f[2]], w, "\t")
            d = (f[9] != "-" && w[9] != "-") ? sprintf("%+d instr, %+.2f µs", f[9] - w[9], f[4] - w[4]) : sprintf("%+.2f µs", f[4] - w[4])
            printf "| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s |\n", name[f[1]], f[2], f[4], f[5], f[6], f[7], f[8], f[9], d
        }
        printf "\n`%s`: %d mailboxes (+%d without devices%s), devicepw-primary-password %s, one connection, " \
               "%d rounds x %s s per case, %d binds per case under callgrind; load average at the end %s.\n", cmd, mb,
               mb / 10, pw ? ", {SSHA} userPassword on every mailbox" : ", no mailbox userPassword", primary, rounds,
               dur, binds, load
    }' "$tsv" > "$md"
echo
cat "$md"
say "done in $(( $(date +%s) - t0 )) s: $md"
