#!/usr/bin/env bash
# make bench: live capture (issue 15). A veth pair in a network namespace
# of its own; tcpreplay -K puts a generated trace into one end at several
# rates up to its maximum (--topspeed); on the other end, in turn, the
# group (nsctl up, one live interface, both directions), softflowd
# (-i DEV -v 9 -6), each exporting to `nsctl collect` in the namespace,
# and the floor: bench/ringread.c, a bare TPACKET_V3 ring of sampled's
# geometry that only counts the frames (issue 23.5).
# Per rate and exporter: the rate tcpreplay reached, the packets the
# exporter saw and the kernel dropped, its CPU time per packet sent
# (/proc/PID/stat utime + stime over the replay; the group's is sampled
# alone, and sampled + exportd), its CPU seconds, that CPU over the bare
# ring's at the same rate, and the flow records the collector got.
# Each cell is the median of LIVE_ROUNDS (3) runs, the exporters taking
# turns; "sampled x2" is the group with `workers = 2` in the slot (two
# capture threads over one PACKET_FANOUT group; LIVE_WORKERS=0 leaves it
# out). Two traces: LIVE_PKTS (200000) frames of 128 bytes over
# LIVE_FLOWS (2000) flows at RATE..., then the issue's: LIVE_MIX_PKTS
# (1000000) over LIVE_MIX_FLOWS (100000) flows, a quarter VLAN-tagged, a
# quarter with extension headers, a quarter both (pcapgen --mix), at
# LIVE_MIX_RATES (300000; "" leaves it out). LIVE_PIN=1 runs the
# generator on CPU 0 and each exporter on CPU 1 (taskset): on a VM whose
# runs differ by 25% unpinned, the form to compare two trees with.
# Prints tables; asserts nothing.
#   bench/live.sh [RATE...]     default: 20000 50000 100000 200000 max
source "$(dirname "$0")/../tests/lib.sh"
cd "$ROOT" || exit 1
# a run lasts many minutes: its files apart from the tests' (/tmp/nstest.*,
# which test runs on a shared machine clean up); lib.sh removes T at exit
rmdir "$T" && T=$(mktemp -d /tmp/nsbench-live.XXXXXX) || exit 1
RATES=${*:-20000 50000 100000 200000 max}
PKTS=${LIVE_PKTS:-200000}
ROUNDS=${LIVE_ROUNDS:-3}
WORKERS=${LIVE_WORKERS:-2}
FLOWS=${LIVE_FLOWS:-2000}
MIX_PKTS=${LIVE_MIX_PKTS:-1000000}
MIX_FLOWS=${LIVE_MIX_FLOWS:-100000}
MIX_RATES=${LIVE_MIX_RATES-300000}
PIN0= PIN1=
[ "${LIVE_PIN:-0}" = 1 ] && PIN0="taskset -c 0" PIN1="taskset -c 1"
NS=ns-$$-bench
CAP=nsb$$c
PEER=nsb$$p
ns() { ip netns exec "$NS" "$@"; }
ns_cleanup() {
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	cleanup
	ip netns del "$NS" 2>/dev/null
}
trap ns_cleanup EXIT
for tool in tcpreplay softflowd softflowctl; do
	command -v $tool >/dev/null || { echo "bench/live.sh: $tool is not installed"; exit 0; }
done
RINGREAD=$T/ringread
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o $RINGREAD bench/ringread.c || exit 1

ip netns add "$NS" || exit 1
ns ip link set lo up
ns ip link add "$CAP" type veth peer name "$PEER" || exit 1
for d in "$CAP" "$PEER"; do
	ns sysctl -qw net.ipv6.conf.$d.disable_ipv6=1
	ns ip link set "$d" up
done
# 128-byte frames of FLOWS 5-tuples: the rate is in packets
"$BIN/pcapgen" --flows "$FLOWS" --packets "$PKTS" --seed 3 --snaplen 128 \
	-o $T/base.pcap >/dev/null || exit 1
[ -n "$MIX_RATES" ] && { "$BIN/pcapgen" --flows "$MIX_FLOWS" --packets "$MIX_PKTS" \
	--seed 5 --snaplen 128 --mix -o $T/mix.pcap >/dev/null || exit 1; }
P=$((20000 + RANDOM % 20000))
cat >$T/live.conf <<CONF
system = { export = { hosts = ( { address = "::1"; port = $P; } ); };
           apply_record = "r";
           aging = { active_minutes = 30; inactive_seconds = 600; }; };
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; device = "$CAP";
                 buffer_kb = 4096; netstream = [ "inbound", "outbound" ]; } );
