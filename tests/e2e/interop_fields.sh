#!/usr/bin/env bash
# Interoperability, field by field: one capture replayed by `nsctl run`
# with a record that carries every field of the table (DESIGN.md), exported
# as NetFlow v9 and as IPFIX to nfcapd (read back with nfdump 1.7) and to
# pmacct's nfacctd 1.7 (print plugin, JSON), while tshark captures the
# export on loopback. For each collector, protocol and field the value of
# every flow equals the truth: tshark's reading of the input capture, the
# routes file and the config (ifindex, direction), and RFC 6793 for a
# 4-byte AS in a 2-byte field (AS_TRANS 23456). What each collector shows
# of each field, before and after the fixes of issue 12: docs/interop.md.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/interop_lib.sh"
il_skip_unless nfcapd nfdump nfacctd tshark
watchdog 120
cd "$ROOT" || exit 1

# Flows that differ in what they carry: a TCP flow with a traffic class,
# a flow label, a VLAN tag, a hop-by-hop header and a FIN; a UDP flow to
# a prefix whose origin AS needs 4 bytes; three ICMPv6 flows between the
# same two hosts that differ only in type/code (echo request, reply,
# unreachable); times to the ms, in order.
cat >$T/a.spec <<'SPEC'
t=1700000001.000 src=2001:db8:1::1 dst=2001:db8:2::1 proto=tcp sport=1111 dport=80 flags=S tc=0x28 label=0x12345 vlan=10 ext=hop len=100
t=1700000001.100 src=2001:db8:1::2 dst=2001:db8:4::1 proto=udp sport=5353 dport=53 len=120
t=1700000001.250 src=2001:db8:1::1 dst=2001:db8:2::1 proto=tcp sport=1111 dport=80 flags=A tc=0x28 label=0x12345 vlan=10 ext=hop len=1000
t=1700000001.300 src=2001:db8:1::3 dst=2001:db8:2::3 icmp=128/0 len=104
t=1700000001.400 src=2001:db8:2::3 dst=2001:db8:1::3 icmp=129/0 len=104
t=1700000001.600 src=2001:db8:1::2 dst=2001:db8:4::1 proto=udp sport=5353 dport=53 len=120
t=1700000001.650 src=2001:db8:1::3 dst=2001:db8:2::3 icmp=1/4 len=200
t=1700000002.100 src=2001:db8:1::2 dst=2001:db8:4::1 proto=udp sport=5353 dport=53 len=120
t=1700000002.300 src=2001:db8:1::3 dst=2001:db8:2::3 icmp=128/0 len=104
t=1700000002.500 src=2001:db8:1::1 dst=2001:db8:2::1 proto=tcp sport=1111 dport=80 flags=FA tc=0x28 label=0x12345 vlan=10 ext=hop len=68
SPEC
cat >$T/routes.txt <<'ROUTES'
2001:db8::/32     fe80::1  2001:db8:ffff::1  64500       64501
2001:db8:1::/48   fe80::2  2001:db8:ffff::2  64510       64501
2001:db8:2::/48   fe80::3  2001:db8:ffff::3  64520       64502
2001:db8:4::/48   fe80::4  2001:db8:ffff::4  4200000000  4200000001
::/0              fe80::ff -                 0           0
ROUTES
"$BIN/pcapgen" -s $T/a.spec -o $T/a.pcap >/dev/null || fail "pcapgen"

