#!/usr/bin/env bash
# One export source per address family (issue 16 item 6): a view may set
# an IPv4 and an IPv6 source, and each host leaves from the source of its
# own family; a monitor with only an IPv6 source leaves its IPv4 host the
# system view's IPv4 source. In a network namespace the test makes (and
# deletes), with 127.0.0.2, ::2 and ::3 added to its lo, `nsctl run` replays
# two generated captures: GigabitEthernet1/0/0 through the system view
# (IPv4 source 127.0.0.2:40004, IPv6 source [::2]:40006; hosts 127.0.0.1:9995
# and [::1]:9996), GigabitEthernet1/0/1 through monitor m1 (source
# [::3]:40016 only; hosts 127.0.0.1:9997 and [::1]:9998). tshark on lo
# must see every export packet to each host come from exactly the address
# and port the config gives its family (the expectations below are
# written from the config, not read from netstreamd), and each collector
# must receive its capture's flows (packets and bytes per 5-tuple equal
# tshark's count of the capture).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
NS=ns-$$-src
ns_cleanup() {
	# whatever still runs in the namespace was started by this test
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	cleanup
	ip netns del "$NS" 2>/dev/null
}
trap ns_cleanup EXIT
command -v tshark >/dev/null || skip "tshark is not installed"
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
ip netns add "$NS" 2>/dev/null || skip "cannot make a network namespace (ip netns add)"
watchdog 60

ip -n "$NS" link set lo up
ip -n "$NS" addr add 127.0.0.2/8 dev lo
ip -n "$NS" -6 addr add ::2/128 dev lo nodad
ip -n "$NS" -6 addr add ::3/128 dev lo nodad
check "127.0.0.2, ::2 and ::3 are local in the namespace" \
	bash -c "ip -n $NS route get to 127.0.0.2 | grep -q '^local' &&
		ip -n $NS -6 route get ::2 | grep -q '^local' &&
		ip -n $NS -6 route get ::3 | grep -q '^local'"

"$BIN/pcapgen" --flows 200 --packets 2000 --seed 11 -o $T/a.pcap >/dev/null &&
	"$BIN/pcapgen" --flows 300 --packets 3000 --seed 12 -o $T/b.pcap >/dev/null ||
	fail "pcapgen"
cat >$T/src.conf <<CONF
system = {
  export = {
    source = ( { address = "127.0.0.2"; port = 40004; },
               { address = "::2"; port = 40006; } );
    hosts = ( { address = "127.0.0.1"; port = 9995; },
              { address = "::1"; port = 9996; } ); };
  apply_record = "r";
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
monitors = ( { name = "m1"; apply_record = "r";
  source = { address = "::3"; port = 40016; };
  hosts = ( { address = "127.0.0.1"; port = 9997; },
            { address = "::1"; port = 9998; } ); } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/1"; file = "$T/b.pcap"; netstream = [ "inbound" ];
    monitors = ( { name = "m1"; direction = "inbound"; } ); } );
CONF
# each collector port: the address it listens on, the source address and
# port its packets must come from, the capture whose flows it receives
WANT="9995 127.0.0.1 127.0.0.2 40004 a
9996 ::1 ::2 40006 a
9997 127.0.0.1 127.0.0.2 40004 b
9998 ::1 ::3 40016 b"

CPIDS=""
while read -r port addr _ _ _; do
	ip netns exec "$NS" "$NSCTL" collect -p $port -b $addr -t 30 --summary \
		>$T/c$port.txt 2>$T/collect$port.log &
	CPIDS="$CPIDS $!"
done <<<"$WANT"
ip netns exec "$NS" tshark -n -i lo -w $T/wire.pcapng -f udp \
	>$T/tshark.out 2>$T/tshark.err &
TS=$!
PIDS="$PIDS $CPIDS $TS"
wait_for "[ \$(cat $T/collect99*.log | grep -c listening) = 4 ]" ||
	fail "collectors did not start"
wait_for "grep -q 'Capturing on' $T/tshark.err" 100 || fail "tshark did not start"

ip netns exec "$NS" "$NSCTL" run -c $T/src.conf >$T/run.out 2>$T/run.log
check "nsctl run exits 0" [ $? = 0 ]
sleep 0.5
kill -TERM $CPIDS $TS
wait $CPIDS $TS 2>/dev/null

# what tshark saw, per destination port: "source-address source-port"
tshark -r $T/wire.pcapng -T fields -E separator=' ' -e ip.src -e ipv6.src \
	-e udp.srcport -e udp.dstport 2>/dev/null >$T/wire.txt
tshark_flows $T/a.pcap >$T/want-a
tshark_flows $T/b.pcap >$T/want-b
check "tshark sees 200 and 300 flows in the captures" \
	[ "$(wc -l <$T/want-a) $(wc -l <$T/want-b)" = "200 300" ]
while read -r port addr src sport cap; do
	awk -v p=$port '$3 == p { print $1, $2 }' $T/wire.txt | sort | uniq -c >$T/from$port
	check "port $port: export packets on the wire ($(awk '{ n += $1 } END { print n + 0 }' $T/from$port))" \
		[ -s $T/from$port ]
	check "port $port ($addr): every packet from $src port $sport, and no other" \
		bash -c "[ \$(wc -l <$T/from$port) = 1 ] && grep -Eq '^ *[0-9]+ $src $sport\$' $T/from$port"
	collect_flows $T/c$port.txt >$T/got$port
	check "port $port: packets and bytes per 5-tuple equal tshark's count of $cap.pcap" \
		same $T/want-$cap $T/got$port
	check "port $port: no gaps, no unknown templates, nothing malformed" \
		grep -q 'seq_gaps=0 .*no_template=0 .*malformed=0' $T/c$port.txt
	# the collector's recvfrom() says the same, and only that sender
	case $src in *:*) from="[$src]:$sport" ;; *) from="$src:$sport" ;; esac
	check "port $port: nsctl collect heard one exporter, $from" \
		bash -c "grep -q '^summary exporter=all sources=1 ' $T/c$port.txt &&
			! grep -v '^summary exporter=all ' $T/c$port.txt | grep -Fqv ' exporter=$from '"
done <<<"$WANT"
kill $WATCHDOG 2>/dev/null
finish