CONF
# the same with the slot's capture over WORKERS threads
{ cat $T/live.conf; echo "slots = ( { id = 1; workers = $WORKERS; } );"; } >$T/workers.conf
# cpu PID...: the CPU time of each in ns, all threads, user and system,
# on one line: the utime + stime of /proc/PID/stat, but read through the
# process's CPU clock (clock_getcpuclockid), as /proc counts in 10 ms
# ticks. The system's python, not a version manager's shim, which takes
# seconds to start on a loaded machine: an exporter idles meanwhile.
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
cpu() {
	$PY -c '
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
class TS(ctypes.Structure):
    _fields_ = [("s", ctypes.c_long), ("ns", ctypes.c_long)]
out = []
for p in sys.argv[1:]:
    cid, t = ctypes.c_int(), TS()
    if libc.clock_getcpuclockid(int(p), ctypes.byref(cid)) == 0 and \
       libc.clock_gettime(cid, ctypes.byref(t)) == 0:
        out.append(t.s * 10**9 + t.ns)
    else:
        out.append(0)
print(*out)' "$@"
}
collect_start() {
	: >$T/collect.txt
	ip netns exec "$NS" "$NSCTL" collect -p $P -b ::1 -t 600 >$T/collect.txt 2>/dev/null &
	COL=$!
	sleep 0.3
}
collect_stop() { # -> records received
	sleep 0.5
	kill $COL 2>/dev/null
	wait $COL 2>/dev/null
	grep -c '^data ' $T/collect.txt
}
replay() { # replay RATE -> "pps-reached"
	local opt="--pps=$1"
	[ "$1" = max ] && opt=--topspeed
	ns $PIN0 tcpreplay -K $opt -i "$PEER" $TRACE 2>&1 |
		sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' | head -1
}
stat_of() { # stat_of NAME: sampled's counter, from nsctl stats
	ns "$NSCTL" stats --json --slot 1 -n 1 2>/dev/null |
		grep -o "\"name\":\"$1\"[^}]*\"value\":[0-9]*" | sed 's/.*"value"://' | head -1
}

run_group() { # run_group RATE CONF -> "pps seen dropped ns/pkt(sampled) ns/pkt(+exportd) records"
	local up sd xd c0 c1 x0 x1 pps seen drop rec
	collect_start
	ip netns exec "$NS" $PIN1 "$NSCTL" up -c "$2" >/dev/null 2>$T/up.log &
	up=$!
	wait_for "grep -q 'slot 1: running generation' $T/up.log &&
		[ -n \"\$(pgrep -P $up -x exportd)\" ]" 100
	sd=$(pgrep -P $up -x sampled | head -1)
	xd=$(pgrep -P $up -x exportd | head -1)
	sleep 0.3
	c0=$(cpu $sd)
	sleep 1
	idle=$(($(cpu $sd) - c0))
	read -r c0 x0 <<<"$(cpu $sd $xd)" # both at once
	pps=$(replay $1)
	sleep 0.3 # the last ring block
	read -r c1 x1 <<<"$(cpu $sd $xd)"
	seen=$(stat_of packets_received)
	drop=$(stat_of packets_dropped)
	kill -TERM $up
	wait $up
	rec=$(collect_stop)
	awk -v pps="$pps" -v seen="${seen:-0}" -v drop="${drop:--}" -v c=$((c1 - c0)) \
		-v x=$((x1 - x0)) -v n=$PKTS -v rec=$rec -v idle=$idle 'BEGIN {
		printf "%.0f %s %s %.2f %.0f %.0f %s %.3f\n", pps, seen, drop, idle / 1e6,
			c / n, (c + x) / n, rec, c / 1e9 }'
}

run_softflowd() { # run_softflowd RATE -> "pps seen dropped ns/pkt - records"
	local sf c0 c1 pps st seen drop rec
	collect_start
	ip netns exec "$NS" $PIN1 softflowd -i "$CAP" -v 9 -6 -d -m 100000 -B 4194304 \
		-n "[::1]:$P" -c $T/sf.ctl -p $T/sf.pid >$T/softflowd.log 2>&1 &
	sf=$!
	wait_for "[ -S $T/sf.ctl ]" 50
	sleep 0.3
	c0=$(cpu $sf)
	sleep 1
	idle=$(($(cpu $sf) - c0))
	c0=$(cpu $sf)
	pps=$(replay $1)
	sleep 0.3
	c1=$(cpu $sf)
	st=$(ns softflowctl -c $T/sf.ctl statistics 2>/dev/null)
	seen=$(echo "$st" | sed -n 's/.*[Pp]ackets processed: *\([0-9]*\).*/\1/p' | head -1)
	drop=$(echo "$st" | sed -n 's/.*dropped by pcap: *\([0-9]*\).*/\1/p;s/.*[Dd]ropped.*: *\([0-9]*\).*/\1/p' | head -1)
	echo "$st" >$T/softflowd.$1.stats
	ns softflowctl -c $T/sf.ctl shutdown >/dev/null 2>&1 || kill -TERM $sf
	wait_for "! kill -0 $sf 2>/dev/null" 50
	rec=$(collect_stop)
	awk -v pps="$pps" -v seen="${seen:-?}" -v drop="${drop:-?}" -v c=$((c1 - c0)) \
		-v n=$PKTS -v rec=$rec -v idle=$idle 'BEGIN {
		printf "%.0f %s %s %.2f %.0f - %s %.3f\n", pps, seen, drop, idle / 1e6,
			c / n, rec, c / 1e9 }'
}

