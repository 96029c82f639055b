#!/bin/bash
# Bind benchmark: devicepw against stock slapd, side by side, on the same slapd binary,
# the same directory and the same load.
#
#   bench/run.sh [--quick] [--build-dir DIR] [--out DIR] [--duration S] [--connections N]
#                [--threads N] [--keep]
#
# 1. a key file, {SSHA} and {ARGON2} hash pools (slappasswd), and the directory generated
#    offline by devicepw-benchgen with the project's core and that key file;
# 2. slapadd of the whole directory into one back-mdb database (100,000 mailboxes,
#    289,000 devices, 1,000 {ARGON2} entries; --quick: 2,000 mailboxes);
# 3. for each configuration a slapd of our own on 127.0.0.1 (a free port, a temporary
#    directory), devicepw-bindbench against it, slapd stopped again:
#      devicepw      1 / 10 / 100 devices per mailbox x right / wrong / revoked,
#                    at log level none and stats
#      stock {SSHA}  one userPassword per mailbox, none and stats (the reference)
#      stock {ARGON2} 10 userPassword values, the right one last (hashes from a pool)
#      devicepw last-used tracking at precision 0 and at the default (60 s)
#      realistic traffic: every device of the directory in turn (100,000 devices, so
#                    every bind finds its last use stale), precision 0: every bind
#                    recorded; against the same binds when nothing is recorded, and
#                    stock slapd + slapo-lastbind at precision 0 on the same {SSHA} binds
#      new connection per bind: devicepw 1 device and stock {SSHA}
# 4. results.tsv, results.md (binds/s, p50, p99, ratio to {SSHA} at the same log level)
#    and binds.png (gnuplot) in the output directory.
#
# Wall-clock figures depend on what else runs on the machine: the load average at the
# start and the end is printed with the results. For repeatable figures use
# bench/callgrind.sh (instructions per bind).
#
# Env: SLAPD (default /usr/sbin/slapd), SLAPADD, SLAPPASSWD.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build
out=""
quick=0
keep=0
duration=""
connections=16
threads=1
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --keep) keep=1 ;;
        --build-dir) build=$2; shift ;;
        --out) out=$2; shift ;;
        --duration) duration=$2; shift ;;
        --connections) connections=$2; shift ;;
        --threads) threads=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

slapd=${SLAPD:-/usr/sbin/slapd}
slapadd=${SLAPADD:-/usr/sbin/slapadd}
slappasswd=${SLAPPASSWD:-/usr/sbin/slappasswd}
# Absolute before anything is derived from it: slapd resolves the module path itself.
[ -d "$build" ] && build=$(cd "$build" && pwd)
bindbench=$build/bench/devicepw-bindbench
benchgen=$build/bench/devicepw-benchgen
module=$build/overlay/devicepw.so
say() { echo "bench: $*"; }
die() { echo "bench: error: $*" >&2; exit 1; }
for f in "$bindbench" "$benchgen" "$module"; do
    [ -e "$f" ] || die "$f not found: build first (cmake --build $build)"
done
[ -x "$slapd" ] || die "$slapd not found (apt-get install slapd)"
command -v ldapsearch >/dev/null || die "ldapsearch not found (apt-get install ldap-utils)"

if [ "$quick" = 1 ]; then
    mailboxes=2000 d100=20 d10=200 argon2=50 ssha_pool=8 argon2_sets=1
    duration=${duration:-1} warm=200 lu_pairs=200
else
    mailboxes=100000 d100=1000 d10=10000 argon2=1000 ssha_pool=64 argon2_sets=2
    duration=${duration:-10} warm=2000 lu_pairs=2000
