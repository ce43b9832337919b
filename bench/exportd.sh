#!/usr/bin/env bash
# bench/exportd.sh: exportd's encode-and-send rate on loopback, 1M synthetic
# IPv6 5-tuple records (flowgen) exported as v9 to nfcapd, and softflowd
# exporting comparable flows (1M one-packet flows from pcapgen) to nfcapd.
# Prints a table; it asserts nothing (CONVENTIONS.md: a benchmark is not a
# test). Usage: NS_BUILD=build bench/exportd.sh [RECORDS]
source "$(dirname "$0")/../tests/lib.sh"
source "$ROOT/tests/e2e/exportd_lib.sh"
cd "$ROOT" || exit 1
N=${1:-1000000}

cpu_s() { # user+system CPU seconds of a pid
	awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; }

# busy_until PID STEP: waits until PID's CPU time stops growing for STEP
# seconds; prints when it last grew
busy_until() {
	local last=-1 c t
	t=$(date +%s.%N)
	for _ in $(seq 1 3000); do
		c=$(cpu_s "$1" 2>/dev/null) || break
		[ "$c" = "$last" ] && break
		last=$c
		t=$(date +%s.%N)
		sleep "$2"
	done
	echo "$t"
}

row() { printf "%-34s %9s %8s %8s %12s %12s %9s\n" "$@"; }

# export_run RATE LABEL [PACE]: one flowgen run (RATE batches of 1000 a
# second, 0: as fast as it goes) to a fresh nfcapd, the host paced at
# PACE export packets a second (exportd's default when absent); a row
export_run() {
	local P c0 c1 t0 t1 got wall cpu
	P=$(free_port)
	start_nfcapd $P "$T/nf$P"
	c0=$(cpu_s $XD_PID)
	t0=$(date +%s.%N)
	"$FLOWGEN" -n "$N" -b 1000 --slot 1 --rate "$1" --final -H 127.0.0.1:$P \
		${3:+--pace $3} >/dev/null
	t1=$(busy_until $XD_PID 0.1)
	c1=$(cpu_s $XD_PID)
	sleep 0.5
	stop_nfcapd $P
	got=$(nf_stat "$T/nf$P" Flows)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')
	row "exportd v9 -> nfcapd, ${2}" "$N" "$wall" "$cpu" "$(rate $N $wall)" "$(rate $N $cpu)" "$got"
}

start_cfgd
start_exportd
echo
row "exporter" "records" "wall s" "cpu s" "rec/s wall" "rec/s cpu" "received"
export_run 0 "default pace (5000 pkt/s)"
export_run 0 "pace 1000000 pkt/s" 1000000
export_run 400 "400k rec/s offered, pace 1000000" 1000000
echo "  (wall: flowgen start to exportd idle, flowgen building rows included;"
echo "   cpu: exportd's own user+system time: decode, encode, sendmmsg;"
echo "   received < records: nfcapd's socket buffer overflowed, on this 2-core box)"

if command -v softflowd >/dev/null && [ -x "$BIN/pcapgen" ]; then
	P2=$(free_port)
	start_nfcapd $P2 "$T/nf2"
	"$BIN/pcapgen" --flows "$N" --packets "$N" -o "$T/f.pcap" >/dev/null 2>&1
	# softflowd -r does not exit at the end of the file: wait until its
	# CPU time stops growing, then shut it down (it exports what is left)
	t0=$(date +%s.%N)
	# (softflowd cuts a long -r path short: run it from $T)
	(cd "$T" && exec /usr/bin/time -f "%U %S" -o sf.time softflowd -d -r f.pcap \
		-v 9 -6 -m $((N + 1000)) -n 127.0.0.1:$P2 -p sf.pid -c sf.ctl \
		>softflowd.out 2>&1) &
	SF=$!
	PIDS="$PIDS $SF"
	wait_for "[ -n \"\$(ps --ppid $SF -o pid=)\" ]" 100
	t1=$(busy_until "$(ps --ppid $SF -o pid= | tr -d ' ')" 0.5)
	softflowctl -c "$T/sf.ctl" shutdown >/dev/null 2>&1
	wait $SF
	sleep 0.5
	stop_nfcapd $P2
	got=$(nf_stat "$T/nf2" Flows)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	cpu=$(awk '{ print $1 + $2 }' "$T/sf.time")
	row "softflowd -r pcap -v 9 -6" "$N" "~$wall" "$cpu" "~$(rate $N $wall)" "$(rate $N $cpu)" "$got"
	echo "  (softflowd also reads and parses the pcap and runs its flow table;"
	echo "   its wall time is measured to 0.5 s, when its CPU time stopped growing)"
fi
finish
