#!/usr/bin/env bash
# The export on the wire, read by tshark (-d udp.port==P,cflow), against
# DESIGN.md: the group (`nsctl run`) replays two slots, slot 1 sampled
# (fix-packets 2), to a v9 host and an IPFIX host (compat extended); dumpcap
# captures the export on lo. Checked on tshark's decode:
#  - every data template, element by element, against the DESIGN.md table
#    (tests/pcap/oracle.py holds it, written from DESIGN.md): v9 and IPFIX
#    IDs and lengths, the ICMP type/code element of a record with ports,
#    the sampler id of a sampled interface; one options template per set;
#  - the data records = tshark's reading of the input captures with the
#    rules applied (the oracle), per host; source/destination-as apart:
#    a 4-byte AS of the routes table in a 2-byte field is AS_TRANS;
#  - v9 Count, v9 Sequence (export packets before, from 0) and IPFIX
#    Sequence (data records before, from 0) per (host, domain), domain =
#    slot id, sets padded to 4 bytes with zeros, <= 1400 bytes of UDP
#    payload, templates first and then every template_refresh_packets.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/tshark_lib.sh"
cd "$ROOT" || exit 1
watchdog 240
P9=$((20000 + RANDOM % 10000))
PX=$((P9 + 1))
SP=$((P9 + 2))
N=5
"$BIN/pcapgen" --flows 1500 --packets 4000 --pps 1000 --seed 7 -o $T/a.pcap >/dev/null ||
	fail "pcapgen a"
"$BIN/pcapgen" -s tests/pcap/gen/icmpv6.spec -o $T/b.pcap >/dev/null || fail "pcapgen b"
# pcapgen's flows go from 2001:db8::/32 (a 4-byte origin AS) to
# 2001:db8:ffff::/48
cat >$T/routes.txt <<ROUTES
2001:db8::/32          fe80::2     -                  4200000001  64501
2001:db8:ffff::/48     fe80::1     2001:db8:ffff::1   64500  64501
::/0                   fe80::ff    -                  0      0
ROUTES
cat >$T/w.conf <<CONF
system = {
  export = { version = "9"; compat = "extended"; as = "origin";
             source = { address = "127.0.0.1"; port = $SP; };
             hosts = ( { address = "127.0.0.1"; port = $P9; },
                       { address = "127.0.0.1"; port = $PX; version = "ipfix"; } );
             template_refresh_packets = $N; };
  apply_record = "r";
  aging = { active_seconds = 15; inactive_seconds = 5; };
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port", "traffic-class", "flow-label" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched",
              "tcp-flags", "flow-end-reason" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; netstream = [ "inbound" ];
    sampler = { inbound = { mode = "fix-packets"; value = 2; }; }; },
  { name = "GigabitEthernet2/0/0"; file = "$T/b.pcap"; netstream = [ "inbound" ]; } );
routes = { file = "$T/routes.txt"; };
CONF
oracle expect $T/w.conf >$T/want || fail "oracle"
"$NSCTL" collect -p $P9 -b 127.0.0.1 -t 120 >$T/c9.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" collect -p $PX -b 127.0.0.1 -t 120 >$T/cx.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
capture_start $T/x.pcap $P9 $PX
"$NSCTL" run -c $T/w.conf >$T/run.out 2>$T/run.log || fail "nsctl run reports a loss"
capture_stop $T/x.pcap

# the data records, per host, against the oracle; AS fields apart
noas() { sed -e 's/ source-as=[^ ]*//' -e 's/ destination-as=[^ ]*//' "$1"; }
onlyas() { sed -e 's/^domain=[0-9]* source-address=\([^ ]*\) destination-address=\([^ ]*\) .*\(source-as=[^ ]*\) \(destination-as=[^ ]*\).*/\1 \2 \3 \4/' "$1" | sort -u; }
noas $T/want >$T/want.noas
onlyas $T/want >$T/want.as
check "the oracle expects $(wc -l <$T/want) flows of both slots" [ "$(wc -l <$T/want)" -gt 1000 ]
for h in "v9 $P9" "IPFIX $PX"; do
	set -- $h
	tshark -r $T/x.pcap -Y "udp.dstport == $2" -w $T/x$2.pcap 2>/dev/null
	oracle wire $T/x$2.pcap $T/w.conf $2 >$T/got$2 || fail "$1: tshark decode"
	noas $T/got$2 >$T/got$2.noas
	onlyas $T/got$2 >$T/got$2.as
	check "$1 host: tshark's data records = the oracle's flows (AS apart)" \
		same $T/want.noas $T/got$2.noas
	check "$1 host: source/destination-as from the routes table, 4-byte AS as AS_TRANS 23456" \
		same $T/want.as $T/got$2.as
done
WIRE_LABEL="v9: " wire_check $T/w.conf $T/x$P9.pcap $P9 --templates \
	--domains='[1, 2]' --sampled_domains='[1]'
WIRE_LABEL="IPFIX: " wire_check $T/w.conf $T/x$PX.pcap $PX --templates \
	--domains='[1, 2]' --sampled_domains='[1]'
finish
