#!/usr/bin/env bash
# Slots on other hosts: is each one there? (issue 25, finding 5). Every
# endpoint on tcp://127.0.0.1 under CURVE, two slots.
# - A slot whose server.pub is not the server's: its handshakes fail
#   about 10 times a second; the slot logs it once per endpoint, cfgd
#   logs it once with the client's address, cfgd counts every failure
#   (bus_handshake_failures), and nsctl shows the slot "not connected,
#   never seen" (stats, display slot, JSON, Prometheus, and the note of a
#   display interface that gets no answer).
# - The same slot restarted with the right key: connected, and cfgd says
#   the client passes again.
# - A slot killed: "not connected, last seen T", T between the slot's
#   start and the kill as `date` read them; restarted: connected again.
# - cfgd stopped for a while: a slot logs the lost connection once (not
#   per retry) and when it is back, and counts it (bus_disconnects).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 300


K=$T/keys  # the group's keys
O=$T/other # another group's
W=$T/wrong # a slot host given the other group's server.pub
"$NSCTL" keygen "$K" >/dev/null || fail "keygen $K"
"$NSCTL" keygen "$O" >/dev/null || fail "keygen $O"
mkdir -m 700 "$W"
cp -p "$K/server.key" "$K/client.key" "$K/client.pub" "$W/"
cp -pr "$K/authorized" "$W/" # sampled binds its query socket too
cp -p "$O/server.pub" "$W/server.pub"
export NETSTREAMD_CURVE_DIR=$K

# eight endpoints, each on a port of its own
p=$((30000 + $$ % 2000))
for name in CONTROL PLAN FLOWS ACKS STATS_IN STATS SLOT_1 SLOT_2; do
	p=$(tcp_port "$p")
	export NETSTREAMD_${name}_ENDPOINT=tcp://127.0.0.1:$p
	eval "PORT_$name=$p"
	p=$((p + 1))
done
SI=$NETSTREAMD_STATS_IN_ENDPOINT

