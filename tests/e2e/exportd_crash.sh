#!/usr/bin/env bash
# kill -9 of exportd in the middle of a stream, then a restart: batches
# pushed while it was down wait in the PUSH queue and are all exported.
# Batches the killed exportd had already pulled but not yet sent (and
# those in flight in its socket buffers) are lost: stream A shows how many,
# the check is only that the loss is bounded and the rest arrives.
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
echo "stream A: $a of 100000 records arrived; $((100000 - a)) lost with the killed exportd"
check "stream A: records arrived before and after the kill ($a)" [ "$a" -gt 50000 ]
check "stream A: the loss is at most what one exportd holds ($((100000 - a)))" \
	[ $((100000 - a)) -le 20000 ]
check "no record arrived twice (A)" \
	[ "$(nfdump -R $T/nfA -q -o 'fmt:%sa' 2>/dev/null | sort | uniq -d | wc -l)" = 0 ]
check "restarted exportd still running" kill -0 $XD_PID
finish
