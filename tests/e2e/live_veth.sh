#!/usr/bin/env bash
# Live capture on a real device (issue 7): a network namespace of its own
# with a veth pair, the whole group (`nsctl up`) and its collector inside
# it. Generated captures are put on the wire with tcpreplay: a.pcap
# into the peer end, so it arrives on the captured device (inbound), and
# b.pcap out of the captured device itself (outbound). Exported packets and
# bytes per 5-tuple and direction equal tshark's count of each capture
# exactly; the interface fields say which side the device was on. A second
# interface on the peer end sees the same traffic the other way round.
# A third device, slot 2's, does not exist when the group starts: its
# sampled keeps running, opens it when it comes (live_hotplug.sh checks
# that without a commit), a commit then gives its flows the device's own
# ifindex, and c.pcap replayed into its peer is counted exactly too.
# Nothing is sent outside the namespace; it is deleted on exit.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
CAP=nsv$$c # captured end (IFNAMSIZ: at most 15 characters)
PEER=nsv$$p
watchdog 50

netns_new live || { fail "ip netns add"; finish; }
ns ip link add "$CAP" address 02:00:00:00:aa:01 type veth \
	peer name "$PEER" address 02:00:00:00:aa:02 || { fail "veth pair"; finish; }
ns ip -6 addr add 2001:db8:aa::1/64 dev "$CAP" nodad
ns ip -6 addr add 2001:db8:aa::2/64 dev "$PEER" nodad
ns ip link set "$CAP" up
ns ip link set "$PEER" up
IFX_CAP=$(ns cat /sys/class/net/$CAP/ifindex)
IFX_PEER=$(ns cat /sys/class/net/$PEER/ifindex)

# Full frames (snaplen 1514): what tcpreplay sends is what tshark counts.
# Seeds 1 and 2: sources 2001:db8:1::/48 and 2001:db8:2::/48, so the
# kernel's own packets on the link (ND, MLD from fe80::) are told apart.
"$BIN/pcapgen" --flows 60 --packets 3000 --pps 1000 --seed 1 --snaplen 1514 \
	-o $T/a.pcap >/dev/null || fail "pcapgen a"
"$BIN/pcapgen" --flows 40 --packets 2000 --pps 1000 --seed 2 --snaplen 1514 \
	-o $T/b.pcap >/dev/null || fail "pcapgen b"

"$BIN/pcapgen" --flows 30 --packets 1000 --pps 1000 --seed 3 --snaplen 1514 \
	-o $T/c.pcap >/dev/null || fail "pcapgen c"

# Slot 2's device $LATE does not exist when the group starts: its sampled
# must not take the missing device for the end of its captures; the device
# comes, a commit fixes its ifindex, and it is counted like the others.
LATE=nsv$$l
LATEPEER=nsv$$m
P=$((20000 + RANDOM % 20000))
conf() { # conf INACTIVE-SECONDS
	cat <<CONF
system = {
  export = { hosts = ( { address = "::1"; port = $P; } ); };
  apply_record = "r";
  aging = { active_minutes = 30; inactive_seconds = $1; };
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port", "direction" ];
  collect = [ "packets", "bytes", "input-interface", "output-interface",
              "flow-end-reason" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "$CAP"; buffer_kb = 16384;
    netstream = [ "inbound", "outbound" ]; },
  { name = "GigabitEthernet1/0/1"; device = "$PEER"; buffer_kb = 16384;
    netstream = [ "inbound", "outbound" ]; },
  { name = "GigabitEthernet2/0/0"; device = "$LATE"; buffer_kb = 16384;
    netstream = [ "inbound" ]; } );
CONF
}
conf 30 >$T/live.conf
conf 31 >$T/live2.conf
ip netns exec "$NS" "$NSCTL" collect -p $P -b ::1 -t 40 --summary >$T/collect.txt 2>$T/collect.log &
COL=$!
PIDS="$PIDS $COL"
ip netns exec "$NS" "$NSCTL" up -c $T/live.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: running generation 1: 4 bindings, 2 captures' $T/up.log" 100 ||
	fail "sampled 1 did not open its 2 live captures (one per device, both directions)"
wait_for "grep -q 'slot 2: running generation 1: 1 bindings, 0 captures' $T/up.log" 100 ||
	fail "sampled 2 did not start without its device"
sleep 0.3
ns ip link add "$LATE" address 02:00:00:00:aa:03 type veth \
	peer name "$LATEPEER" address 02:00:00:00:aa:04 || fail "late veth pair"
ns ip link set "$LATE" up
ns ip link set "$LATEPEER" up
IFX_LATE=$(ns cat /sys/class/net/$LATE/ifindex)
ip netns exec "$NS" "$NSCTL" commit -c $T/live2.conf -m "$LATE is there" \
	>$T/commit.out 2>&1 || fail "commit"