cat >$T/a.conf <<CONF
system = { export = { source = { address = "127.0.0.1"; };
                      hosts = ( { address = "127.0.0.1"; port = 9; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address" ];
              collect = [ "packets" ]; } );
slots = ( { id = 1; }, { id = 2; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "nsmissing1"; slot = 1;
    netstream = [ "inbound" ]; },
  { name = "GigabitEthernet2/0/0"; device = "nsmissing2"; slot = 2;
    netstream = [ "inbound" ]; } );
stats_interval_ms = 1000;
CONF

"$BIN/cfgd" -d "$T/config.db" 2>>"$T/cfgd.log" &
CFGD_PID=$!
PIDS="$PIDS $CFGD_PID"
wait_for "listening $PORT_CONTROL" || fail "cfgd did not listen"
"$NSCTL" commit -c $T/a.conf -m two-slots >/dev/null 2>&1 ||
	fail "commit of two slots"
"$BIN/exportd" 2>>"$T/exportd.log" &
PIDS="$PIDS $!"
wait_for "listening $PORT_FLOWS" || fail "exportd did not listen"

# start_slot N DIR LOG: sampled --slot N with the keys of DIR
start_slot() {
	NETSTREAMD_CURVE_DIR=$2 "$BIN/sampled" --slot "$1" 2>>"$T/$3" &
	eval "SLOT_$1=$!"
	PIDS="$PIDS $!"
}

# cfgd_sample: cfgd's latest stats sample (JSON), from the proxy
cfgd_sample() {
	timeout 10 "$NSCTL" stats --json -n 6 -t 5000 2>/dev/null |
		grep '"process":"cfgd"' | tail -1
}
# counter SAMPLE NAME LABELS...: the value of the counter with those
# labels ("key":"value" each) in a JSON sample
counter() {
	local s=$1 name=$2
	shift 2
	grep -o "{\"name\":\"$name\",\"value\":[0-9]*[^}]*}" <<<"$s" |
		{
			local l
			l=$(cat)
			for k in "$@"; do l=$(grep -F "$k" <<<"$l"); done
			head -1 <<<"$l"
		} | sed 's/.*"value":\([0-9]*\).*/\1/'
}
# state N: the state `nsctl display slot N --json` gives slot N
state() {
	timeout 15 "$NSCTL" display slot "$1" --json 2>/dev/null |
		grep -o '"state":"[a-z ]*"' | sed 's/.*:"\(.*\)"/\1/'
}
last_seen() {
	timeout 15 "$NSCTL" display slot "$1" --json 2>/dev/null |
		grep -o '"last_seen_seconds":[0-9]*' | sed 's/.*://'
}

# --- a slot with the wrong server key, beside a good one ---
T1=$(date +%s)
start_slot 1 "$K" sampled-1.log
start_slot 2 "$W" sampled-2.log
check "the good slot shows connected" wait_for '[ "$(state 1)" = connected ]' 100
# the wrong slot retries about every 100 ms: let it fail 20 times or more
check "cfgd counts 20 failed handshakes on $SI or more" \
	wait_for 's=$(cfgd_sample); v=$(counter "$s" bus_handshake_failures "\"endpoint\":\"$SI\"" "\"reason\":\"protocol\""); [ "${v:-0}" -ge 20 ]' 100
n1=$(counter "$(cfgd_sample)" bus_handshake_failures "\"endpoint\":\"$SI\"" '"reason":"protocol"')
sleep 2
n2=$(counter "$(cfgd_sample)" bus_handshake_failures "\"endpoint\":\"$SI\"" '"reason":"protocol"')
check "the count goes on with every retry ($n1, 2 s later $n2)" \
	[ "${n2:-0}" -gt "${n1:-0}" ]
check "the wrong slot logs its handshake to $SI failing" \
	grep -qF "sampled[2]: $SI: handshake fails: the server closed the connection during the CURVE handshake" "$T/sampled-2.log"
check "... and names server.pub as a cause" \
	grep -qF "a server.pub that is not the server's public key" "$T/sampled-2.log"
c=$(grep -cF "$SI: handshake fails" "$T/sampled-2.log")
check "... once, not per retry ($c lines for $n2 failures)" [ "$c" = 1 ]
check "cfgd logs the failing client with its address" \
	grep -qF "cfgd: $SI: a client from 127.0.0.1 fails its handshake: protocol error 0x11000001, a cryptographic error" "$T/cfgd.log"
c=$(grep -cF "$SI: a client from 127.0.0.1 fails" "$T/cfgd.log")
check "... once, not per retry ($c lines for $n2 failures)" [ "$c" = 1 ]

out=$(timeout 15 "$NSCTL" stats 2>&1)
check "nsctl stats: slot 1 connected" \
	grep -qE '^1 +connected, last seen ' <<<"$out"
check "nsctl stats: slot 2 not connected, never seen" \
	grep -qE '^2 +not connected, never seen$' <<<"$out"
check "nsctl stats: cfgd's handshake failures in the table" \
	grep -qF "bus_handshake_failures{endpoint=$SI,reason=protocol}" <<<"$out"
out=$(timeout 15 "$NSCTL" display slot 2>&1)
check "display slot: slot 2 not connected, never seen" \
	grep -qE '^2 +not connected, never seen$' <<<"$out"
out=$(timeout 15 "$NSCTL" display slot 2 --json 2>&1)
check "display slot 2 --json" [ "$out" = \
	'[{"slot":2,"state":"not connected","connected":false,"last_seen":null,"last_seen_seconds":null}]' ]
out=$(timeout 15 "$NSCTL" stats --prometheus 2>&1)
check "prometheus: slot 1 connected" \
	grep -qx 'netstreamd_cfgd_slot_connected{slot="1"} 1' <<<"$out"
check "prometheus: slot 2 not connected" \
	grep -qx 'netstreamd_cfgd_slot_connected{slot="2"} 0' <<<"$out"
check "prometheus: slot 2 never seen" \
	grep -qx 'netstreamd_cfgd_slot_last_seen_seconds{slot="2"} 0' <<<"$out"
# its query socket is bound with this group's key: it answers, without
# a plan, so without the interface
out=$(timeout 30 "$NSCTL" display interface GigabitEthernet2/0/0 2>&1)
check "display interface of slot 2: no word of it, and why: not connected" \
	grep -qxF " Capture: - (no word of it from sampled slot 2; slot 2: not connected, never seen)" <<<"$out"

# --- the same slot with the right key ---
kill -9 "$SLOT_2"
wait "$SLOT_2" 2>/dev/null
start_slot 2 "$K" sampled-2b.log
check "slot 2 with the right key: connected" \
	wait_for '[ "$(state 2)" = connected ]' 100
check "cfgd says the client from 127.0.0.1 no longer fails, 3 s later" \
	wait_for 'grep -qE "cfgd: $SI: the client from 127.0.0.1 no longer fails its handshake \([0-9]+ failures in [0-9.]+ s, then none for 3 s\)" "$T/cfgd.log"' 100
check "the slot with the right key logs no failed handshake" \
	sh -c "! grep -F 'handshake fails' '$T/sampled-2b.log' | grep -vF '$NETSTREAMD_ACKS_ENDPOINT' | grep -q ."

# --- a slot killed, then started again ---
check "slot 1 connected before the kill" [ "$(state 1)" = connected ]
TK0=$(date +%s)
kill -9 "$SLOT_1"
wait "$SLOT_1" 2>/dev/null
TK=$(date +%s)
check "slot 1 killed: not connected" \
	wait_for '[ "$(state 1)" = "not connected" ]' 100
ls1=$(last_seen 1)
check "last seen $ls1 between the slot's start $T1 and the kill $TK" \
	[ "${ls1:-0}" -ge "$T1" ] && [ "${ls1:-0}" -le "$TK" ]
check "... and no more than 5 s before the kill ($TK0)" \
	[ "${ls1:-0}" -ge $((TK0 - 5)) ]
when=$(date -u -d "@$ls1" +%Y-%m-%dT%H:%M:%SZ)
out=$(timeout 15 "$NSCTL" stats 2>&1)
check "nsctl stats: slot 1 not connected, last seen $when" \
	grep -qE "^1 +not connected, last seen $when \([0-9]+ s before\)$" <<<"$out"
out=$(NETSTREAMD_TIMEOUT_MS=1000 timeout 30 "$NSCTL" display interface GigabitEthernet1/0/0 2>&1)
check "display interface of slot 1: no answer, slot 1 not connected, last seen $when" \
	grep -qE "^ Capture: - \(no answer from sampled slot 1; slot 1: not connected, last seen $when \([0-9]+ s before\)\)$" <<<"$out"
check "... and nsctl's note on stderr says it too" \
	grep -qE "^nsctl: slot 1: not connected, last seen $when" <<<"$out"
check "cfgd logs slot 1 not connected, with when it was last seen" \
	grep -qE "cfgd: slot 1: not connected: no stats for [0-9]+ ms \(last seen $when\)" "$T/cfgd.log"
start_slot 1 "$K" sampled-1.log
check "slot 1 restarted: connected again" \
	wait_for '[ "$(state 1)" = connected ]' 100
check "cfgd logs slot 1 connected twice (start, restart)" \
	[ "$(grep -c 'cfgd: slot 1: connected' "$T/cfgd.log")" = 2 ]

# --- cfgd away for 3 s: the slot logs it once, and its return ---
kill "$CFGD_PID"
wait "$CFGD_PID" 2>/dev/null
sleep 3
"$BIN/cfgd" -d "$T/config.db" 2>>"$T/cfgd.log" &
CFGD_PID=$!
PIDS="$PIDS $CFGD_PID"
check "slot 1 connected after cfgd's restart" \
	wait_for '[ "$(state 1)" = connected ]' 100
c=$(grep -cF "sampled[1]: $SI: disconnected; reconnecting" "$T/sampled-1.log")
check "slot 1 logs the lost connection to $SI once ($c)" [ "$c" = 1 ]
check "... and its return" \
	grep -qE "sampled\[1\]: $SI: connected again after [0-9.]+ s" "$T/sampled-1.log"
s=$(timeout 10 "$NSCTL" stats --json --slot 1 -n 1 -t 5000 2>/dev/null)
v=$(counter "$s" bus_disconnects "\"endpoint\":\"$SI\"")
check "slot 1 counts the disconnection ($v)" [ "${v:-0}" -ge 1 ]

for pid in $SLOT_1 $SLOT_2; do kill "$pid"; done
finish
