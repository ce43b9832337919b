#!/usr/bin/env bash
# Per-record counters survive a template change (issue 16, c). Under
# nsctl up, revision 1 replays a.pcap through record r; revision 2 adds a
# collect field to r (so r gets a new template id) and an interface that
# replays b.pcap. The counters of record r go on across the change:
# sampled's flows created and aged of r (display statistics, nsctl stats)
# are the flows tshark reads in a.pcap and b.pcap together, and exportd's
# export packets of r are every packet dumpcap saw on lo carrying r's
# data, under the old template and the new one; display template still
# shows the old template as record r's with its own packets. Expected
# values: tshark's reading of the captures and of the export.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/tshark_lib.sh"
cd "$ROOT" || exit 1
watchdog 90
command -v tshark >/dev/null && command -v dumpcap >/dev/null ||
	skip "tshark or dumpcap is not installed"
P=$((20000 + RANDOM % 20000))
"$BIN/pcapgen" --flows 30 --packets 600 --seed 11 -o $T/a.pcap >/dev/null || fail "pcapgen a"
"$BIN/pcapgen" --flows 17 --packets 400 --seed 12 -o $T/b.pcap >/dev/null || fail "pcapgen b"
NA=$(tshark_flows $T/a.pcap | wc -l)
NB=$(tshark_flows $T/b.pcap | wc -l)
check "tshark reads flows in both captures ($NA, $NB)" [ "$NA" -gt 0 -a "$NB" -gt 0 ]
mkconf() { # mkconf COLLECT IFACES
	cat <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address",
                "protocol", "source-port", "destination-port" ];
              collect = [ $1 ]; } );
interfaces = ( $2 );
stats_interval_ms = 200;
CONF
}
IF_A='{ name = "GigabitEthernet1/0/0"; file = "'$T/a.pcap'"; netstream = [ "inbound" ]; }'
IF_B='{ name = "GigabitEthernet1/0/1"; file = "'$T/b.pcap'"; netstream = [ "inbound" ]; }'
mkconf '"packets"' "$IF_A" >$T/r1.conf
mkconf '"packets", "bytes"' "$IF_A, $IF_B" >$T/r2.conf

"$NSCTL" collect -p $P -b 127.0.0.1 -t 60 >$T/c.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
capture_start $T/x1.pcap $P || finish
"$NSCTL" up -c $T/r1.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: captures ended' $T/up.log" 150 || fail "revision 1: the replay did not end"
check "revision 1: the collector got a.pcap's $NA flows" \
	wait_for '[ "$(grep -c "^data " $T/c.txt)" = "$NA" ]' 50
capture_stop $T/x1.pcap

# data flowsets of records: ids from 258 (256 and 257 are the options')
data_ids() { # data_ids PCAP: one line a packet: its data flowset ids
	tshark -r "$1" -d udp.port==$P,cflow -T fields -E occurrence=a \
		-E aggregator=' ' -e cflow.flowset_id 2>/dev/null |
		awk '{ s = ""; for (i = 1; i <= NF; i++) if ($i >= 258) s = s " " $i; print s }'
}
data_ids $T/x1.pcap >$T/ids1.txt
T1=$(tr ' ' '\n' <$T/ids1.txt | grep . | sort -u)
P1=$(grep -c . $T/ids1.txt)
check "revision 1: tshark sees one data template ($T1) in $P1 packets" \
	[ "$(echo "$T1" | wc -l)" = 1 -a "$P1" -gt 0 ]

capture_start $T/x2.pcap $P || finish
"$NSCTL" commit -c $T/r2.conf -m "r collects bytes too" >$T/commit.out 2>&1 || fail "commit 2"
wait_for "[ \$(grep -c 'slot 1: captures ended' $T/up.log) -ge 2 ]" 150 ||
	fail "revision 2: the replay of b.pcap did not end"
check "revision 2: the collector got b.pcap's $NB flows too" \
	wait_for '[ "$(grep -c "^data " $T/c.txt)" = "$((NA + NB))" ]' 50
capture_stop $T/x2.pcap
data_ids $T/x2.pcap >$T/ids2.txt
T2=$(tr ' ' '\n' <$T/ids2.txt | grep . | sort -u)
P2=$(grep -c . $T/ids2.txt)
check "revision 2: tshark sees one data template ($T2), another than $T1, in $P2 packets" \
	[ "$(echo "$T2" | wc -l)" = 1 -a "$T2" != "$T1" -a "$P2" -gt 0 ]
sleep 0.5 # a stats interval after the last packet
check "exportd counts every export packet sent (none in flight)" exportd_sent

"$NSCTL" display statistics --json >$T/stats.json 2>>$T/display.log
"$NSCTL" display template --json >$T/template.json 2>>$T/display.log
# check NAME PY-EXPR: with s (statistics) and t (template) parsed
jcheck() {
	check "$1" /usr/bin/python3 -c "
import json, sys
s = json.load(open('$T/stats.json'))
t = {x['template']: x for x in json.load(open('$T/template.json'))}
recs = [x for sl in s['slots'] for x in sl['records'] if x['record'] == 'r']
exp = [x for x in s['records'] if x['record'] == 'r']
ok = $2
print(recs, exp, file=sys.stderr)
sys.exit(0 if ok else 1)"
}
jcheck "flows of r created over the change: a.pcap's and b.pcap's ($((NA + NB)))" \
	"sum(x['created'] for x in recs) == $((NA + NB))"
jcheck "... and aged (end of each replay): $((NA + NB))" \
	"sum(x['aged'] for x in recs) == $((NA + NB))"
jcheck "exported by record: r under its new template $T2, $((NA + NB)) flows" \
	"len(exp) == 1 and exp[0]['template'] == $T2 and exp[0]['flows'] == $((NA + NB))"
jcheck "exported by record: r's packets are those of both templates ($P1 + $P2), none failed" \
	"exp[0]['packets_ok'] == $((P1 + P2)) and exp[0]['packets_failed'] == 0"
jcheck "display template: $T1 is still record r's, with its $P1 packets" \
	"t[$T1]['record'] == 'r' and t[$T1]['packets_ok'] == $P1"
jcheck "display template: $T2 is record r's, with its $P2 packets" \
	"t[$T2]['record'] == 'r' and t[$T2]['packets_ok'] == $P2"

kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
kill $WATCHDOG 2>/dev/null
finish