fi
out=${out:-$build/bench-results}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/devicepw-bench.XXXXXX")
spid=""
cleanup() {
    if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
    if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
t0=$(date +%s)
say "work directory $work, results in $out; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- key file, hash pools, directory ---------------------------------------------------
(umask 077; printf 'k1 %s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$work/devicepw.key")
rnd() { od -An -tx1 -N6 /dev/urandom | tr -d ' \n'; }
: > "$work/ssha.pool"
for k in $(seq "$ssha_pool"); do
    pw="ssha-$k-$(rnd)"
    printf '%s\t%s\n' "$pw" "$("$slappasswd" -h '{SSHA}' -s "$pw")" >> "$work/ssha.pool"
done
: > "$work/argon2.pool"
for k in $(seq $((argon2_sets * 10))); do
    pw="argon2-$k-$(rnd)"
    printf '%s\t%s\n' "$pw" \
        "$("$slappasswd" -o module-path=/usr/lib/ldap -o module-load=argon2 -h '{ARGON2}' -s "$pw")" \
        >> "$work/argon2.pool"
done
grep -q $'\t{ARGON2}\$argon2' "$work/argon2.pool" || die "slappasswd made no {ARGON2} hash (/usr/lib/ldap/argon2.so)"
mkdir -p "$work/data"
"$benchgen" --keyfile "$work/devicepw.key" --out "$work/data" --mailboxes "$mailboxes" \
    --d100 "$d100" --d10 "$d10" --argon2 "$argon2" \
    --ssha-pool "$work/ssha.pool" --argon2-pool "$work/argon2.pool"
head -n "$lu_pairs" "$work/data/d1-right.pairs" > "$work/data/lastused.pairs"
# Scoped binds: the same devices through devicepwService=imap,<mailbox DN> (an unscoped
# device is good for every service, so these succeed and take the scoped path).
awk -F'\t' -v OFS='\t' '{ $1 = "devicepwService=imap," $1; print }' "$work/data/d1-right.pairs" \
    > "$work/data/d1-scoped.pairs"

# --- configurations -----------------------------------------------------------------------
suffix="dc=example,dc=com"
mkconf() {  # mkconf NAME EXTRA-MODULES OVERLAY-TEXT
    cat > "$work/$1.conf" <<EOF
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
mkconf stock "" ""
mkconf argon2 "moduleload      argon2
password-hash   {ARGON2}" ""
# The device scenarios: devicepwLastUsed was set when the directory was generated, and a
# precision of a day keeps the measured binds free of writes (what the default does in
# steady state: at most one write per device per 300 s). Last-used costs are measured
# separately below.
mkconf devicepw "moduleload      $module" "overlay         devicepw
devicepw-keyfile $work/devicepw.key
devicepw-lastused-precision 86400"
mkconf lu0 "moduleload      $module" "overlay         devicepw
devicepw-keyfile $work/devicepw.key
devicepw-lastused-precision 0"
mkconf ludefault "moduleload      $module" "overlay         devicepw
devicepw-keyfile $work/devicepw.key"
# stock slapd with slapo-lastbind writing authTimestamp on every successful bind
mkconf lastbind "moduleload      lastbind" "overlay         lastbind
lastbind-precision 0"

mkdir -p "$work/db"
chmod 700 "$work/db"
say "slapadd $(grep -c '^dn: ' "$work/data/data.ldif") entries"
ts=$(date +%s)
"$slapadd" -q -f "$work/stock.conf" -l "$work/data/data.ldif" 2> "$work/slapadd.err" ||
    { tail -n 20 "$work/slapadd.err" >&2; die "slapadd failed"; }
say "slapadd took $(( $(date +%s) - ts )) s"
rm -f "$work/data/data.ldif"

# --- slapd ----------------------------------------------------------------------------------
port=""
start_slapd() {  # start_slapd CONF LOGLEVEL
    local try
    for try in 1 2 3 4 5; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        : > "$work/slapd.log"
        # -d none (32768) logs nothing per bind but still shows startup errors
        # (LDAP_DEBUG_ANY); -s 0: slapd's syslog level would default to stats.
        "$slapd" -d "${2/none/32768}" -s 0 -f "$work/$1.conf" -h "ldap://127.0.0.1:$port/" \
            < /dev/null > "$work/slapd.log" 2>&1 &
        spid=$!
        local i
        for i in $(seq 300); do     # 30 s: other builds may be loading the machine
            kill -0 "$spid" 2>/dev/null || break
            if ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -b "" -s base 1.1 >/dev/null 2>&1; then
                return 0
            fi
            sleep 0.1
        done
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
        spid=""
        grep -q 'bind(.*) failed\|Address already in use' "$work/slapd.log" || break
    done
    tail -n 20 "$work/slapd.log" >&2
    die "slapd ($1) did not start"
}
stop_slapd() {
    kill "$spid"
    wait "$spid" 2>/dev/null || true
    spid=""
}

printf 'scenario\tdevices\tpassword\tloglevel\tbinds_per_s\tp50_ms\tp99_ms\tbinds\n' > "$out/results.tsv"
bench() {  # bench SCENARIO DEVICES PASSWORD LOGLEVEL PAIRS [bindbench options]
    local scen=$1 dev=$2 pw=$3 lvl=$4 pairs=$5 line
    shift 5
    if ! "$bindbench" -H "ldap://127.0.0.1:$port/" -f "$work/data/$pairs.pairs" -c "$connections" \
            -t "$threads" -d "$duration" "$@" > "$work/bench.out" 2> "$work/bench.err"; then
        cat "$work/bench.out" "$work/bench.err" >&2
        die "$scen $dev $pw ($lvl): unexpected results or errors"
    fi
    line=$(grep '^RESULT ' "$work/bench.out")
    local binds rate p50 p99
    binds=$(sed -E 's/.* binds=([0-9]+).*/\1/' <<< "$line")
    rate=$(sed -E 's/.* rate=([0-9.]+).*/\1/' <<< "$line")
    p50=$(sed -E 's/.* p50_us=([0-9]+).*/\1/' <<< "$line")
    p99=$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<< "$line")
    printf '%s\t%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%s\n' "$scen" "$dev" "$pw" "$lvl" "$rate" \
        "$(echo "$p50/1000" | bc -l)" "$(echo "$p99/1000" | bc -l)" "$binds" >> "$out/results.tsv"
    printf 'bench: %-22s %-4s %-8s %-6s %8.0f binds/s  p50 %7.3f ms  p99 %7.3f ms\n' "$scen" "$dev" "$pw" "$lvl" \
        "$rate" "$(echo "$p50/1000" | bc -l)" "$(echo "$p99/1000" | bc -l)"
}
command -v bc >/dev/null || die "bc not found (apt-get install bc)"

for lvl in none stats; do
    start_slapd stock "$lvl"
    bench "stock {SSHA}" 1 right "$lvl" ssha-right -w "$warm"
    if [ "$lvl" = none ]; then
        bench "stock {SSHA} new-conn" 1 right "$lvl" ssha-right -w "$warm" --new-connection
    fi
    stop_slapd
    start_slapd devicepw "$lvl"
    for d in 1 10 100; do
        for pw in right wrong revoked; do
            bench devicepw "$d" "$pw" "$lvl" "d$d-$pw" -w "$warm"
        done
    done
    if [ "$lvl" = none ]; then
        bench "devicepw new-conn" 1 right "$lvl" d1-right -w "$warm" --new-connection
        bench "devicepw scoped bind" 1 right "$lvl" d1-scoped -w "$warm"
    fi
    stop_slapd
done
start_slapd argon2 none
# ten {ARGON2} checks per bind on 16 connections take seconds each on a busy machine
bench "stock {ARGON2} x10" 10 right none argon2-right -w 20 --timeout 120
stop_slapd
# Last-used: a warm-up pass over the device list first (at the default, that writes each
# device whose devicepwLastUsed is older than 300 s once), then the measured binds.
start_slapd lu0 none
bench "devicepw lastused=0" 1 right none lastused -w "$lu_pairs"
stop_slapd
start_slapd ludefault none
bench "devicepw lastused=60" 1 right none lastused -w "$lu_pairs"
stop_slapd
# Realistic traffic: the whole device list in turn, every bind recorded (precision 0);
# the same binds with nothing recorded were measured above ("devicepw 1 right none").
# How many devices the background flush wrote: the last uses newer than the start.
start_slapd lu0 none
rt_start=$(date -u +%Y%m%d%H%M%SZ)
bench "devicepw every bind recorded" 1 right none d1-right -w "$warm"
stop_slapd   # a clean stop writes what is pending
start_slapd lu0 none
rt_written=$(ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -D "cn=admin,$suffix" -w secret \
    -b "$suffix" -z 0 "(devicepwLastUsed>=$rt_start)" 1.1 2>/dev/null | grep -c '^dn: ' || true)
stop_slapd
say "realistic traffic: $rt_written devices had their last use written by the flush"
printf '%s\n' "$rt_written" > "$out/realistic-written.txt"
start_slapd lastbind none
bench "stock {SSHA} + lastbind 0" 1 right none ssha-right -w "$warm"
stop_slapd

# --- table and chart --------------------------------------------------------------------------
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
awk -F'\t' -v quick="$quick" -v dur="$duration" -v conns="$connections" -v mb="$mailboxes" \
        -v load_end="$load_end" -v sets="$argon2_sets" '
    NR == 1 { next }
    { row[NR] = $0; n = NR
      if ($1 == "stock {SSHA}") ref[$4] = $5 }
    END {
        printf "| scenario | devices/mailbox | password | log level | binds/s | p50 ms | p99 ms | vs {SSHA} |\n"
        printf "|---|---:|---|---|---:|---:|---:|---:|\n"
        for (i = 2; i <= n; i++) {
            split(row[i], f, "\t")
            r = (f[4] in ref && ref[f[4]] > 0) ? sprintf(f[5] / ref[f[4]] >= 0.1 ? "%.2fx" : "%.4fx", f[5] / ref[f[4]]) : "-"
            printf "| %s | %s | %s | %s | %d | %.3f | %.3f | %s |\n", f[1], f[2], f[3], f[4], f[5], f[6], f[7], r
        }
        printf "\n%s mailboxes, %d connections rebinding (one bind in flight each), %s s per scenario%s.\n", \
            mb, conns, dur, quick ? " (--quick: smoke test, figures meaningless)" : ""
        printf "{ARGON2}: 10 values per entry from a pool of %d precomputed hash sets reused across entries " \
            "(the cost of a check does not depend on the salt); {SSHA}: hashes from a pool as well.\n", sets
        printf "Load average at the end: %s (wall-clock figures share the machine).\n", load_end
    }' "$out/results.tsv" > "$out/results.md"
echo
cat "$out/results.md"

if command -v gnuplot >/dev/null; then
    for lvl in none stats; do
        for pw in right wrong revoked; do
            awk -F'\t' -v l="$lvl" -v p="$pw" '$1 == "devicepw" && $4 == l && $3 == p { print $2, $5 }' \
                "$out/results.tsv" > "$work/plot-$lvl-$pw.dat"
        done
        awk -F'\t' -v l="$lvl" '$1 == "stock {SSHA}" && $4 == l { print 1, $5; print 100, $5 }' \
            "$out/results.tsv" > "$work/plot-ssha-$lvl.dat"
    done
    awk -F'\t' '$1 == "stock {ARGON2} x10" { print $2, $5 }' "$out/results.tsv" > "$work/plot-argon2.dat"
    gnuplot <<EOF
set terminal pngcairo size 900,560 font ",10" noenhanced
set output "$out/binds.png"
set title "Simple binds per second against devices per mailbox ($mailboxes mailboxes, $connections connections)"
set xlabel "devices per mailbox"
set ylabel "binds/s"
set logscale x
set logscale y
set xrange [0.8:130]
set xtics ("1" 1, "10" 10, "100" 100)
set key outside right
set grid
plot "$work/plot-none-right.dat" w lp lw 2 pt 7 t "devicepw right (none)", \
     "$work/plot-none-wrong.dat" w lp pt 5 t "devicepw wrong (none)", \
     "$work/plot-none-revoked.dat" w lp pt 9 t "devicepw revoked (none)", \
     "$work/plot-stats-right.dat" w lp dt 2 lw 2 pt 6 t "devicepw right (stats)", \
     "$work/plot-stats-wrong.dat" w lp dt 2 pt 4 t "devicepw wrong (stats)", \
     "$work/plot-stats-revoked.dat" w lp dt 2 pt 8 t "devicepw revoked (stats)", \
     "$work/plot-ssha-none.dat" w l lw 2 lc rgb "black" t "stock {SSHA}, 1 password (none)", \
     "$work/plot-ssha-stats.dat" w l dt 2 lw 2 lc rgb "black" t "stock {SSHA}, 1 password (stats)", \
     "$work/plot-argon2.dat" w p pt 13 ps 2 lc rgb "red" t "stock {ARGON2}, 10 values (none)"
EOF
    say "chart: $out/binds.png"
else
    say "gnuplot not found (apt-get install gnuplot-nox): no chart"
fi
say "done in $(( $(date +%s) - t0 )) s: $out/results.md"
