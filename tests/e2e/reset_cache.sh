#!/usr/bin/env bash
# nsctl reset cache: slot 1 replays a capture of 20 flows in real time
# (30 s; the test ends long before), with timers far longer than the
# test, so no flow is aged by them. Once the cache holds the 20 flows,
# `nsctl reset cache slot 1` ages every one now; the export, read back
# with tshark's NetFlow v9 decoder from a capture on lo, carries each of
# the capture's 20 5-tuples (tshark's reading of the replayed file) once,
# with flow-end-reason 4 (forced, RFC 5102 / DESIGN.md), at most the
# packets tshark counts for it, and nothing else. The interface counts
# 20 flows aged forced, and the cache fills again from the replay.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/tshark_lib.sh"
cd "$ROOT" || exit 1
watchdog 90
command -v tshark >/dev/null && command -v dumpcap >/dev/null ||
	skip "tshark or dumpcap is not installed"
P=$((20000 + RANDOM % 20000))
"$BIN/pcapgen" --flows 20 --packets 30000 --pps 1000 -o $T/f.pcap >/dev/null ||
	fail "pcapgen"
tshark_flows $T/f.pcap >$T/truth.txt
NF=$(wc -l <$T/truth.txt)
check "tshark reads 20 IPv6 flows in the capture ($NF)" [ "$NF" = 20 ]
cat >$T/g.conf <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r";
           aging = { active_minutes = 60; inactive_seconds = 600; }; };
records = ( { name = "r"; match = [ "source-address", "destination-address",
                "protocol", "source-port", "destination-port" ];
              collect = [ "packets", "bytes", "flow-end-reason" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/f.pcap"; replay = "realtime";
    netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF
capture_start $T/x.pcap $P
"$NSCTL" collect -p $P -b 127.0.0.1 -t 60 >$T/c.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" up -c $T/g.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
cached() { "$NSCTL" display cache slot 1 2>/dev/null | sed -n 's/^Slot 1: \([0-9]*\) flows.*/\1/p'; }
check "the cache holds the 20 flows" wait_for '[ "$(cached)" = 20 ]' 100
check "nothing was exported before the reset" [ "$(grep -c '^data ' $T/c.txt)" = 0 ]

"$NSCTL" reset cache slot 1 >$T/reset.txt 2>&1
check "reset cache: 20 flows aged" \
	grep -q '^Slot 1: 20 flows aged (forced) and exported' $T/reset.txt
check "the collector got 20 flows" \
	wait_for '[ "$(grep -c "^data " $T/c.txt)" -ge 20 ]' 50
capture_stop $T/x.pcap

# tshark's decode of the export: "src dst proto sport dport packets reason"
tshark -r $T/x.pcap -d udp.port==$P,cflow -T fields -E separator=' ' \
	-E occurrence=a -E aggregator=' ' \
	-e cflow.srcaddrv6 -e cflow.dstaddrv6 -e cflow.protocol \
	-e cflow.srcport -e cflow.dstport -e cflow.packets \
	-e cflow.flow_end_reason 2>/dev/null | awk '
	NF {
		n = NF / 7
		for (i = 1; i <= n; i++)
			print $i, $(i + n), $(i + 2 * n), $(i + 3 * n), $(i + 4 * n), $(i + 5 * n), $(i + 6 * n)
	}' >$T/exported.txt
check "tshark decodes 20 exported flows" [ "$(wc -l <$T/exported.txt)" = 20 ]
check "each with flow-end-reason 4 (forced)" \
	awk '$7 != 4 { exit 1 } END { exit NR != 20 }' $T/exported.txt
cut -d' ' -f1-5 $T/truth.txt >$T/want.txt
cut -d' ' -f1-5 $T/exported.txt | sort >$T/got.txt
check "they are the capture's 20 5-tuples, each once" same $T/want.txt $T/got.txt
check "each has at most the packets tshark counts for it" \
	awk 'NR == FNR { t[$1 " " $2 " " $3 " " $4 " " $5] = $6; next }
		!($1 " " $2 " " $3 " " $4 " " $5 in t) || $6 < 1 ||
		$6 > t[$1 " " $2 " " $3 " " $4 " " $5] { bad = 1 }
		END { exit bad }' $T/truth.txt $T/exported.txt
forced() {
	"$NSCTL" display interface GigabitEthernet1/0/0 --json 2>/dev/null |
		/usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)[0]["directions"][0]["counters"]["flows_aged"]["forced"])'
}
check "the interface counts 20 flows aged forced" [ "$(forced)" = 20 ]
check "the cache fills again from the replay" \
	wait_for '[ "$(cached)" -gt 0 ] 2>/dev/null' 50
check "reset cache of a slot without sampled fails" \
	bash -c "! '$NSCTL' reset cache slot 9 2>/dev/null"
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
finish
