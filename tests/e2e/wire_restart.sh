#!/usr/bin/env bash
# Sequence numbers across exportd restarts, read by tshark: a real-time
# replay under `nsctl run` to a v9 host and an IPFIX host (compat
# extended) from a fixed source port; exportd is killed (-9) twice and
# restarted by the group. On tshark's decode of the captured export, per
# (host, domain): v9 Sequence = export packets before it, from 0, and
# IPFIX Sequence = data records before it, from 0, with no gap and no
# repeat across the restarts; and the flows equal tshark's reading of the capture with the
# rules applied (tests/pcap/oracle.py): none lost, none twice.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/tshark_lib.sh"
cd "$ROOT" || exit 1
watchdog 240
P9=$((20000 + RANDOM % 10000))
PX=$((P9 + 1))
SP=$((P9 + 2))
# 4 s of capture at 3000 packets/s over 4000 flows, into a cache of 1024:
# flows are evicted all through the replay, so batches leave all the time
"$BIN/pcapgen" --flows 4000 --packets 12000 --pps 3000 --seed 5 \
	-o $T/a.pcap >/dev/null || fail "pcapgen"
cat >$T/a.conf <<CONF
system = {
  export = { version = "9"; compat = "extended";
             source = { address = "127.0.0.1"; port = $SP; };
             hosts = ( { address = "127.0.0.1"; port = $P9; },
                       { address = "127.0.0.1"; port = $PX; version = "ipfix"; } ); };
  apply_record = "five";
};
cache = { entries = 1024; full = "evict-oldest"; };
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched",
              "flow-end-reason" ]; } );
interfaces = ( { name = "GigabitEthernet3/0/0"; file = "$T/a.pcap";
                 replay = "realtime"; netstream = [ "inbound" ]; } );
CONF
oracle expect $T/a.conf >$T/want || fail "oracle"
"$NSCTL" collect -p $P9 -b 127.0.0.1 -t 120 >$T/c9.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" collect -p $PX -b 127.0.0.1 -t 120 >$T/cx.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
capture_start $T/x.pcap $P9 $PX
"$NSCTL" run -c $T/a.conf >$T/run.out 2>$T/run.log &
RUN=$!
PIDS="$PIDS $RUN"
kill_exportd() {
	local xd
	wait_for "pgrep -P $RUN -x exportd >/dev/null" 50 || return 1
	xd=$(pgrep -P $RUN -x exportd)
	kill -9 "$xd" && echo "killed exportd $xd"
}
sleep 1.5
check "first exportd killed mid-replay" kill_exportd
sleep 1.2
check "second exportd killed mid-replay" kill_exportd
wait $RUN
check "nsctl run exits 0 (nothing lost)" [ $? -eq 0 ]
capture_stop $T/x.pcap
check "the group restarted exportd twice" \
	[ "$(grep -c 'restarting exportd' $T/run.log)" -eq 2 ]

check "the oracle expects 4000 flows or more" [ "$(wc -l <$T/want)" -ge 4000 ]
for h in "v9 $P9" "IPFIX $PX"; do
	set -- $h
	tshark -r $T/x.pcap -Y "udp.dstport == $2" -w $T/x$2.pcap 2>/dev/null
	oracle wire $T/x$2.pcap $T/a.conf $2 >$T/got$2 || fail "$1: tshark decode"
	check "$1 host: the flows tshark decodes = the oracle's, each once" \
		same $T/want $T/got$2
	# the restarts end the per-packet template rhythm; not its start
	WIRE_LABEL="$1: " wire_check $T/a.conf $T/x$2.pcap $2 --domains='[3]' \
		--exact_refresh=false
done
finish