wait_for "grep -q 'slot 2: running generation 2: 1 bindings, 1 captures' $T/up.log &&
	grep -q 'slot 1: running generation 2: 4 bindings, 2 captures' $T/up.log" 100 ||
	fail "$LATE is not open after the commit"
sleep 0.5 # the handles are open; let the first poll run

# inbound on $CAP (outbound on $PEER), then outbound on $CAP (inbound on $PEER)
ns tcpreplay -q --pps 2000 -i "$PEER" $T/a.pcap >$T/replay_a.log 2>&1 ||
	fail "tcpreplay a.pcap into $PEER"
ns tcpreplay -q --pps 2000 -i "$CAP" $T/b.pcap >$T/replay_b.log 2>&1 ||
	fail "tcpreplay b.pcap out of $CAP"
ns tcpreplay -q --pps 2000 -i "$LATEPEER" $T/c.pcap >$T/replay_c.log 2>&1 ||
	fail "tcpreplay c.pcap into $LATEPEER"
sleep 0.5

kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
sleep 0.5
kill -TERM $COL
wait $COL 2>/dev/null

# per 5-tuple, of the flows of one capture, in one direction, on one device
flows() { # flows SOURCE-PREFIX DIRECTION IN-IFINDEX OUT-IFINDEX
	grep "^data .*source-address=$1" $T/collect.txt |
		grep " direction=$2 " | grep " input-interface=$3 " |
		grep " output-interface=$4 " >$T/sel
	collect_flows $T/sel
}
tshark_flows $T/a.pcap >$T/want_a
tshark_flows $T/b.pcap >$T/want_b
check "tshark sees 60 + 40 flows" \
	[ "$(wc -l <$T/want_a)" -eq 60 -a "$(wc -l <$T/want_b)" -eq 40 ]
flows 2001:db8:1: 0 $IFX_CAP 0 >$T/got_a_in
flows 2001:db8:2: 1 0 $IFX_CAP >$T/got_b_out
flows 2001:db8:1: 1 0 $IFX_PEER >$T/got_a_peer
flows 2001:db8:2: 0 $IFX_PEER 0 >$T/got_b_peer
check "a.pcap inbound on $CAP: packets and bytes per 5-tuple equal tshark's" \
	same $T/want_a $T/got_a_in
check "b.pcap outbound on $CAP: packets and bytes per 5-tuple equal tshark's" \
	same $T/want_b $T/got_b_out
check "a.pcap outbound on $PEER: equal to tshark's" same $T/want_a $T/got_a_peer
check "b.pcap inbound on $PEER: equal to tshark's" same $T/want_b $T/got_b_peer
tshark_flows $T/c.pcap >$T/want_c
flows 2001:db8:3: 0 $IFX_LATE 0 >$T/got_c_late
check "c.pcap inbound on $LATE (missing at start, its ifindex since the commit): equal to tshark's" \
	same $T/want_c $T/got_c_late
check "slot 2 did not take its missing device for the end of its captures" \
	bash -c "! grep -q 'slot 2: captures ended' $T/up.log"
n_abc=$(grep -c '^data .*source-address=2001:db8:[123]:' $T/collect.txt)
check "one record per flow, device and direction, no other (230): $n_abc" \
	[ "$n_abc" -eq 230 ]
check "flows were aged by the stop (flow-end-reason 4, forced)" \
	bash -c "! grep '^data .*source-address=2001:db8:[123]:' $T/collect.txt | grep -qv 'flow-end-reason=4'"
# one summary line per (exporter, observation domain): slots 1 and 2
# export, so two domains, and each of them clean, not just one of them
grep '^summary exporter=' $T/collect.txt | grep -v '^summary exporter=all ' >$T/summaries
check "the collector summarized domains 1 and 2 (slots 1 and 2), no other" \
	[ "$(sed -n 's/.* domain=\([0-9]*\) .*/\1/p' $T/summaries | sort -n | tr '\n' ' ')" = "1 2 " ]
awk '{
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["seq_gaps"] != 0 || v["seq_lost"] != 0 || v["seq_out_of_order"] != 0 ||
	    v["no_template"] != 0 || v["unknown_sets"] != 0 ||
	    v["count_mismatch"] != 0 || v["malformed"] != 0 || v["data_records"] == 0)
		print
}' $T/summaries >$T/summaries_bad
check "every domain: records, no gaps, no unknown templates, nothing malformed" \
	[ -s $T/summaries -a ! -s $T/summaries_bad ]
cat $T/summaries_bad
check "the collector refused no template or source, and nothing malformed overall" \
	grep -q '^summary exporter=all .*templates_refused=0 sources_refused=0 malformed=0' $T/collect.txt
kill $WATCHDOG 2>/dev/null
finish
