#!/usr/bin/env bash
# Every slot the validator allows runs (issue 14, item 5). nsctl up had
# room for 64 children: with 63 slots or more, cfgd plus the sampled of
# every slot filled it and exportd never started. Here the group runs
# NSLOTS slots (default 256: every id 0..255 the validator allows) over a
# small capture each, with `nsctl run`; tshark reads the export back: it
# must carry data from every slot's observation domain (= slot id).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
NSLOTS=${NSLOTS:-256}
watchdog 300
P=$((20000 + RANDOM % 20000))
command -v tshark >/dev/null || skip "tshark is not installed"
"$BIN/pcapgen" --flows 2 --packets 4 --seed 5 -o $T/a.pcap >/dev/null || fail "pcapgen"
{
	echo 'system = { export = { source = { address = "127.0.0.1"; };'
	echo "  hosts = ( { address = \"127.0.0.1\"; port = $P; } ); };"
	echo '  apply_record = "r"; };'
	echo 'records = ( { name = "r"; match = [ "source-address", "destination-address" ];'
	echo '  collect = [ "packets", "bytes" ]; } );'
	echo 'cache = { entries = 1024; };'
	echo 'interfaces = ('
	for s in $(seq 0 $((NSLOTS - 1))); do
		[ $s -gt 0 ] && echo ','
		echo "{ name = \"GigabitEthernet$s/0/0\"; file = \"$T/a.pcap\"; netstream = [ \"inbound\" ]; }"
	done
	echo ');'
} >$T/many.conf
"$NSCTL" validate -c $T/many.conf >$T/validate.out 2>&1
check "the validator accepts $NSLOTS slots" [ $? -eq 0 ]
tshark -i lo -f "udp dst port $P" -w $T/x.pcap >$T/tshark.log 2>&1 &
TS=$!
PIDS="$PIDS $TS"
wait_for "grep -q Capturing $T/tshark.log" 100 || fail "tshark did not start"
# a sink on the port, so the export is not refused by ICMP
"$NSCTL" collect -p $P -b 127.0.0.1 -t 250 >/dev/null 2>>$T/collect.log &
PIDS="$PIDS $!"
# bounded here: a foreground command holds off the watchdog's trap
timeout -k 10 150 "$NSCTL" run -c $T/many.conf >$T/run.out 2>$T/run.log
rc=$?
check "nsctl run over $NSLOTS slots exits 0 (exit $rc)" [ $rc -eq 0 ]
check "nsctl started exportd" grep -q 'started exportd' $T/run.log
n=$(grep -c 'started sampled --slot' $T/run.log)
check "nsctl started a sampled for each of the $NSLOTS slots ($n)" [ "$n" -eq "$NSLOTS" ]
sleep 0.5
kill -INT $TS
wait $TS 2>/dev/null
# the observation domains of the data flowsets, as tshark decodes them
tshark -r $T/x.pcap -d udp.port==$P,cflow -Y 'cflow.flowset_id >= 256' \
	-T fields -e cflow.source_id 2>/dev/null | tr ',' '\n' | sort -un >$T/got
seq 0 $((NSLOTS - 1)) >$T/want
check "the export carries data of every slot 0..$((NSLOTS - 1)) ($(wc -l <$T/got) domains)" \
	same $T/want $T/got
finish
