#!/usr/bin/env bash
# A sender that never heard the exportd that died (issue 25, finding 2):
# its acks did not reach the sampled (here: that exportd published them
# on another endpoint; in the field: acks blocked as over tcp:// before,
# a subscription that joined late). Every endpoint on tcp:// under CURVE.
# The replay ends with every batch held; exportd is killed (-9) and a
# new one, on the endpoint the sampled listens to, takes up from the
# state file. The sampled has nothing new to push, so the new exportd
# must acknowledge the slot from its state file alone, and the two must
# agree without the sampled being restarted (on main: never). Checked
# against tshark's reading of the capture.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 150
command -v nfcapd >/dev/null || skip "no nfcapd"
command -v tshark >/dev/null || skip "no tshark"
bus_tcp || fail "bus_tcp"
ACKS=$NETSTREAMD_ACKS_ENDPOINT
UNHEARD=tcp://127.0.0.1:$(tcp_port $((${ACKS##*:} + 100)))
P=$((20000 + RANDOM % 10000))
"$BIN/pcapgen" --flows 5000 --packets 30000 --pps 5000 --seed 25 \
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
"$BIN/cfgd" -d $T/config.db 2>>$T/cfgd.log &
PIDS="$PIDS $!"
wait_for "grep -q 'cfgd: serving' $T/cfgd.log" || fail "cfgd did not start"
"$NSCTL" commit -c $T/a.conf -m unheard >/dev/null 2>&1 || fail "commit"
xd() { # xd ACKS-ENDPOINT: an exportd publishing its acks there
	NETSTREAMD_ACKS_ENDPOINT=$1 "$BIN/exportd" 2>>$T/exportd.log &
	XD=$!
	PIDS="$PIDS $XD"
}
xd $UNHEARD
"$BIN/sampled" --slot 1 2>>$T/sampled.log &
SD=$!
PIDS="$PIDS $SD"
sd_stats() {
	timeout 5 "$NSCTL" stats --json -n 4 2>/dev/null |
		grep '"process":"sampled"' | tail -1 | python3 -c '
import json, sys
for line in sys.stdin:
    for c in json.loads(line)["counters"]:
        if len(c) == 2:
            print(c["name"], c["value"])'
}
stat() { sd_stats | awk -v k="$1" '$1 == k { print $2 }'; }
check "the first exportd takes batches, its acks unheard" \
	wait_for '[ "$(stat batches_pushed)" -ge 5 ] 2>/dev/null' 100
check "the capture ends, with every batch still held" \
	wait_for '[ "$(stat captures_done)" = 1 ]' 200
sd_stats >$T/st
check "... none acknowledged to the sampled" \
	[ "$(awk '$1 == "batches_unacked" { print $2 }' $T/st)" = "$(awk '$1 == "batches_pushed" { print $2 }' $T/st)" ]
# the sampled has nothing new to push: only the new exportd's acks can
# tell it what to push again, and it never heard an exportd before
kill -9 $XD
xd $ACKS
check "exportd killed (-9); the next one acknowledges every batch" \
	wait_for '[ "$(stat batches_unacked)" = 0 ]' 150
check "the sampled was never restarted" kill -0 $SD
check "the new exportd acknowledged the slot from its state file" \
	grep -q 'slot 1: expecting batch [0-9]* of sender' $T/exportd.log
kill $SD
wait $SD
check "sampled exits 0" [ $? -eq 0 ]
sleep 1
kill $XD
wait $XD 2>/dev/null
stop_nfcapd $P
tshark_flows $T/a.pcap >$T/want
nfdump_flows $T/nf >$T/got
check "tshark sees 30000 packets" \
	[ "$(awk '{n += $6} END {print n}' $T/want)" -eq 30000 ]
check "nfdump: packets and bytes per 5-tuple equal tshark's (none lost, none twice)" \
	same $T/want $T/got
check "nfcapd saw no sequence errors across the restarts" \
	grep -q 'Sequence Errors: 0' $T/nfcapd-$P.out
finish
