#!/usr/bin/env bash
# A burst against a stock collector (issue 12): a 300,000-packet capture of
# 30,000 flows replayed as fast as the group can, so that every flow ends
# at once at the end of the capture, exported as v9 and as IPFIX to nfcapd
# started as users start it, with its default socket buffer (no -B), on
# loopback. Export is paced per host (DESIGN.md), so nothing is lost:
# packets and bytes per 5-tuple read back with nfdump equal tshark's count
# of the capture, and nfcapd saw no sequence failure (v9).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/interop_lib.sh"
il_skip_unless nfcapd nfdump tshark
watchdog 150
cd "$ROOT" || exit 1

"$BIN/pcapgen" --flows 30000 --packets 300000 --seed 5 -o $T/a.pcap >/dev/null ||
	fail "pcapgen"
NF9=$(il_port) NF10=$(il_port)
cat >$T/a.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; }; compat = "extended";
             hosts = ( { address = "127.0.0.1"; port = $NF9; },
                       { address = "127.0.0.1"; port = $NF10; version = "ipfix"; } ); };
  apply_record = "five";
  aging = { active_minutes = 30; inactive_seconds = 30; };
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 netstream = [ "inbound" ]; } );
CONF
il_nfcapd nf9 $NF9
il_nfcapd nf10 $NF10
il_wait_ready $NF9 $NF10
start=$(date +%s.%N)
"$NSCTL" run -c $T/a.conf >$T/run.out 2>$T/run.log
check "nsctl run exits 0 (nothing lost)" [ $? -eq 0 ]
echo "note: the replay and its export took $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
sleep 1
il_stop nf9 nf10

tshark_flows $T/a.pcap >$T/want
check "tshark sees 30000 flows" [ "$(wc -l <$T/want)" -eq 30000 ]
for v in v9 ipfix; do
	d=nf9
	[ $v = ipfix ] && d=nf10
	nfdump_flows $T/$d >$T/nfdump.$v
	check "nfcapd $v (no -B): $(wc -l <$T/nfdump.$v) of 30000 flows; packets and bytes per 5-tuple equal tshark's" \
		same $T/want $T/nfdump.$v
	echo "note: nfcapd $v: $(grep -o 'Flows: [0-9]*.*Bad Packets: [0-9]*' $T/$d.log)"
done
check "nfcapd v9: no sequence failure" grep -q 'Sequence Errors: 0,' $T/nf9.log
finish
