#!/bin/bash
# Address-book searches with and without the overlay: instructions per search under
# callgrind, on the directory bench/run.sh --keep left (100,000 mailboxes).
#
#   bench/run.sh --keep ...
#   bench/search.sh --work DIR [--searches N] [--filter FILTER]
#
# A user (a mailbox, bound with its own {SSHA} password on stock slapd and with a device
# password under devicepw) searches the suffix, subtree, for FILTER (default
# (mail=m0001*): 100 of the 100,000 mailboxes, as an address book's completion does,
# within slapd's default size limit of 500),
# N times (default 20) on one connection each. The ratio is stock / devicepw: 1.00 means
# the overlay costs ordinary searches nothing.
set -euo pipefail
work=""; n=20; filter='(mail=m0001*)'
while [ $# -gt 0 ]; do
    case $1 in
        --work) work=$2; shift ;;
        --searches) n=$2; shift ;;
        --filter) filter=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "search.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
die() { echo "search: error: $*" >&2; exit 1; }
[ -n "$work" ] && [ -f "$work/stock.conf" ] && [ -f "$work/devicepw.conf" ] || die "--work must name a directory kept by bench/run.sh --keep"
command -v callgrind_control >/dev/null || die "valgrind not found (apt-get install valgrind)"
suffix="dc=example,dc=com"
out=$work/search; mkdir -p "$out"
vpid=""
cleanup() { if [ -n "$vpid" ]; then kill "$vpid" 2>/dev/null || true; wait "$vpid" 2>/dev/null || true; fi; }
trap cleanup EXIT
measure() {  # measure CONF DN PASSWORD -> instructions per search
    local port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 )) i dump total entries
    rm -f "$out"/cg.out*
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" /usr/sbin/slapd -d 0 -s 0 \
        -f "$work/$1.conf" -h "ldap://127.0.0.1:$port/" < /dev/null > "$out/slapd-$1.log" 2>&1 &
    vpid=$!
    for i in $(seq 600); do
        ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -b "" -s base 1.1 >/dev/null 2>&1 && break
        kill -0 "$vpid" 2>/dev/null || die "slapd ($1) did not start"; sleep 0.2
    done
    # one unmeasured search warms the caches
    ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -D "$2" -w "$3" -b "$suffix" -z 0 "$filter" mail > "$out/warm.ldif" ||
        die "$1: the search failed"
    entries=$(grep -c '^dn: ' "$out/warm.ldif" || true)
    callgrind_control -z "$vpid" > /dev/null
    for i in $(seq "$n"); do
        ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -D "$2" -w "$3" -b "$suffix" -z 0 "$filter" mail > /dev/null ||
            die "$1: search $i failed"
    done
    callgrind_control -d "$vpid" > /dev/null
    dump=""
    for i in $(seq 100); do
        dump=$(ls "$out"/cg.out.* 2>/dev/null | head -n1 || true)
        [ -n "$dump" ] && grep -q '^totals:\|^summary:' "$dump" && break
        sleep 0.1
    done
    [ -n "$dump" ] || die "$1: no callgrind dump"
    total=$(grep -m1 '^totals:\|^summary:' "$dump" | awk '{ print $2 }')
    kill "$vpid"; wait "$vpid" 2>/dev/null || true; vpid=""
    echo "$(( total / n )) $entries"
}
read -r sdn spw _ < <(head -n1 "$work/data/ssha-right.pairs" | tr '\t' ' ')
read -r ddn dpw _ < <(head -n1 "$work/data/d1-right.pairs" | tr '\t' ' ')
read -r stock entries < <(measure stock "$sdn" "$spw")
read -r dev dentries < <(measure devicepw "$ddn" "$dpw")
[ "$entries" = "$dentries" ] || die "the two searches found $entries and $dentries entries"
ratio=$(echo "scale=3; $stock / $dev" | bc -l)
printf 'search\tfilter\tentries\tinstructions_per_search\n' > "$out/search.tsv"
printf 'stock\t%s\t%s\t%s\ndevicepw\t%s\t%s\t%s\n' "$filter" "$entries" "$stock" "$filter" "$entries" "$dev" >> "$out/search.tsv"
echo "search: $filter ($entries entries): stock $stock, devicepw $dev instructions per search; ratio $ratio"
