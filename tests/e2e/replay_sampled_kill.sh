#!/usr/bin/env bash
# sampled killed (-9) twice in the middle of a real-time replay under
# `nsctl run`, restarted by the group each time (issue 13, item 1): no
# packet is exported twice, and what the dead sampleds had counted and
# never got out is reported as lost, exactly. Each sampled keeps in
# RUN_DIR/sampled-1.state how far the capture was accounted and what it
# handed over; the next one goes on after those packets, and counts
# against exportd's acks what never left. Checked against tshark's
# reading of the capture: per 5-tuple, nfdump never has more packets than
# tshark; in all, tshark's packets = what nfdump has + what the restarted
# sampleds report lost.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 180
export LC_ALL=C # sort and join agree
P=$((20000 + RANDOM % 10000))
# 6.5 s of capture at 20000 packets/s over 8000 flows, into a cache of
# 2048: flows are evicted all through the replay, so batches leave all
# the time, and the cache holds flows when sampled dies
"$BIN/pcapgen" --flows 8000 --packets 130000 --pps 20000 --seed 13 \
	-o $T/a.pcap >/dev/null || fail "pcapgen"
cat >$T/a.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; };
             hosts = ( { address = "127.0.0.1"; port = $P; } ); };
  apply_record = "five";
};
cache = { entries = 2048; full = "evict-oldest"; };
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched",
              "flow-end-reason" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 replay = "realtime"; netstream = [ "inbound" ]; } );
CONF
start_nfcapd $P $T/nf

"$NSCTL" run -c $T/a.conf >$T/run.out 2>$T/run.log &
RUN=$!
PIDS="$PIDS $RUN"
# kill_sampled: the group's current sampled, once it replays
kill_sampled() {
	local sd
	wait_for "pgrep -P $RUN -x sampled >/dev/null" 80 || return 1
	sd=$(pgrep -P $RUN -x sampled)
	kill -9 "$sd" && echo "killed sampled $sd"
}
sleep 2
check "first sampled killed mid-replay" kill_sampled
sleep 2.5
check "second sampled killed mid-replay" kill_sampled
wait $RUN
sleep 0.5
stop_nfcapd $P

check "the group restarted sampled twice" \
	[ "$(grep -c 'sampled slot 1 died: killed by signal 9' $T/run.log)" -eq 2 ]
check "each restarted sampled went on after the packets accounted before" \
	[ "$(grep -c 'going on after packet' $T/run.log)" -eq 2 ]
check "each restarted sampled knew exactly what exportd took (no 'at most')" \
	[ "$(grep -c 'were never exported: lost$' $T/run.log)" -eq 2 ]
tshark_flows $T/a.pcap >$T/want
nfdump_flows $T/nf >$T/got
# per 5-tuple: tshark's packets, nfdump's (0 when none arrived)
join -a 1 -e 0 -o 1.2,2.2 <(awk '{ print $1"|"$2"|"$3"|"$4"|"$5, $6 }' $T/want | sort) \
	<(awk '{ print $1"|"$2"|"$3"|"$4"|"$5, $6 }' $T/got | sort) |
	awk '{ print $1, $2 }' >$T/pairs
join -v 2 <(awk '{ print $1"|"$2"|"$3"|"$4"|"$5 }' $T/want | sort) \
	<(awk '{ print $1"|"$2"|"$3"|"$4"|"$5 }' $T/got | sort) >$T/unknown
check "tshark sees 130000 packets in 8000 flows" \
	[ "$(awk '{ n += $6 } END { print n }' $T/want)" -eq 130000 ] && [ "$(wc -l <$T/want)" -eq 8000 ]
check "nfdump has no 5-tuple tshark does not" [ ! -s $T/unknown ]
check "no 5-tuple has more packets at nfdump than tshark counts (nothing twice)" \
	awk '$2 > $1 { bad++ } END { exit bad > 0 }' $T/pairs
want=$(awk '{ n += $6 } END { print n }' $T/want)
got=$(awk '{ n += $6 } END { print n + 0 }' $T/got)
lost=$(grep 'were never exported' $T/run.log |
	sed -n 's/.* \([0-9]*\) packets in [0-9]* flows were never exported.*/\1/p' |
	awk '{ n += $1 } END { print n + 0 }')
echo "tshark $want packets, nfdump $got, reported lost $lost"
check "tshark's packets = nfdump's + the reported loss ($want = $got + $lost)" \
	[ "$want" -eq $((got + lost)) ]
check "nfcapd saw no sequence errors across the restarts" \
	grep -q 'Sequence Errors: 0' $T/nfcapd-$P.out
finish
