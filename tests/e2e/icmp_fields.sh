#!/usr/bin/env bash
# ICMPv6 type and code as collectors read them (issue 12, DESIGN.md):
# - a five-tuple record carries ICMP_TYPE (32) in v9 and icmpTypeCodeIPv6
#   (139) in IPFIX beside destination-port: nfdump 1.7.1 (v9 and IPFIX)
#   shows each ICMPv6 flow's type.code as tshark reads it from the capture;
# - icmp-type / icmp-code as match fields (178/179): packets and bytes
#   per (source, destination, type, code) equal tshark's, in the template
#   as tshark decodes it.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
P1=$((20000 + RANDOM % 20000)); P2=$((P1 + 1)); P3=$((P1 + 2))
# echo requests of three types/codes mixed with UDP, several flows each
cat >$T/icmp.spec <<'SPEC'

t=1.000 src=2001:db8::1 dst=2001:db8::2 icmp=128/0 len=104
t=1.100 src=2001:db8::2 dst=2001:db8::1 icmp=129/0 len=104
t=1.200 src=2001:db8::1 dst=2001:db8::2 icmp=128/0 len=200
t=1.300 src=2001:db8::fe dst=2001:db8::1 icmp=1/4 len=1280
t=1.400 src=2001:db8::fe dst=2001:db8::1 icmp=1/3 len=1000
t=1.500 src=2001:db8::fe dst=2001:db8::1 icmp=3/0 len=900
t=1.600 src=fe80::1 dst=ff02::1:ff00:2 icmp=135/0 hlim=255 len=72
t=1.700 src=2001:db8::1 dst=2001:db8::2 proto=udp sport=5000 dport=53 len=80
t=1.800 src=2001:db8::1 dst=2001:db8::2 icmp=128/0 len=104
SPEC
"$BIN/pcapgen" -s $T/icmp.spec -o $T/a.pcap >/dev/null || fail "pcapgen"
cat >$T/a.conf <<CONF
system = {
  export = { version = "9"; compat = "extended";
             source = { address = "127.0.0.1"; };
             hosts = ( { address = "127.0.0.1"; port = $P1; },
                       { address = "127.0.0.1"; port = $P2; version = "ipfix"; } ); };
  apply_record = "five";
};
records = ( { name = "five";
    match = [ "source-address", "destination-address", "protocol",
              "source-port", "destination-port" ];
    collect = [ "packets", "bytes" ]; },
  { name = "icmp";
    match = [ "source-address", "destination-address", "icmp-type", "icmp-code" ];
    collect = [ "packets", "bytes" ]; } );
monitors = ( { name = "m"; apply_record = "icmp";
               hosts = ( { address = "127.0.0.1"; port = $P3; } ); } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 netstream = [ "inbound", "outbound" ]; },
               { name = "GigabitEthernet1/0/1"; file = "$T/a.pcap";
                 netstream = [ "inbound" ];
                 monitors = ( { name = "m"; direction = "inbound"; } ); } );
CONF
mkdir -p $T/v9 $T/ipfix
nfcapd -p $P1 -b 127.0.0.1 -w $T/v9 -t 3600 >$T/nfcapd1.out 2>&1 &
N1=$!
nfcapd -p $P2 -b 127.0.0.1 -w $T/ipfix -t 3600 >$T/nfcapd2.out 2>&1 &
N2=$!
PIDS="$PIDS $N1 $N2"
tshark -i lo -f "udp dst port $P3" -w $T/x.pcap >$T/tshark.log 2>&1 &
TS=$!
PIDS="$PIDS $TS"
"$NSCTL" collect -p $P3 -b 127.0.0.1 -t 60 >$T/c.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
wait_for "grep -q Capturing $T/tshark.log" 100 || fail "tshark did not start"
wait_for "ss -uln | grep -q ':$P2 '" || fail "nfcapd did not start"
"$NSCTL" run -c $T/a.conf >$T/run.out 2>$T/run.log
check "nsctl run exits 0 (nothing lost)" [ $? -eq 0 ]
sleep 0.5
kill -TERM $N1 $N2
kill -INT $TS
wait $N1 $N2 $TS 2>/dev/null
# tshark's reading of the capture: per ICMPv6 (src, dst): "type.code"
tshark -r $T/a.pcap -Y icmpv6 -T fields -e ipv6.src -e ipv6.dst \
	-e icmpv6.type -e icmpv6.code -e ipv6.plen 2>/dev/null >$T/icmp.tsv
awk '{ k = $1 " " $2 " " $3 "." $4; p[k]++; b[k] += $5 + 40 }
	END { for (k in p) print k, p[k], b[k] }' $T/icmp.tsv | sort >$T/want
check "tshark sees 6 ICMPv6 flows" [ "$(wc -l <$T/want)" -eq 6 ]
for v in v9 ipfix; do
	# (nfdump's own -A aggregation zeroes ICMP ports: summed here)
	nfdump -R $T/$v -q -o "fmt:%sa %da %pr %dp %pkt %byt" 'proto icmp6' \
		2>/dev/null | awk '{ k = $1 " " $2 " " $4; p[k] += $5; b[k] += $6 }
		END { for (k in p) print k, p[k], b[k] }' | sort >$T/nf-$v
	check "nfdump ($v): each ICMPv6 flow's type.code, packets and bytes are tshark's" \
		eval '[ -s $T/nf-$v ] && same $T/want $T/nf-$v'
done
# the icmp record, by nsctl collect: key (src dst type code)
grep '^data ' $T/c.txt | awk '{
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["icmp-type"] == 0 && v["icmp-code"] == 0) next
	k = v["source-address"] " " v["destination-address"] " " v["icmp-type"] "." v["icmp-code"]
	p[k] += v["packets"]; b[k] += v["bytes"] }
	END { for (k in p) print k, p[k], b[k] }' | sort >$T/got
check "icmp-type/icmp-code record: packets and bytes per key are tshark's" \
	eval '[ -s $T/got ] && same $T/want $T/got'
# the template of that record on the wire, by tshark: 27, 28, 178, 179, 2, 1
tshark -r $T/x.pcap -d udp.port==$P3,cflow -T fields -E occurrence=a \
	-E aggregator=, -e cflow.template_field_type 2>/dev/null |
	tr ',' '\n' | grep -v '^$' | sort -u -n | tr '\n' ' ' >$T/types
check "tshark: the template carries 178 and 179 ($(cat $T/types))" \
	grep -q ' 178 179 ' $T/types
finish
