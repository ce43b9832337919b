#!/usr/bin/env bash
# An export host with a VPN instance (issue 7): `vpn_instance = "blue"`
# binds its socket to the VRF device blue (SO_BINDTODEVICE). The test makes
# two network namespaces: in the exporter's, the VRF blue (table 10) with a
# veth enslaved to it, whose peer, in the collector's namespace, carries the
# collector's address; the exporter's main table has no route there. The
# group runs there with `nsctl run` over a small generated capture, with two
# hosts on that address: port 9995 through blue (dscp 10), port 9996
# without a VPN instance. The first collector receives every flow (packets
# and bytes per 5-tuple equal tshark's count of the capture) and tshark on
# the VRF's slave sees the export packets leave from its address with
# traffic class dscp 10; the second host's packets go nowhere (network
# unreachable: no packet on the wire, nothing at its collector). Both
# namespaces are deleted on exit.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
NSX=ns-$$-exp  # exportd, the VRF
NSC=ns-$$-col  # the collectors
XA=vrf$$a      # enslaved to blue, in $NSX
XB=vrf$$b      # its peer, in $NSC
ns_cleanup() {
	# whatever still runs in the namespaces was started by this test
	for p in $(ip netns pids "$NSX" 2>/dev/null) \
	    $(ip netns pids "$NSC" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	cleanup
	ip netns del "$NSX" 2>/dev/null
	ip netns del "$NSC" 2>/dev/null
}
trap ns_cleanup EXIT
watchdog 50


ip netns add "$NSX" && ip netns add "$NSC" || { fail "ip netns add"; finish; }
ip -n "$NSX" link set lo up
ip -n "$NSC" link set lo up
# The VPN instance blue: a VRF device (table 10) with the veth $XA
# enslaved. A kernel without VRF devices (CONFIG_NET_VRF off) gets the
# VRF-lite of before them: the veth end itself is named blue, its prefix is
# only in table 10, and a rule sends lookups of sockets bound to blue
# (oif blue) there. Either way only a socket bound to blue reaches the
# collector; the main table has no route to it.
if ip -n "$NSX" link add blue type vrf table 10 2>/dev/null; then
	MODE=vrf
	ip -n "$NSX" link add "$XA" type veth peer name "$XB" netns "$NSC" &&
		ip -n "$NSX" link set "$XA" master blue || fail "veth in the VRF"
	ip -n "$NSX" link set blue up
else
	MODE=vrf-lite
	XA=blue
	ip -n "$NSX" link add "$XA" type veth peer name "$XB" netns "$NSC" ||
		fail "veth"
	ip -n "$NSX" -6 rule add pref 100 oif blue table 10
fi
echo "VPN instance blue: $MODE (slave $XA)"
ip -n "$NSX" link set "$XA" up
ip -n "$NSX" -6 addr add 2001:db8:bb::1/64 dev "$XA" nodad noprefixroute
ip -n "$NSX" -6 route add 2001:db8:bb::/64 dev "$XA" table 10
ip -n "$NSC" link set "$XB" up
ip -n "$NSC" -6 addr add 2001:db8:bb::2/64 dev "$XB" nodad
check "the collector is not reachable from the main table" \
	bash -c "! ip -n $NSX -6 route get 2001:db8:bb::2 >/dev/null 2>&1"
if [ $MODE = vrf ]; then
	check "... only through the VRF blue" \
		bash -c "ip -n $NSX -6 route get 2001:db8:bb::2 vrf blue | grep -q 'dev $XA'"
else
	check "... only through blue" \
		bash -c "ip -n $NSX -6 route get 2001:db8:bb::2 oif blue | grep -q 'dev blue table 10'"
fi

"$BIN/pcapgen" --flows 50 --packets 1000 --seed 5 -o $T/a.pcap >/dev/null ||
	fail "pcapgen"
cat >$T/vrf.conf <<CONF
system = {
  export = { hosts = (
    { address = "2001:db8:bb::2"; port = 9995; vpn_instance = "blue"; dscp = 10; },
    { address = "2001:db8:bb::2"; port = 9996; } ); };
  apply_record = "r";
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 netstream = [ "inbound" ]; } );
CONF

ip netns exec "$NSC" "$NSCTL" collect -p 9995 -b 2001:db8:bb::2 -t 30 --summary \
	>$T/c1.txt 2>$T/collect1.log &
C1=$!
ip netns exec "$NSC" "$NSCTL" collect -p 9996 -b 2001:db8:bb::2 -t 30 --summary \
	>$T/c2.txt 2>$T/collect2.log &
C2=$!
# the VRF's slave, in the exporter's namespace: what leaves through blue
ip netns exec "$NSX" tshark -n -i "$XA" -w $T/wire.pcapng -f udp \
	>$T/tshark.out 2>$T/tshark.err &
TS=$!
PIDS="$PIDS $C1 $C2 $TS"
wait_for "grep -q 'listening' $T/collect1.log && grep -q 'listening' $T/collect2.log" ||
	fail "collectors did not start"
wait_for "grep -q 'Capturing on' $T/tshark.err" 100 || fail "tshark did not start"

ip netns exec "$NSX" "$NSCTL" run -c $T/vrf.conf >$T/run.out 2>$T/run.log
echo "nsctl run: exit $?" >>$T/run.out
sleep 0.5
kill -TERM $C1 $C2 $TS
wait $C1 $C2 $TS 2>/dev/null

tshark_flows $T/a.pcap >$T/want
collect_flows $T/c1.txt >$T/got
check "tshark sees 50 flows" [ "$(wc -l <$T/want)" -eq 50 ]
check "through blue ($MODE): packets and bytes per 5-tuple equal tshark's" \
	same $T/want $T/got
check "... no gaps, no unknown templates, nothing malformed" \
	grep -q 'seq_gaps=0 .*no_template=0 .*malformed=0' $T/c1.txt
tshark -r $T/wire.pcapng -T fields -e ipv6.src -e ipv6.dst -e udp.dstport \
	-e ipv6.tclass 2>/dev/null | sort | uniq -c >$T/wire.txt
check "tshark on $XA (blue's slave) sees the export packets, from its address, dscp 10" \
	grep -Eq '^ *[0-9]+ 2001:db8:bb::1	2001:db8:bb::2	9995	0x0*28$' $T/wire.txt
check "... and nothing else" [ "$(wc -l <$T/wire.txt)" -eq 1 ]
check "without the VPN instance every packet fails (network unreachable), so nsctl run says flows were lost" \
	bash -c "grep -q 'nsctl run: exit 1' $T/run.out &&
		grep -Eq 'export packets [0-9]+ sent, ([1-9][0-9]*) failed, send errors \\1,' $T/run.out"
check "without the VPN instance: nothing reaches the collector" \
	bash -c "! grep -q '^data\|^template' $T/c2.txt"
check "... and nothing is on the wire to its port" bash -c "! grep -q '	9996	' $T/wire.txt"
kill $WATCHDOG 2>/dev/null
finish