run_ring() { # run_ring RATE -> "pps frames dropped ns/pkt - - cpu-s"
	local rr c0 c1 pps
	ip netns exec "$NS" $PIN1 $RINGREAD "$CAP" 4096 >$T/ring.out 2>$T/ring.err &
	rr=$!
	sleep 0.3
	c0=$(cpu $rr)
	sleep 1
	idle=$(($(cpu $rr) - c0))
	c0=$(cpu $rr)
	pps=$(replay $1)
	sleep 0.3
	c1=$(cpu $rr)
	kill -TERM $rr
	wait $rr
	read -r seen _ drop <$T/ring.out
	awk -v pps="$pps" -v seen="${seen:-?}" -v drop="${drop:-?}" -v c=$((c1 - c0)) \
		-v n=$PKTS -v idle=$idle 'BEGIN {
		printf "%.0f %s %s %.2f %.0f - - %.3f\n", pps, seen, drop, idle / 1e6,
			c / n, c / 1e9 }'
}

# the median of a column over the rounds of one exporter
median() { # median FILE COLUMN
	awk -v c="$2" '{ print $c }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : v[NR / 2] }'
}
row() { # row RATE NAME FILE RINGFILE
	printf "| %-9s | %-10s | %11s | %9s | %8s | %8s | %8s | %9s | %6s | %6s | %8s |\n" "$1" "$2" \
		"$(median $3 1)" "$(median $3 2)" "$(median $3 3)" "$(median $3 4)" \
		"$(median $3 5)" "$(median $3 6)" "$(median $3 8)" \
		"$(awk -v a="$(median $3 5)" -v b="$(median $4 5)" \
			'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')" \
		"$(median $3 7)"
}

table() { # table NAME PCAP PACKETS RATE...: one trace at its rates
	local name=$1 r k
	TRACE=$2
	PKTS=$3
	shift 3
	want=$(tshark -r $TRACE -T fields -e ipv6.src -e ipv6.dst -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport 2>/dev/null | sort -u | wc -l)
	echo "live capture over veth, $name: $PKTS packets of 128 bytes, $want flows (tshark),"
	echo "per rate, median of $ROUNDS rounds;${PIN1:+ pinned (generator on CPU 0, exporter on CPU 1);} $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	printf "| %-9s | %-10s | %11s | %9s | %8s | %8s | %8s | %9s | %6s | %6s | %8s |\n" rate exporter "reached pps" seen dropped "idle ms/s" "ns/pkt" "+exportd" "CPU s" "x ring" records
	printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n" ----------- ----------- ------------- ----------- ---------- ---------- ---------- ----------- -------- -------- ----------
	for r in "$@"; do
		: >$T/g.$r
		: >$T/s.$r
		: >$T/w.$r
		: >$T/r.$r
		for k in $(seq 1 "$ROUNDS"); do
			run_ring $r >>$T/r.$r
			run_group $r $T/live.conf >>$T/g.$r
			[ "$WORKERS" -gt 1 ] && run_group $r $T/workers.conf >>$T/w.$r
			run_softflowd $r >>$T/s.$r
		done
		row $r "bare ring" $T/r.$r $T/r.$r
		row $r sampled $T/g.$r $T/r.$r
		[ "$WORKERS" -gt 1 ] && row $r "sampled x$WORKERS" $T/w.$r $T/r.$r
		row $r softflowd $T/s.$r $T/r.$r
	done
	echo
}

table "$FLOWS flows" $T/base.pcap "$PKTS" $RATES
# shellcheck disable=SC2086 # the rates are words
[ -n "$MIX_RATES" ] && table "$MIX_FLOWS flows, VLAN and extension headers (--mix)" \
	$T/mix.pcap "$MIX_PKTS" $MIX_RATES
echo "idle ms/s: the exporter's CPU time in the second before the replay, in ms."
echo "ns/pkt: its CPU time (user + system, all threads, its CPU clock) over"
echo "the replay, idle included, divided by the packets sent; +exportd:"
echo "sampled and exportd together (softflowd does both in one process)."
echo "CPU s: that CPU time in seconds; x ring: ns/pkt over the bare ring's"
echo "(bench/ringread.c: a TPACKET_V3 ring of sampled's geometry, no filter,"
echo "that counts frames and bytes and does nothing else) at that rate."
echo "seen: sampled's packets_received (IPv6 only: the kernel filters),"
echo "softflowd's packets processed, the ring's frames; dropped: by the"
echo "kernel, its ring full (sampled's packets_dropped, \"-\" where sampled"
echo "has none; softflowd's libpcap count). records: flow records the"
echo "collector received after the exporter stopped. sampled x$WORKERS: the"
echo "same group with workers = $WORKERS (each worker a thread with its own"
echo "socket in one fanout group, its own ring of buffer_kb and its share of"
echo "the cache); the generator runs on the same $(nproc) cores."
finish
