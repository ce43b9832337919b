#!/usr/bin/env bash
# nsctl display under nsctl up: slot 1 replays a capture in real time (its
# flows stay in the cache), slot 2 replays a short one fast (its 10 flows
# are aged and exported at once). statistics: slot 1's packet-length
# histogram adds up to its packets received, the host has exported slot
# 2's 10 flows; cache: the 5 biggest flows of slot 1 are flows of the
# capture, biggest first; template: 258 sent, nothing failed; monitor: m1
# effective, m2 not (no netstream outbound). Malformed queries to a
# sampled get a reply, are counted, and it goes on answering.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
P=$((20000 + RANDOM % 20000))
# 30 s in real time: the test ends long before
"$BIN/pcapgen" --flows 20 --packets 30000 --pps 1000 --print-counts \
	-o $T/f.pcap >$T/counts.txt
"$BIN/pcapgen" --flows 10 --packets 500 --seed 2 -o $T/s2.pcap >/dev/null
cat >$T/g.conf <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address",
                "protocol", "source-port", "destination-port" ];
              collect = [ "packets", "bytes" ]; } );
monitors = ( { name = "m1"; apply_record = "r";
               source = { address = "127.0.0.1"; };
               hosts = ( { address = "127.0.0.1"; port = $P; } ); },
             { name = "m2"; apply_record = "r";
               hosts = ( { address = "127.0.0.1"; port = $P; } ); } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/f.pcap"; replay = "realtime";
    netstream = [ "inbound" ];
    monitors = ( { name = "m1"; direction = "inbound"; },
                 { name = "m2"; direction = "outbound"; } ); },
  { name = "GigabitEthernet2/0/0"; file = "$T/s2.pcap";
    netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF
D() { "$NSCTL" display "$@" 2>>$T/display.log; }
in_block() { # FILE START RE: RE matches a line of the block that START opens
	awk -v s="$2" -v r="$3" '$0 ~ s { b = 1 } b && /^$/ { b = 0 }
		b && $0 ~ r { f = 1 } END { exit !f }' "$1"
}
"$NSCTL" collect -p $P -b 127.0.0.1 -t 60 >$T/c.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" up -c $T/g.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'started sampled --slot 1' $T/up.log" 100 || fail "group did not start"
wait_for "grep -q 'slot 2: captures ended' $T/up.log" 100 || fail "slot 2 did not end"
sent258() { # success and failure counts of template 258
	D template | awk '/^Template 258 /{t=1} t && /Packets sent/ {
		gsub(",", ""); print $4, $6; exit }'
}
wait_for '[ "$(sent258 | cut -d" " -f1)" -gt 0 ] 2>/dev/null' 50
sleep 1 # slot 1 has counted a while

# display statistics
D statistics slot 1 >$T/stats.txt
total=$(awk '$1 == "Total" { print $2 }' $T/stats.txt)
recv=$(sed -n 's/.*Packets: received \([0-9]*\),.*/\1/p' $T/stats.txt)
check "statistics: slot 1 has received packets ($recv)" [ "${recv:-0}" -gt 0 ]
check "statistics: its length histogram adds up to them ($total)" \
	[ "$total" = "$recv" ]
check "statistics: slot 1's 20 flows are current" \
	grep -qE '^   r +20 +20 +0 ' $T/stats.txt
hostflows=$(awk -v h="[127.0.0.1]:$P" '$1 == h { print $3 }' $T/stats.txt)
check "statistics: the host has exported slot 2's 10 flows ($hostflows)" \
	[ "$hostflows" = 10 ]
D statistics >$T/stats_all.txt
check "statistics: every slot shown without 'slot N'" \
	[ "$(grep -c '^Slot [12] ' $T/stats_all.txt)" = 2 ]
check "statistics: record r exported 10 flows over the slots" \
	grep -qE '^   r +258 +10 +[1-9][0-9]* +0$' $T/stats_all.txt
D statistics --json >$T/stats.json
check "statistics --json: one object" \
	grep -q '^{"slots":\[{"slot":.*"hosts":\[{"host":"\[127.0.0.1\]' $T/stats.json

