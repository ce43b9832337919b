#!/usr/bin/env bash
# kill -9 of exportd in the middle of a stream, then a restart: batches
# pushed while it was down wait with the sender and are all exported, and
# those the killed exportd had pulled but not sent are pushed again and
# exported once: every record arrives exactly once, and the v9 sequence
# goes on where the killed exportd left it.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/exportd_lib.sh"
cd "$ROOT" || exit 1

P1=$(free_port) # stream A: running when exportd is killed
P2=$(free_port) # stream B: pushed while exportd is down
start_cfgd
start_exportd
start_nfcapd $P1 "$T/nfA"
start_nfcapd $P2 "$T/nfB"
timeout 60 "$FLOWGEN" -n 100000 -b 1000 --rate 50 --slot 1 --final \
	-H 127.0.0.1:$P1 >"$T/flowgen-a.out" 2>&1 &
GA=$!
sleep 0.7
kill -9 $XD_PID
wait $XD_PID 2>/dev/null
timeout 60 "$FLOWGEN" -n 20000 -b 1000 --slot 2 --final \
	-H 127.0.0.1:$P2 >"$T/flowgen-b.out" 2>&1 &
GB=$!
sleep 1
start_exportd
wait $GA
check "stream A: flowgen handed over every batch" [ $? = 0 ]
wait $GB
check "stream B: flowgen handed over every batch" [ $? = 0 ]
check "restarted exportd exported the final batch of slot 1" wait_finals 1 1
check "restarted exportd exported the final batch of slot 2" wait_finals 2 1
sleep 0.5
stop_nfcapd $P1
stop_nfcapd $P2

b=$(nf_stat $T/nfB Flows)
check "stream B (pushed while exportd was down): all 20000 records ($b)" [ "$b" = 20000 ]
check "stream B: packets = $(flowgen_field "$(cat $T/flowgen-b.out)" packets)" \
	[ "$(nf_stat $T/nfB Packets)" = "$(flowgen_field "$(cat $T/flowgen-b.out)" packets)" ]
a=$(nf_stat $T/nfA Flows)
check "stream A (exportd killed in the middle): all 100000 records ($a)" \
	[ "$a" = 100000 ]
check "stream A: packets = $(flowgen_field "$(cat $T/flowgen-a.out)" packets)" \
	[ "$(nf_stat $T/nfA Packets)" = "$(flowgen_field "$(cat $T/flowgen-a.out)" packets)" ]
check "no record arrived twice (A)" \
	[ "$(nfdump -R $T/nfA -q -o 'fmt:%sa' 2>/dev/null | sort | uniq -d | wc -l)" = 0 ]
check "stream A: flowgen pushed again what the killed exportd held" \
	grep -q 'pushed .* batches again after 1 exportd restarts' $T/flowgen-a.out
check "nfcapd saw no sequence errors across the restart (A)" \
	grep -q 'Sequence Errors: 0' $T/nfcapd-$P1.out
check "restarted exportd still running" kill -0 $XD_PID
finish
