#!/usr/bin/env bash
# The live capture socket (issue 15): one AF_PACKET socket per device for
# both directions, a TPACKET_V3 ring of the configured size (buffer_kb),
# a kernel filter that passes only IPv6, untagged and VLAN-tagged.
# In a network namespace of its own with a veth pair (IPv6 off on both
# ends, so the kernel sends nothing there), generated frames are put on
# the wire with tcpreplay: a.pcap into the peer (inbound on the captured
# device: the kernel takes the outer VLAN tag into the packet's metadata)
# and b.pcap out of the captured device (outbound: the tags stay in the
# frame). Each holds IPv6 flows untagged, behind an 802.1Q tag and behind
# two tags (802.1ad and 802.1Q outer), and IPv4, ARP and LLDP frames.
# Checked against tshark's reading of the captures: packets and bytes per
# 5-tuple and direction, the outer VLAN id of each flow, and sampled's
# packets_received equal to the IPv6 frames alone (the rest never reaches
# it); sampled holds one packet socket, its ring mapped at buffer_kb.
# Nothing is sent outside the namespace; it is deleted on exit.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
for tool in tcpreplay tshark; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
watchdog 60

netns_new lsock || { fail "ip netns add"; finish; }
netns_veth l || { fail "veth pair"; finish; }
IFX_CAP=$(ns cat /sys/class/net/$CAP/ifindex)

spec() { # spec NET: the frames of one capture, 2001:db8:NET::/48
	cat <<SPEC
t=1.000 src=2001:db8:$1::1 dst=2001:db8:$1::2 proto=tcp sport=1000 dport=80 flags=S len=120 repeat=20 gap=0.001
t=1.100 src=2001:db8:$1::1 dst=2001:db8:$1::3 proto=udp sport=1001 dport=53 len=200 vlan=100 repeat=15 gap=0.001
t=1.200 src=2001:db8:$1::1 dst=2001:db8:$1::4 proto=tcp sport=1002 dport=443 flags=A len=1400 vlan=200 qinq=300 repeat=12 gap=0.001
t=1.300 src=2001:db8:$1::1 dst=2001:db8:$1::5 proto=udp sport=1003 dport=22 len=300 vlan=400 qinq=500 stag=0x8100 repeat=7 gap=0.001
t=1.400 v4=1 src=192.0.2.1 dst=192.0.2.9 proto=udp sport=1 dport=2 len=60 repeat=9 gap=0.001
t=1.500 ethertype=0x0806 repeat=5 gap=0.001
t=1.600 ethertype=0x88cc len=50 repeat=4 gap=0.001
SPEC
}
spec 1 >$T/a.spec
spec 2 >$T/b.spec
"$BIN/pcapgen" -s $T/a.spec -o $T/a.pcap >/dev/null || fail "pcapgen a"
"$BIN/pcapgen" -s $T/b.spec -o $T/b.pcap >/dev/null || fail "pcapgen b"

P=$((20000 + RANDOM % 20000))
cat >$T/live.conf <<CONF
system = {
  export = { hosts = ( { address = "::1"; port = $P; } ); };
  apply_record = "r";
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port", "direction", "source-vlan" ];
  collect = [ "packets", "bytes", "input-interface", "output-interface" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "$CAP"; buffer_kb = 2048;
    netstream = [ "inbound", "outbound" ]; } );
CONF
# started as ip netns exec itself (not through the ns function, a
# subshell), so $! is the process that a signal must reach
ip netns exec "$NS" "$NSCTL" collect -p $P -b ::1 -t 40 >$T/collect.txt 2>$T/collect.log &
PIDS="$PIDS $!"
ip netns exec "$NS" "$NSCTL" up -c $T/live.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: running generation 1: 2 bindings, 1 captures' $T/up.log" 100 ||
	fail "sampled did not open one capture for the two directions"
SD=$(pgrep -P $UP -x sampled)
[ -n "$SD" ] || fail "no sampled under nsctl up"

