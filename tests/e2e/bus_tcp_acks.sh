#!/usr/bin/env bash
# exportd's acknowledgements over tcp:// under CURVE (issue 25): every
# endpoint of the group on tcp://127.0.0.1 with one key directory, a
# 12000-packet replay under `nsctl run`. The acks must reach sampled
# through the CURVE handshake (its INITIATE is larger than a subscription):
# sampled ends with no batch unacknowledged, the run says nothing was lost,
# and nfcapd's flows equal tshark's reading of the capture.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 150
command -v nfcapd >/dev/null || skip "no nfcapd"
command -v tshark >/dev/null || skip "no tshark"
bus_tcp || fail "bus_tcp: no keys"
P=$((20000 + RANDOM % 10000))
"$BIN/pcapgen" --flows 3000 --packets 12000 --pps 6000 --seed 25 \
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
  collect = [ "packets", "bytes", "first-switched", "last-switched" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 replay = "realtime"; netstream = [ "inbound" ]; } );
CONF
start_nfcapd $P $T/nf

# the hand-over wait bounds the run when acks never come
NETSTREAMD_HANDOVER_WAIT_MS=8000 "$NSCTL" run -c $T/a.conf >$T/run.out \
	2>$T/run.log &
RUN=$!
PIDS="$PIDS $RUN"
# while it runs: the acks endpoint is exportd's, on tcp://
ap=${NETSTREAMD_ACKS_ENDPOINT##*:}
check "exportd listens for senders' acks subscriptions on tcp port $ap" \
	wait_for "ss -Hltn 'sport = :$ap' | grep -q ." 100
wait $RUN
rc=$?
check "nsctl run exits 0 over tcp:// ($(tail -1 $T/run.out))" [ $rc -eq 0 ]
check "nsctl run: every flow was exported" \
	grep -q 'every flow was exported' $T/run.out
check "sampled: no batch left unacknowledged (batches_unacked 0 at the end)" \
	sh -c "! grep -E 'did not acknowledge|acknowledged none of' $T/run.log"
sleep 0.5
stop_nfcapd $P
tshark_flows $T/a.pcap >$T/want
nfdump_flows $T/nf >$T/got
check "tshark sees 3000 flows" [ "$(wc -l <$T/want)" -eq 3000 ]
check "nfdump: packets and bytes per 5-tuple equal tshark's (none lost)" \
	same $T/want $T/got
check "tshark: 12000 packets in all" \
	[ "$(awk '{n += $6} END {print n}' $T/want)" -eq 12000 ]
finish
