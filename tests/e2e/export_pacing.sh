#!/usr/bin/env bash
# Export pacing (DESIGN.md wire rules; issue 12): a replay of 100000 flows
# ends in one burst of some 3500 export packets. A stock nfcapd (no -B:
# its default 208 KiB socket buffer) on loopback at the default pace gets
# every flow: packets and bytes per 5-tuple equal tshark's count of the
# capture. A host with pace_pps = 2000, captured by tshark, never gets
# more than the bucket allows: k+1 packets span at least (k+1-32)/2000 s.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
P1=$((20000 + RANDOM % 20000)); P2=$((P1 + 1))
RATE=2000 BURST=32
"$BIN/pcapgen" --flows 100000 --packets 300000 --pps 1000000 --seed 3 \
	-o $T/a.pcap >/dev/null || fail "pcapgen"
cat >$T/a.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; };
             hosts = ( { address = "127.0.0.1"; port = $P1; },
                       { address = "127.0.0.1"; port = $P2; pace_pps = $RATE; } ); };
  apply_record = "five";
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 netstream = [ "inbound" ]; } );
CONF
mkdir -p $T/nf
nfcapd -p $P1 -b 127.0.0.1 -w $T/nf -t 3600 >$T/nfcapd.out 2>&1 &
NF=$!
PIDS="$PIDS $NF"
# a listener, so the paced host's packets are not refused
"$NSCTL" collect -p $P2 -b 127.0.0.1 -t 60 >$T/c.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
tshark -i lo -f "udp dst port $P2" -w $T/x.pcap >$T/tshark.log 2>&1 &
TS=$!
PIDS="$PIDS $TS"
wait_for "grep -q Capturing $T/tshark.log" 100 || fail "tshark did not start"
wait_for "ss -uln | grep -q ':$P1 '" || fail "nfcapd did not start"
"$NSCTL" run -c $T/a.conf >$T/run.out 2>$T/run.log
check "nsctl run exits 0 (nothing lost)" [ $? -eq 0 ]
sleep 0.5
kill -TERM $NF
kill -INT $TS
wait $NF $TS 2>/dev/null
tshark_flows $T/a.pcap >$T/want
nfdump_flows $T/nf >$T/nfdump
check "tshark sees 100000 flows" [ "$(wc -l <$T/want)" -eq 100000 ]
check "stock nfcapd, default pace: every flow, packets and bytes equal tshark's" \
	same $T/want $T/nfdump
check "nfcapd saw no sequence errors" grep -q 'Sequence Errors: 0' $T/nfcapd.out
tshark -r $T/x.pcap -T fields -e frame.time_epoch 2>/dev/null >$T/times
n=$(wc -l <$T/times)
check "the paced host got the export ($n packets, more than 10 bursts)" \
	[ "$n" -gt $((10 * BURST)) ]
# every run of k+1 packets, for several k past the burst, spans at least
# the time the bucket needs to earn them (4 packets, 2 ms, of slack for
# where tshark stamps them: a sanitizer build under load had 2001 packets
# in 0.9832 s, 0.3 ms short of 2 packets' slack, the whole export paced)
check "pace_pps $RATE: no window holds more than the bucket allows" \
	awk -v r=$RATE -v b=$BURST '{ t[NR] = $1 }
	END { split("33 64 200 1000 2000", ks, " ")
	      for (x in ks) { k = ks[x]
	        for (i = 1; i + k <= NR; i++)
	          if (t[i + k] - t[i] < (k + 1 - b - 4) / r) {
	            printf "%d packets in %.4f s\n", k + 1, t[i + k] - t[i]; exit 1 } } }' $T/times
check "pace_pps $RATE: the whole export took what the pace says" \
	awk -v r=$RATE -v b=$BURST -v n=$n 'NR == 1 { a = $1 } { z = $1 }
	END { exit !(z - a >= (n - b - 2) / r) }' $T/times
finish
