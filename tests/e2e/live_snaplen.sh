#!/usr/bin/env bash
# Frames longer than the live snaplen (192 bytes; issue 23, finding 3),
# in a network namespace of the test's own with a veth pair of MTU 9000,
# sent with tcpreplay into the captured device (inbound) and out of it
# (outbound). Expected values are tshark's reading of the full frames,
# and arithmetic on where the capture cuts them:
# - jumbo frames (8,014 and 6,014 bytes, the second behind hop-by-hop and
#   destination options): counted by the IPv6 length, ports and all;
# - extension header chains the capture cuts: 144 bytes of routing and
#   AH headers (the TCP header at byte 198), 120 bytes (the TCP header at
#   174, its fixed 20 bytes cut at 192), 168 bytes (the last routing
#   header's first bytes beyond 192): counted by the IPv6 length with
#   the addresses, no ports (nothing is guessed), the protocol the last
#   next header the capture shows (TCP for the first two, 43 for the
#   third), and in truncated_headers; none is malformed.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
for tool in tcpreplay tshark python3; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)
watchdog 90

netns_new snap || { fail "ip netns add"; finish; }
netns_veth s || { fail "veth pair"; finish; }
ns ip link set $CAP mtu 9000 || fail "mtu 9000"
ns ip link set $PEER mtu 9000 || fail "mtu 9000"

cat >$T/in.spec <<'EOF'
t=1.0 src=2001:db8:c1::1 dst=2001:db8:d::1 proto=udp sport=1001 dport=2001 len=8000 repeat=5
t=1.1 src=2001:db8:c2::1 dst=2001:db8:d::1 proto=tcp sport=1002 dport=2002 flags=A ext=hop,dst len=6000 repeat=3
t=1.2 src=2001:db8:c3::1 dst=2001:db8:d::1 proto=tcp sport=1003 dport=2003 flags=A ext=rh,ah,rh,ah,rh,ah len=1200 repeat=4
t=1.3 src=2001:db8:c4::1 dst=2001:db8:d::1 proto=tcp sport=1004 dport=2004 flags=A ext=rh,ah,rh,ah,rh len=1200 repeat=2
t=1.4 src=2001:db8:c5::1 dst=2001:db8:d::1 proto=udp sport=1005 dport=2005 ext=rh,ah,rh,ah,rh,ah,rh len=1400 repeat=3
EOF
sed 's/2001:db8:c/2001:db8:e/' $T/in.spec >$T/out.spec
"$BIN/pcapgen" -s $T/in.spec -o $T/in.pcap >/dev/null || fail "pcapgen in"
"$BIN/pcapgen" -s $T/out.spec -o $T/out.pcap >/dev/null || fail "pcapgen out"

P=$((20000 + RANDOM % 20000))
cat >$T/snap.conf <<CONF
system = {
  export = { hosts = ( { address = "::1"; port = $P; } ); };
  apply_record = "r";
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port", "direction" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "$CAP"; buffer_kb = 16384;
    netstream = [ "inbound", "outbound" ]; } );
CONF
ns_group_up $T/snap.conf 'slot 1: running generation 1: 2 bindings, 1 captures' ||
	{ fail "sampled did not open $CAP: $(tail -2 $T/up.log)"; finish; }
sleep 0.5
ns tcpreplay -q -i "$PEER" $T/in.pcap >$T/replay_in.log 2>&1 ||
	fail "tcpreplay in.pcap into $PEER: $(tail -1 $T/replay_in.log)"
ns tcpreplay -q -i "$CAP" $T/out.pcap >$T/replay_out.log 2>&1 ||
	fail "tcpreplay out.pcap out of $CAP: $(tail -1 $T/replay_out.log)"
sleep 1.5
timeout 5 "$NSCTL" stats --json -n 6 2>/dev/null | $PY -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    if d.get("process") == "sampled":
        c = {}
        for x in d["counters"]:
            c[x["name"]] = c.get(x["name"], 0) + x["value"]
        print(c.get("truncated_headers", "none"), c.get("packets_malformed", "none"))
        break' >$T/stats
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
sleep 0.5
kill -TERM $COL
wait $COL 2>/dev/null

# tshark's reading of the full frames; then where the capture cuts them:
# c3/e3, c4/e4 lose their ports, c5/e5 its ports and upper protocol (the
# capture ends inside the routing header after 168 bytes of chain: its
# type, 43, is the last next header it shows)
for d in in out; do
	tshark_flows $T/$d.pcap | awk '{
		if ($1 ~ /:c[345]::|:e[345]::/) { $4 = 0; $5 = 0 }
		if ($1 ~ /:c5::|:e5::/) $3 = 43
		print }' | sort >$T/want_$d
done
check "tshark reads 5 flows each way" \
	[ "$(cat $T/want_in $T/want_out | wc -l)" -eq 10 ]
grep ' direction=0 ' $T/collect.txt >$T/sel_in
grep ' direction=1 ' $T/collect.txt >$T/sel_out
collect_flows $T/sel_in >$T/got_in
collect_flows $T/sel_out >$T/got_out
check "inbound: jumbo frames by their IPv6 length; cut chains with the addresses, no ports" \
	same $T/want_in $T/got_in
check "outbound: the same" same $T/want_out $T/got_out
# 4 + 2 + 3 packets each way were cut
check "truncated_headers 18, packets_malformed 0 ($(cat $T/stats))" \
	[ "$(cat $T/stats)" = "18 0" ]
kill $WATCHDOG 2>/dev/null
finish
