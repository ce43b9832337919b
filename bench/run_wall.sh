#!/usr/bin/env bash
# make bench: the wall time of `nsctl run` on a small capture (issue 15),
# from its start to its exit, with `nsctl collect` receiving the export;
# RUNS runs (default 10), each in a fresh run directory; prints the median,
# the spread and how many flows the collector received. Asserts nothing
# (a benchmark): a received count below the capture's flows is printed.
#   bench/run_wall.sh [PACKETS] [FLOWS]
source "$(dirname "$0")/../tests/lib.sh"
cd "$ROOT" || exit 1
PKTS=${1:-1000}
FLOWS=${2:-100}
RUNS=${RUNS:-10}
P=$((20000 + RANDOM % 20000))
"$BIN/pcapgen" --flows "$FLOWS" --packets "$PKTS" --pps 1000 --seed 5 \
	-o $T/a.pcap >/dev/null || { echo "pcapgen failed"; exit 1; }
cat >$T/a.conf <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r"; };
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 netstream = [ "inbound" ]; } );
CONF
want=$(tshark_flows $T/a.pcap | wc -l)
"$NSCTL" collect -p $P -b 127.0.0.1 -t 600 >$T/collect.txt 2>$T/collect.log &
PIDS="$PIDS $!"
sleep 0.3
: >$T/times
for r in $(seq 1 "$RUNS"); do
	export NETSTREAMD_RUN_DIR=$T/run.$r
	before=$(grep -c '^data ' $T/collect.txt)
	t0=$(date +%s%N)
	"$NSCTL" run -c $T/a.conf >$T/run.$r.out 2>$T/run.$r.log
	rc=$?
	t1=$(date +%s%N)
	sleep 0.05 # the collector's last lines
	got=$(($(grep -c '^data ' $T/collect.txt) - before))
	echo "$(((t1 - t0) / 1000000)) $rc $got" >>$T/times
done
sort -n $T/times | awk -v n="$RUNS" -v want="$want" -v pk="$PKTS" '
	{ ms[NR] = $1; if ($2 != 0) bad++; if ($3 != want) short++ }
	END {
		med = (n % 2) ? ms[(n + 1) / 2] : (ms[n / 2] + ms[n / 2 + 1]) / 2
		printf "nsctl run, %d packets, %d flows: median %d ms (min %d, max %d) over %d runs; ", pk, want, med, ms[1], ms[n], n
		printf "runs not exiting 0: %d; runs where the collector missed flows: %d\n", bad + 0, short + 0
	}'
cat $T/times | tr '\n' ';'; echo
finish
