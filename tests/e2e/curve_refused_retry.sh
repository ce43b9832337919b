#!/usr/bin/env bash
# A sampled whose CURVE client key cfgd and exportd refuse at first, then
# authorize while it runs (its .pub copied into authorized/), without a
# restart. libzmq ends a connection refused by the ZAP handler for good
# (no reconnect), so the flows socket to exportd stayed dead while the
# control requests (a new REQ each) got the plan: the flows never came.
# Every endpoint on tcp://127.0.0.1 under CURVE.
#   - once authorized, the flows of the replay reach nfcapd, all of them:
#     packets and bytes per IPv6 5-tuple equal tshark's reading;
#   - sampled counts its reconnects (bus_reconnects on the flows
#     endpoint, from its stats) and logs the refusal once per endpoint;
#   - cfgd and exportd log the refused key once each, not per retry, and
#     say when it is let in.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/exportd_lib.sh"
cd "$ROOT" || exit 1
command -v nfcapd >/dev/null && command -v nfdump >/dev/null || skip "no nfcapd/nfdump"
command -v tshark >/dev/null || skip "no tshark"
watchdog 600


K=$T/keys  # the group's: cfgd, exportd, nsctl
S=$T/slot  # the slot host's: its own client key, the group's server.pub
"$NSCTL" keygen "$K" >/dev/null || fail "keygen $K"
"$NSCTL" keygen "$S" >/dev/null || fail "keygen $S"
cp -p "$K/server.pub" "$S/server.pub"
export NETSTREAMD_CURVE_DIR=$K
prefix=$(head -c 8 "$S/client.pub")
# Z85 has $ and [ among its characters: grep -F, the text from a file
printf 'refused CURVE client %s from\n' "$prefix" >$T/refused.pat
printf 'CURVE client %s let in after \n' "$prefix" >$T/letin.pat

p=$((28000 + $$ % 2000))
for name in CONTROL PLAN FLOWS ACKS STATS_IN STATS; do
	p=$(tcp_port "$p")
	export NETSTREAMD_${name}_ENDPOINT=tcp://127.0.0.1:$p
	eval "PORT_$name=$p"
	p=$((p + 1))
done
NF_PORT=$(free_port)

"$BIN/pcapgen" --flows 200 --packets 6000 --pps 2000 --seed 11 -o $T/a.pcap \
	>/dev/null || fail "pcapgen"
cat >$T/a.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; };
             hosts = ( { address = "127.0.0.1"; port = $NF_PORT; } ); };
  apply_record = "five";
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
slots = ( { id = 1; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; slot = 1;
                 netstream = [ "inbound" ]; } );
stats_interval_ms = 1000;
CONF

start_nfcapd $NF_PORT $T/nf
"$BIN/cfgd" -d "$T/config.db" 2>>"$T/cfgd.log" &
PIDS="$PIDS $!"
wait_for "listening $PORT_CONTROL" || fail "cfgd did not listen"
"$NSCTL" commit -c $T/a.conf -m replay >/dev/null 2>&1 || fail "commit"
"$BIN/exportd" 2>>"$T/exportd.log" &
PIDS="$PIDS $!"
wait_for "listening $PORT_FLOWS" || fail "exportd did not listen"

NETSTREAMD_DEBUG=1 NETSTREAMD_CURVE_DIR=$S "$BIN/sampled" --slot 1 2>>"$T/sampled.log" &
SD=$!
PIDS="$PIDS $SD"
check "cfgd refuses the slot's key" \
	wait_for "grep -qFf $T/refused.pat $T/cfgd.log" 100
check "exportd refuses the slot's key" \
	wait_for "grep -qFf $T/refused.pat $T/exportd.log" 100
# several retries refused (REQ: a new one per request, ~every second)
sleep 5
check "sampled replayed nothing while refused" \
	sh -c "! grep -q 'capture .*packets' $T/sampled.log"

cp "$S/client.pub" "$K/authorized/slot.pub"
check "sampled replays its capture once let in" \
	wait_for "grep -q 'capture GigabitEthernet1/0/0 .*packets' $T/sampled.log" 200
# the final batch (sent at the capture's end) reaches exportd: once the
# flows socket is connected again (within 30 s of the key being let in)
check "exportd receives sampled's final batch" \
	wait_for '[ "$(xd_counter finals 2>/dev/null)" -ge 1 ] 2>/dev/null' 300
exportd_sent || fail "exportd still has packets in flight"
stop_nfcapd $NF_PORT
tshark_flows $T/a.pcap >$T/want
nfdump_flows $T/nf >$T/nfdump
check "tshark sees 200 flows" [ "$(wc -l <$T/want)" -eq 200 ]
check "nfdump: packets and bytes per 5-tuple equal tshark's" same $T/want $T/nfdump
sd=$(timeout 10 "$NSCTL" stats --json -n 6 -t 5000 2>/dev/null |
	grep '"process":"sampled"' | tail -1 |
	grep -o "{\"name\":\"bus_reconnects\",\"value\":[0-9]*[^}]*$PORT_FLOWS[^}]*}" |
	sed 's/.*"value":\([0-9]*\).*/\1/')
check "sampled counts its reconnects of the flows socket (${sd:-none})" \
	[ "${sd:-0}" -ge 1 ]

n_cfgd=$(grep -cFf $T/refused.pat $T/cfgd.log)
n_xd=$(grep -cFf $T/refused.pat $T/exportd.log)
check "cfgd logs the refused key once ($n_cfgd)" [ "$n_cfgd" = 1 ]
check "exportd logs the refused key once ($n_xd)" [ "$n_xd" = 1 ]
check "cfgd says when the key is let in" \
	grep -qFf $T/letin.pat $T/cfgd.log
check "exportd says when the key is let in" \
	grep -qFf $T/letin.pat $T/exportd.log
nf=$(grep -cF "$NETSTREAMD_FLOWS_ENDPOINT: handshake fails" $T/sampled.log)
check "sampled logs the refusal on the flows endpoint once ($nf)" [ "$nf" = 1 ]
finish