NF9=$(il_port) PM9=$(il_port) NF10=$(il_port) PM10=$(il_port)
cat >$T/a.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; };
             as = "origin"; bgp_nexthop = true; compat = "extended";
             hosts = ( { address = "127.0.0.1"; port = $NF9; },
                       { address = "127.0.0.1"; port = $PM9; },
                       { address = "127.0.0.1"; port = $NF10; version = "ipfix"; },
                       { address = "127.0.0.1"; port = $PM10; version = "ipfix"; } ); };
  apply_record = "all";
  aging = { active_seconds = 15; inactive_seconds = 5; };
};
records = ( { name = "all";
  match = [ "source-address", "destination-address", "source-mask",
            "destination-mask", "protocol", "traffic-class", "flow-label",
            "source-port", "destination-port", "input-interface",
            "output-interface", "direction", "source-vlan", "source-as",
            "destination-as", "next-hop", "bgp-next-hop", "extension-headers" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched",
              "tcp-flags", "flow-end-reason" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; ifindex = 7;
                 netstream = [ "inbound" ]; } );
routes = { file = "$T/routes.txt"; };
CONF

# nfacctd: every primitive it has for these fields; the rest as custom
# primitives read from the element (aggregate_primitives)
AGG=src_host,dst_host,src_port,dst_port,proto,tos,tcpflags,src_mask,dst_mask
AGG=$AGG,src_as,dst_as,in_iface,out_iface,peer_dst_ip,vlan,timestamp_start
AGG=$AGG,timestamp_end,flowlabel,exthdr,endreason,flowdir,nexthop
for pm in pm9 pm10; do
	cat >$T/$pm.primitives <<'PRIM'
name=flowlabel field_type=31 len=3 semantics=raw
name=exthdr field_type=64 len=4 semantics=u_int
name=endreason field_type=136 len=1 semantics=u_int
name=flowdir field_type=61 len=1 semantics=u_int
name=nexthop field_type=62 len=16 semantics=ip
PRIM
done
NFA_CONF="nfacctd_as: netflow
nfacctd_net: netflow"
il_nfcapd nf9 $NF9
il_nfcapd nf10 $NF10
il_nfacctd pm9 $PM9 $AGG "$NFA_CONF"
il_nfacctd pm10 $PM10 $AGG "$NFA_CONF"
il_tshark wire $NF9 $PM9 $NF10 $PM10
il_wait_ready $NF9 $PM9 $NF10 $PM10
"$NSCTL" run -c $T/a.conf >$T/run.out 2>$T/run.log
check "nsctl run exits 0 (nothing lost)" [ $? -eq 0 ]
sleep 0.5
il_stop nf9 nf10 pm9 pm10 wire
# the IPFIX export, read by a strict reader too
il_ipfixdump "IPFIX to nfcapd" $T/wire.pcapng $NF10
il_ipfixdump "IPFIX to nfacctd" $T/wire.pcapng $PM10

il_py expect $T/a.pcap $T/routes.txt 7 0 >$T/want
check "the capture holds 5 flows, 10 packets (tshark)" \
	[ "$(wc -l <$T/want)" -eq 5 -a "$(tshark_flows $T/a.pcap | awk '{n += $6} END {print n}')" -eq 10 ]
il_py nfdump $T/nf9 >$T/nfdump.v9
il_py nfdump $T/nf10 >$T/nfdump.ipfix
il_py nfacctd $T/pm9.json >$T/nfacctd.v9
il_py nfacctd $T/pm10.json >$T/nfacctd.ipfix
il_py tshark $T/wire.pcapng $NF9 >$T/tshark.v9
il_py tshark $T/wire.pcapng $NF10 >$T/tshark.ipfix

COUNTS="packets bytes"
KEYS="source-port destination-port"
# v9 times are sysUpTime-relative, placed by the header's whole UNIX
# seconds and its sysUpTime, stamped as of that second: nfdump and
# tshark place them to the ms, as IPFIX's absolute times
for v in v9 ipfix; do
	tol=0
	for who in nfdump nfacctd tshark; do
		check "$who $v: 5 flow records" [ "$(wc -l <$T/$who.$v)" -eq 5 ]
	done
	il_fields "nfdump $v" $T/want $T/nfdump.$v $COUNTS $KEYS icmp-type icmp-code \
		traffic-class tcp-flags source-mask destination-mask input-interface \
		output-interface direction source-vlan source-as destination-as next-hop \
		bgp-next-hop duration
	il_fields "nfdump $v" $T/want $T/nfdump.$v $tol first last
	il_fields "nfacctd $v" $T/want $T/nfacctd.$v $COUNTS $KEYS traffic-class \
		tcp-flags source-mask destination-mask input-interface output-interface \
		source-vlan source-as destination-as bgp-next-hop next-hop direction \
		flow-label extension-headers flow-end-reason
	# nfacctd places v9 times by whole seconds of its own
	il_fields "nfacctd $v" $T/want $T/nfacctd.$v $([ $v = v9 ] && echo 999 || echo $tol) first last
	il_fields "tshark $v" $T/want $T/tshark.$v $COUNTS $KEYS icmp-type icmp-code \
		traffic-class flow-label tcp-flags source-mask destination-mask \
		input-interface output-interface direction source-vlan source-as \
		destination-as next-hop bgp-next-hop extension-headers flow-end-reason duration
	il_fields "tshark $v" $T/want $T/tshark.$v $tol first last
done
finish
