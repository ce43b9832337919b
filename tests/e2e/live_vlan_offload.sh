#!/usr/bin/env bash
# VLAN offload on a live device (issue 23, finding 2): a received tag is
# not in the frame the ring hands over but in its metadata (tp_vlan_tci,
# TP_STATUS_VLAN_VALID, tp_vlan_tpid), a sent one is in the frame. In a
# network namespace of the test's own, tagged flows (802.1Q, 802.1ad +
# 802.1Q, 802.1Q + 802.1Q, untagged) go through a veth pair with
# tcpreplay, into the captured device (inbound) and out of it
# (outbound), first with the veths' VLAN offloads on (rxvlan, txvlan,
# rx-vlan-stag-hw-parse, tx-vlan-stag-hw-insert), then off, each time
# other flows. Per source-vlan and 5-tuple, packets and bytes equal
# tshark's reading of the captures (the outer tag's id), in both
# directions and both offload states.
# On this kernel veth's receive path takes the outer tag into the
# metadata whatever rxvlan says (__netif_receive_skb_core untags in
# software), so the metadata path is what inbound tests, on and off.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
for tool in tcpreplay tshark ethtool python3; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)
watchdog 90

netns_new vlo || { fail "ip netns add"; finish; }
netns_veth v || { fail "veth pair"; finish; }
offloads() { # offloads on|off
	for d in $CAP $PEER; do
		ns ethtool -K $d rxvlan $1 txvlan $1 rx-vlan-stag-hw-parse $1 \
			tx-vlan-stag-hw-insert $1 2>/dev/null ||
			ns ethtool -K $d rxvlan $1 txvlan $1 || return 1
	done
}

spec() { # spec PREFIX: 4 flows, each tagged its own way
	cat <<EOF
t=1.00 src=$1::1 dst=2001:db8:d::1 proto=udp sport=1001 dport=53 len=100 vlan=100 repeat=3
t=1.10 src=$1::2 dst=2001:db8:d::1 proto=tcp sport=1002 dport=80 flags=A len=300 vlan=200 qinq=300 repeat=4
t=1.20 src=$1::3 dst=2001:db8:d::1 proto=tcp sport=1003 dport=80 flags=A len=1400 vlan=400 qinq=500 stag=0x8100 repeat=2
t=1.30 src=$1::4 dst=2001:db8:d::1 proto=udp sport=1004 dport=53 len=200 ext=dst repeat=5
EOF
}
n=0
for state in on off; do
	for dir in in out; do
		n=$((n + 1))
		spec 2001:db8:$n >$T/$state-$dir.spec
		"$BIN/pcapgen" -s $T/$state-$dir.spec -o $T/$state-$dir.pcap >/dev/null ||
			fail "pcapgen $state-$dir"
	done
done

P=$((20000 + RANDOM % 20000))
cat >$T/vlan.conf <<CONF
system = {
  export = { hosts = ( { address = "::1"; port = $P; } ); };
  apply_record = "r";
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port", "source-vlan", "direction" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "$CAP"; buffer_kb = 4096;
    netstream = [ "inbound", "outbound" ]; } );
CONF
ns_group_up $T/vlan.conf 'slot 1: running generation 1: 2 bindings, 1 captures' ||
	{ fail "sampled did not open $CAP: $(tail -2 $T/up.log)"; finish; }
sleep 0.5
for state in on off; do
	offloads $state || fail "ethtool -K: VLAN offloads $state"
	ns ethtool -k $CAP | grep -q "^rx-vlan-offload: $state" ||
		fail "rx-vlan-offload is not $state on $CAP"
	ns tcpreplay -q -i "$PEER" $T/$state-in.pcap >$T/replay.log 2>&1 ||
		fail "tcpreplay into $PEER ($state)"
	ns tcpreplay -q -i "$CAP" $T/$state-out.pcap >$T/replay.log 2>&1 ||
		fail "tcpreplay out of $CAP ($state)"
done
sleep 1
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
sleep 0.5
kill -TERM $COL
wait $COL 2>/dev/null

want() { # want PCAP: src dst proto sport dport vlan packets bytes, tshark's
	tshark -r "$1" -T fields -E separator=, -E aggregator=";" -e frame.protocols -e ipv6.src \
		-e ipv6.dst -e ipv6.nxt -e tcp.srcport -e tcp.dstport -e udp.srcport \
		-e udp.dstport -e vlan.id -e ieee8021ad.id -e ipv6.plen \
		-e ipv6.dstopts.nxt 2>/dev/null | $PY -c '
import sys
t = {}
for line in sys.stdin:
    pr, s, d, nxt, ts, td, us, ud, vid, sid, plen, dnx = line.rstrip("\n").split(",")
    pr = pr.split(":")
    tags = [x for x in pr if x in ("vlan", "ieee8021ad")]
    vlan = 0
    if tags:  # the outer tag: the first of its kind
        vlan = int((vid if tags[0] == "vlan" else sid).split(";")[0].split(" ")[0])
    proto = dnx or nxt
    k = (s, d, proto, ts or us, td or ud, str(vlan))
    e = t.setdefault(k, [0, 0])
    e[0] += 1; e[1] += int(plen) + 40
for k in sorted(t):
    print(" ".join(k), *t[k])'
}
got() { # got DIRECTION SOURCE-PREFIX
	grep "^data .*source-address=$2:" $T/collect.txt | grep " direction=$1 " | $PY -c '
import sys
t = {}
for line in sys.stdin:
    v = dict(x.split("=", 1) for x in line.split()[1:] if "=" in x)
    k = (v["source-address"], v["destination-address"], v["protocol"],
         v["source-port"], v["destination-port"], v["source-vlan"])
    e = t.setdefault(k, [0, 0])
    e[0] += int(v["packets"]); e[1] += int(v["bytes"])
for k in sorted(t):
    print(" ".join(k), *t[k])'
}
n=0
for state in on off; do
	for dir in in out; do
		n=$((n + 1))
		want $T/$state-$dir.pcap >$T/want_$n
		got $([ $dir = in ] && echo 0 || echo 1) 2001:db8:$n >$T/got_$n
		check "VLAN offloads $state, ${dir}bound: per source-vlan and 5-tuple, packets and bytes equal tshark's (4 flows)" \
			bash -c "[ \$(wc -l <$T/want_$n) -eq 4 ] && diff -u $T/want_$n $T/got_$n"
	done
done
kill $WATCHDOG 2>/dev/null
finish