# display cache
D cache slot 1 --top 5 >$T/cache.txt
check "cache: the 20 flows of slot 1's cache" \
	grep -q '^Slot 1: 20 flows in 1 cache; the 5 biggest by bytes' $T/cache.txt
awk 'NF == 9 && $1 ~ /:/ { print }' $T/cache.txt >$T/rows.txt
check "cache: 5 flows listed" [ "$(wc -l <$T/rows.txt)" = 5 ]
check "cache: each with packets" awk '$6 <= 0 { exit 1 }' $T/rows.txt
check "cache: biggest by bytes first" sort -c -k7,7nr $T/rows.txt
while read -r src dst proto sport dport pk by age idle; do
	check "cache: $src $sport -> $dst $dport is a flow of the capture (at most its packets)" \
		awk -v k="$src $dst $proto $sport $dport" -v pk="$pk" -v by="$by" '
			$1 " " $2 " " $3 " " $4 " " $5 == k && pk <= $6 && by <= $7 { f = 1 }
			END { exit !f }' $T/counts.txt
done <$T/rows.txt
check "cache --record: another record has no cache" \
	grep -q '^Slot 1: 0 flows in 0 caches of record nosuch' \
	<(D cache slot 1 --record nosuch)
check "cache: a slot without sampled is an error" \
	bash -c "! '$NSCTL' display cache slot 9 2>/dev/null"

# display template
read -r ok failed <<<"$(sent258)"
check "template: 258 sent in $ok packets" [ "${ok:-0}" -gt 0 ]
check "template: 258 failed in none" [ "$failed" = 0 ]
D template >$T/template.txt
check "template: 258 is record r's, its fields listed" \
	in_block $T/template.txt '^Template 258 [(]data, record r[)]' \
	'^   destination-port +11 +2$'
check "template: the options templates too" \
	grep -q '^Template 256 (options' $T/template.txt

# display monitor
D monitor >$T/monitor.txt
check "monitor: m1 applied, effective" in_block $T/monitor.txt '^Monitor m1$' \
	'GigabitEthernet1/0/0 +inbound +effective$'
check "monitor: m1's host and source" in_block $T/monitor.txt '^Monitor m1$' \
	"Export host: 127.0.0.1 port $P, v9, dscp 0, source 127.0.0.1 port 0"
check "monitor: m2 not effective, and why" in_block $T/monitor.txt '^Monitor m2$' \
	'GigabitEthernet1/0/0 +outbound +not effective +ipv6 netstream outbound is not enabled'
check "monitor NAME: that monitor only" \
	[ "$(D monitor m2 | grep -c '^Monitor')" = 1 ]
check "monitor: an unknown one fails" bash -c "! '$NSCTL' display monitor nosuch >/dev/null 2>&1"

# malformed queries: a reply each, counted, and the next one is served
bad() { # the bad_messages of sampled slot 1 with this reason
	timeout 5 "$NSCTL" stats --json --slot 1 -n 1 2>/dev/null |
		grep -o "{\"name\":\"bad_messages\",\"value\":[0-9]*,\"reason\":\"$1\"}" |
		sed 's/.*"value":\([0-9]*\).*/\1/'
}
printf '\377\377\377' >$T/garbage
head -c 5000 /dev/zero >$T/big
check "a malformed query gets a reply" \
	[ -z "$("$BIN/bussend" ipc://$NETSTREAMD_RUN_DIR/slot-1 $T/garbage)" ]
check "a query past the size limit gets a reply" \
	[ -z "$("$BIN/bussend" ipc://$NETSTREAMD_RUN_DIR/slot-1 $T/big)" ]
check "they are counted (decode)" wait_for '[ "$(bad decode)" = 1 ]' 30
check "they are counted (too-big)" wait_for '[ "$(bad too-big)" = 1 ]' 30
check "sampled answers again" grep -q '^Slot 1: 20 flows' <(D cache slot 1)

kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
check "every sampled stopped by itself (its query socket closed)" \
	bash -c "! grep -q 'did not stop in time' $T/up.log"
finish