# its packet sockets: the socket inodes of its descriptors that the
# namespace's packet socket table lists
packet_sockets() {
	local inodes
	inodes=$(ls -l /proc/$SD/fd 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p')
	for i in $inodes; do
		awk -v i="$i" 'NR > 1 && $9 == i' /proc/$SD/net/packet
	done | wc -l
}
check "sampled holds one packet socket for the device's two directions" \
	[ "$(packet_sockets)" -eq 1 ]
# the ring: one shared mapping of buffer_kb (2048 KiB) of that socket
ring_kb=$(awk '$6 ~ /^socket:/ { print $1 }' /proc/$SD/maps |
	while IFS=- read -r lo hi; do echo $(((16#$hi - 16#$lo) / 1024)); done)
check "its ring is mapped, 2048 KiB as buffer_kb says (got: ${ring_kb:-none})" \
	[ "$ring_kb" = 2048 ]
sleep 0.3 # the socket is bound; tcpreplay next

ns tcpreplay -q --pps 2000 -i "$PEER" $T/a.pcap >$T/replay_a.log 2>&1 ||
	fail "tcpreplay a.pcap into $PEER"
ns tcpreplay -q --pps 2000 -i "$CAP" $T/b.pcap >$T/replay_b.log 2>&1 ||
	fail "tcpreplay b.pcap out of $CAP"
# sampled reads a ring block 20 ms after its first packet at the latest;
# its stats then say what it took
stats_received() {
	ns "$NSCTL" stats --json --slot 1 -n 1 2>/dev/null |
		grep -o '"name":"packets_received"[^}]*"value":[0-9]*' |
		sed 's/.*"value"://' | head -1
}
# frames whose first network header is IPv6, as tshark reads them
ipv6_frames() {
	tshark -r "$1" -T fields -e frame.protocols 2>/dev/null |
		awk -F: '{ for (i = 1; i <= NF; i++) if ($i == "ip" || $i == "ipv6") { if ($i == "ipv6") n++; break } }
		END { print n + 0 }'
}
want_rx=$(($(ipv6_frames $T/a.pcap) + $(ipv6_frames $T/b.pcap)))
check "tshark counts 54 + 54 IPv6 frames in the captures" [ "$want_rx" -eq 108 ]
wait_for "[ \"\$(stats_received)\" = $want_rx ]" 50
got_rx=$(stats_received)
check "sampled received the IPv6 frames alone: $want_rx (got ${got_rx:-none}); IPv4, ARP, LLDP stayed in the kernel" \
	[ "$got_rx" = "$want_rx" ]

kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
sleep 0.3
for p in $(ip netns pids "$NS"); do kill -TERM "$p" 2>/dev/null; done
sleep 0.2

# per 5-tuple of one capture in one direction, from the collector
flows() { # flows SOURCE-PREFIX DIRECTION IN OUT
	grep "^data .*source-address=$1" $T/collect.txt | grep " direction=$2 " |
		grep " input-interface=$3 " | grep " output-interface=$4 " >$T/sel.$2
	collect_flows $T/sel.$2
}
tshark_flows $T/a.pcap >$T/want_a
tshark_flows $T/b.pcap >$T/want_b
check "tshark sees 4 IPv6 flows in each capture" \
	[ "$(wc -l <$T/want_a)" -eq 4 -a "$(wc -l <$T/want_b)" -eq 4 ]
flows 2001:db8:1: 0 $IFX_CAP 0 >$T/got_a
flows 2001:db8:2: 1 0 $IFX_CAP >$T/got_b
check "inbound: packets and bytes per 5-tuple equal tshark's" same $T/want_a $T/got_a
check "outbound: packets and bytes per 5-tuple equal tshark's" same $T/want_b $T/got_b

# the outer VLAN id of each flow: tshark's first tag (802.1Q or 802.1ad)
vlans_want() {
	tshark -r "$1" -T fields -E separator=' ' -E occurrence=f \
		-e frame.protocols -e ipv6.src -e ipv6.dst -e vlan.id -e ieee8021ad.id 2>/dev/null |
		awk '$1 ~ /ipv6/ {
			v = 0
			if ($1 ~ /^eth:ethertype:ieee8021ad/) v = (NF >= 5 ? $5 : $4)
			else if ($1 ~ /^eth:ethertype:vlan/) v = $4
			print $2, $3, v }' | sort -u
}
vlans_got() {
	grep '^data ' "$1" | awk '{
		delete f
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		print f["source-address"], f["destination-address"], f["source-vlan"] }' | sort -u
}
vlans_want $T/a.pcap >$T/vwant_a
vlans_want $T/b.pcap >$T/vwant_b
check "tshark: VLAN ids 0, 100, 300 and 500 (outer) in each capture" \
	[ "$(awk '{ print $3 }' $T/vwant_a | sort -n | tr '\n' ' ')" = "0 100 300 500 " ]
vlans_got $T/sel.0 >$T/vgot_a
vlans_got $T/sel.1 >$T/vgot_b
check "inbound (outer tag in the kernel's metadata): each flow's source-vlan is tshark's outer id" \
	same $T/vwant_a $T/vgot_a
check "outbound (tags in the frame): each flow's source-vlan is tshark's outer id" \
	same $T/vwant_b $T/vgot_b
kill $WATCHDOG 2>/dev/null
finish
