#!/usr/bin/env bash
# nsctl metrics under idle connections (issue 22, finding 8): ten TCP
# clients connect to the metrics port and send nothing; a scrape made
# beside them must answer within a few seconds (a Prometheus server
# gives up at its scrape_timeout, 10 s by default) with the group's
# metrics, and each idle client must be closed by the server's
# per-connection timeout (documented: 2 s), not kept forever.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 90
command -v curl >/dev/null || skip "curl is not installed (tools/install-deps)"
P=$((20000 + RANDOM % 20000))
MP=$((P + 1))
"$BIN/pcapgen" --flows 5 --packets 100 --seed 3 -o $T/a.pcap >/dev/null || fail "pcapgen"
cat >$T/g.conf <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address" ];
              collect = [ "packets" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF
"$NSCTL" collect -p $P -b 127.0.0.1 -t 60 >$T/c.txt 2>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" up -c $T/g.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: captures ended' $T/up.log 2>/dev/null" 150 ||
	fail "the replay did not end"
"$NSCTL" metrics --listen 127.0.0.1:$MP 2>$T/metrics.log &
PIDS="$PIDS $!"
URL=http://127.0.0.1:$MP/metrics
check "metrics: serving" wait_for \
	'[ "$(curl -s -o /dev/null -w %{http_code} --max-time 5 $URL)" = 200 ]' 50
sleep 1 # a sample of each process has come

# ten clients that connect and say nothing (fds 10..19)
for i in $(seq 10 19); do
	eval "exec $i<>/dev/tcp/127.0.0.1/$MP" || fail "connect idle client $i"
done
start=$(date +%s%N)
code=$(curl -s -o $T/scrape.txt -w '%{http_code}' --max-time 10 $URL)
ms=$((($(date +%s%N) - start) / 1000000))
check "a scrape beside 10 idle connections answers 200 (got $code)" [ "$code" = 200 ]
check "... within 3 s (took $ms ms)" [ "$ms" -lt 3000 ]
check "... with the group's metrics" \
	grep -q '^netstreamd_sampled_interface_packets_total{slot="1",interface="GigabitEthernet1/0/0",direction="inbound"} 100$' $T/scrape.txt
# each idle client sees its connection closed: read returns end of file
# (status 1), not a timeout (status > 128), well before 10 s
closed=0
for i in $(seq 10 19); do
	read -r -t 8 -u $i line
	rc=$?
	[ $rc -eq 1 ] && closed=$((closed + 1))
	eval "exec $i>&-"
done
check "the server closed the 10 idle connections by its timeout ($closed)" [ $closed -eq 10 ]
check "metrics: still serving after them" \
	[ "$(curl -s -o /dev/null -w %{http_code} --max-time 5 $URL)" = 200 ]
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
finish
