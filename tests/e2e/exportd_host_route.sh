#!/usr/bin/env bash
# A host the kernel has no route to (issue 22, finding 2, the report's
# EHOSTUNREACH): in a network namespace of the test's own, exportd sends
# to 127.0.0.1 (nfcapd) and to 192.0.2.1, whose prefix has an
# `unreachable` route, so every send to it fails at once. That host is
# failing with EHOSTUNREACH, nothing sent, its 1000 records failed, one
# log line; the other has exactly its 1000 records. Then the route is
# changed (192.0.2.1 becomes a local address with nfcapd on it) and 500
# more flows go out: the host is ok again, one log line, 500 records
# sent and received, its failed counts as they were.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/exportd_lib.sh"
cd "$ROOT" || exit 1
watchdog 90
command -v nfcapd >/dev/null || skip "nfcapd is not installed"
netns_new xroute || { fail "ip netns add"; finish; }
ns ip route add unreachable 192.0.2.0/24 || fail "unreachable route"
P1=$((20000 + RANDOM % 20000))
P2=$((P1 + 1))
H1="[127.0.0.1]:$P1"
H2="[192.0.2.1]:$P2"
R2="\\[192\\.0\\.2\\.1\\]:$P2"
nfcapd_ns() { # ADDR PORT DIR
	mkdir -p "$3"
	ip netns exec "$NS" nfcapd -p "$2" -b "$1" -w "$3" -t 3600 -B 4194304 \
		>>$T/nfcapd-$2.out 2>&1 &
	eval "NFCAPD_$2=$!"
	PIDS="$PIDS $!"
	wait_for "ns ss -uln | grep -q '$1:$2 '" || fail "nfcapd on $1:$2 did not start"
}
start_cfgd
rm -f "$NETSTREAMD_RUN_DIR/flows"
ip netns exec "$NS" "$BIN/exportd" 2>>"$T/exportd.log" &
XD_PID=$!
PIDS="$PIDS $XD_PID"
wait_for "[ -S $NETSTREAMD_RUN_DIR/flows ]" || fail "exportd did not start"
nfcapd_ns 127.0.0.1 $P1 $T/nf1
timeout 30 "$FLOWGEN" -n 1000 -b 100 --slot 1 --final \
	-H 127.0.0.1:$P1,192.0.2.1:$P2 >/dev/null
check "exportd exported the final batch of slot 1" wait_finals 1 1
sleep 0.3
stop_nfcapd $P1
check "stats: no export packet in flight any more" wait_sent
check "nfcapd got the 1000 flows" [ "$(nf_stat $T/nf1 Flows)" = 1000 ]
pk1=$(xd_counter packets "host=$H1")
check "stats: good host: 1000 records, nothing failed, ok" \
	[ "$(xd_counter records "host=$H1") $(xd_counter failed_records "host=$H1") $(xd_counter host_failing "host=$H1")" = "1000 0 0" ]
check "stats: unreachable host: 0 packets, 0 records sent" \
	[ "$(xd_counter packets "host=$H2") $(xd_counter records "host=$H2")" = "0 0" ]
check "stats: unreachable host: $pk1 packets and 1000 records failed" \
	[ "$(xd_counter failed_packets "host=$H2") $(xd_counter failed_records "host=$H2")" = "$pk1 1000" ]
check "stats: unreachable host failing with EHOSTUNREACH" \
	[ "$(xd_counter host_failing "host=$H2 error=EHOSTUNREACH")" = 1 ]
check "log: one line says it fails, with EHOSTUNREACH" \
	[ "$(grep -c "$R2.*failing.*EHOSTUNREACH" $T/exportd.log)" = 1 ]

# the route changes: 192.0.2.1 is reached, a collector listens there
ns ip route del unreachable 192.0.2.0/24 || fail "route del"
ns ip addr add 192.0.2.1/32 dev lo || fail "addr add"
nfcapd_ns 192.0.2.1 $P2 $T/nf2
timeout 30 "$FLOWGEN" -n 500 -b 50 --rate 20 --slot 2 --final \
	-H 192.0.2.1:$P2 >/dev/null
check "exportd exported the final batch of slot 2" wait_finals 2 1
check "the host is ok again" \
	wait_for '[ "$(xd_counter host_failing "host=$H2" 2>/dev/null)" = 0 ]' 150
check "stats: no export packet in flight any more" wait_sent
stop_nfcapd $P2
check "nfcapd on 192.0.2.1 got the 500 flows" [ "$(nf_stat $T/nf2 Flows)" = 500 ]
check "stats: 500 records sent, 1000 failed as before" \
	[ "$(xd_counter records "host=$H2") $(xd_counter failed_records "host=$H2")" = "500 1000" ]
check "log: one line says it is ok again" [ "$(grep -c "$R2.*ok again" $T/exportd.log)" = 1 ]
check "log: still one line about failing" [ "$(grep -c "$R2.*failing" $T/exportd.log)" = 1 ]
finish
