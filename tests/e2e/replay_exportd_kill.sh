#!/usr/bin/env bash
# exportd killed (-9) twice in the middle of a real-time replay under
# `nsctl run`, restarted by the group each time: every flow still reaches
# nfcapd exactly once. sampled holds each batch until exportd acknowledges
# it and pushes again what it holds when a new exportd answers; exportd
# remembers in the run directory how far each host's rows were sent, so it
# neither loses nor repeats them. Checked per 5-tuple against tshark's
# count of the capture, and by nfcapd's sequence check. With NS_BUS=tcp
# (replay_exportd_kill_tcp.sh), every endpoint is on tcp:// under CURVE.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
bus_from_env
P=$((20000 + RANDOM % 10000))
# 5 s of capture at 8000 packets/s over 8000 flows, into a cache of 1024:
# flows are evicted all through the replay, so batches leave all the time
"$BIN/pcapgen" --flows 8000 --packets 40000 --pps 8000 --seed 11 \
	-o $T/a.pcap >/dev/null || fail "pcapgen"
cat >$T/a.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; };
             hosts = ( { address = "127.0.0.1"; port = $P; } ); };
  apply_record = "five";
};
cache = { entries = 1024; full = "evict-oldest"; };
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
# kill_exportd: the group's current exportd, once it has exported some
kill_exportd() {
	local xd
	wait_for "pgrep -P $RUN -x exportd >/dev/null" 50 || return 1
	xd=$(pgrep -P $RUN -x exportd)
	kill -9 "$xd" && echo "killed exportd $xd"
}
sleep 1.8
check "first exportd killed mid-replay" kill_exportd
sleep 1.5
check "second exportd killed mid-replay" kill_exportd
wait $RUN
check "nsctl run exits 0 (nothing lost)" [ $? -eq 0 ]
sleep 0.5
stop_nfcapd $P

check "the group restarted exportd twice" \
	[ "$(grep -c 'restarting exportd' $T/run.log)" -eq 2 ]
check "sampled pushed again what the killed exportds had not sent" \
	grep -q 'exportd restarted: pushing again' $T/run.log
tshark_flows $T/a.pcap >$T/want
nfdump_flows $T/nf >$T/got
check "tshark sees 8000 flows" [ "$(wc -l <$T/want)" -eq 8000 ]
check "nfdump: packets and bytes per 5-tuple equal tshark's (none lost, none twice)" \
	same $T/want $T/got
check "nfcapd saw no sequence errors across the restarts" \
	grep -q 'Sequence Errors: 0' $T/nfcapd-$P.out
finish
