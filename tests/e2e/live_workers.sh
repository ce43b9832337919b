#!/usr/bin/env bash
# One live device over two workers (issue 15): `workers = 2` in the slot
# makes two capture threads in sampled, each with a packet socket in one
# PACKET_FANOUT group of the device and a cache of its own. A flow must
# live in exactly one worker, so the split is by the IPv6 addresses (what
# every record of the device matches on), never by the kernel's flow
# hash, which takes the ports too: the record here keys on addresses,
# protocol and destination port, and flows come from many source ports
# (as a client's connections to one service do), with changing flow
# labels too. In a network namespace of its own, generated flows go
# through a veth pair with tcpreplay, in and out of the captured device; checked against tshark's reading of
# the captures: every flow of the record is exported in exactly one
# record whose packets and bytes are tshark's (so no flow was split
# between the workers, and none lost or counted twice), both workers took
# packets, and their packets add up to tshark's IPv6 frames. Then the
# validation rules: more workers than cores, and records that share no
# address, are refused naming the line.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
for tool in tcpreplay tshark; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
[ "$(nproc)" -ge 2 ] || skip "one core: two workers would be refused"
watchdog 120

netns_new lwrk || { fail "ip netns add"; finish; }
netns_veth w || { fail "veth pair"; finish; }

# 600 flows of distinct address pairs, received; and 16 flows of the
# record whose packets come in 4 runs, each from another source port and
# flow label, sent (untagged, behind an 802.1Q tag, behind two tags)
"$BIN/pcapgen" --flows 600 --packets 6000 --pps 5000 --seed 7 -o $T/a.pcap >/dev/null ||
	fail "pcapgen a"
for f in $(seq 1 16); do
	for run in 1 2 3 4; do
		t=$(printf '2.%03d' $(((f - 1) * 50 + (run - 1) * 10)))
		case $((f % 4)) in
		0) tag= ;; 1) tag="vlan=100" ;; 2) tag="vlan=200 qinq=300" ;; 3) tag="vlan=400 qinq=500 stag=0x8100" ;;
		esac
		echo "t=$t src=2001:db8:9::$f dst=2001:db8:a::$f proto=tcp sport=$((5000 + 100 * f + run)) dport=80 flags=A len=$((100 + f)) label=$((f * 16 + run)) $tag repeat=3 gap=0.001"
	done
done >$T/b.spec
"$BIN/pcapgen" -s $T/b.spec -o $T/b.pcap >/dev/null || fail "pcapgen b"
mergecap -F pcap -w $T/all.pcap $T/a.pcap $T/b.pcap 2>/dev/null ||
	cat $T/a.pcap >$T/all.pcap

P=$((20000 + RANDOM % 20000))
cat >$T/live.conf <<CONF
system = {
  export = { hosts = ( { address = "::1"; port = $P; } ); };
  apply_record = "r";
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
slots = ( { id = 1;
            workers = 2; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "$CAP"; buffer_kb = 1024;
    netstream = [ "inbound", "outbound" ]; } );
CONF
ip netns exec "$NS" "$NSCTL" collect -p $P -b ::1 -t 60 >$T/collect.txt 2>$T/collect.log &
PIDS="$PIDS $!"
ip netns exec "$NS" "$NSCTL" up -c $T/live.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'fanout group' $T/up.log" 100 || {
	fail "sampled made no fanout group (up.log: $(tail -3 $T/up.log))"
	finish
}
SD=$(pgrep -P $UP -x sampled)
[ -n "$SD" ] || fail "no sampled under nsctl up"
packet_sockets() {
	local inodes
	inodes=$(ls -l /proc/$SD/fd 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p')
	for i in $inodes; do
		awk -v i="$i" 'NR > 1 && $9 == i' /proc/$SD/net/packet
	done | wc -l
}
check "sampled holds two packet sockets for the device, one a worker" \
	[ "$(packet_sockets)" -eq 2 ]
check "sampled runs 3 threads of its own beside ZeroMQ's: main and 2 workers" \
	[ "$(ls /proc/$SD/task | wc -l)" -ge 3 ]
sleep 0.3

ns tcpreplay -q --pps 3000 -i "$PEER" $T/a.pcap >$T/replay.log 2>&1 ||
	fail "tcpreplay a.pcap into $PEER (inbound)"
ns tcpreplay -q --pps 3000 -i "$CAP" $T/b.pcap >>$T/replay.log 2>&1 ||
	fail "tcpreplay b.pcap out of $CAP (outbound, VLAN tags in the frame)"

stat_value() { # stat_value NAME [LABEL=VALUE]: from one scrape of slot 1
	ns "$NSCTL" stats --slot 1 -n 1 2>/dev/null |
		awk -v n="$1" -v l="${2:-}" '$0 ~ "^sampled" && index($0, " " n) &&
			(l == "" || index($0, l)) { print $NF; exit }'
}
ns "$NSCTL" stats --slot 1 -n 1 >$T/stats0.txt 2>&1
ipv6_frames=$(tshark -r $T/all.pcap -Y ipv6 2>/dev/null | wc -l)
check "tshark reads 6000 + 192 IPv6 frames" [ "$ipv6_frames" -eq 6192 ]
wait_for "[ \"\$(stat_value packets_received)\" = $ipv6_frames ]" 100
ns "$NSCTL" stats --slot 1 -n 1 >$T/stats.txt 2>&1
w0=$(grep 'worker_packets' $T/stats.txt | grep 'worker=0}' | awk '{ print $NF }')
w1=$(grep 'worker_packets' $T/stats.txt | grep 'worker=1}' | awk '{ print $NF }')
check "worker 0 took packets (${w0:-none})" [ "${w0:-0}" -gt 0 ]
check "worker 1 took packets (${w1:-none})" [ "${w1:-0}" -gt 0 ]
check "the workers' packets add up to tshark's IPv6 frames: $ipv6_frames (got $w0 + $w1)" \
	[ $((${w0:-0} + ${w1:-0})) -eq "$ipv6_frames" ]
check "the slot's packets_received is their sum" \
	[ "$(stat_value packets_received)" = "$ipv6_frames" ]

# a commit back to one worker: the workers' flows are aged (forced) and
# exported, their counters stay in the slot's, and the main thread takes
# the device again
sed 's/workers = 2;/workers = 1;/' $T/live.conf >$T/one.conf
ns "$NSCTL" commit -c $T/one.conf -m "one worker" >/dev/null ||
	fail "commit of workers = 1"
wait_for "grep -q 'slot 1: running generation 2: 2 bindings, 1 captures' $T/up.log" 100 ||
	fail "the main thread did not take the device back"
check "after the workers ended, packets_received stays $ipv6_frames" \
	[ "$(stat_value packets_received)" = "$ipv6_frames" ]
ns "$NSCTL" stats --slot 1 -n 1 >$T/stats1.txt 2>&1
check "no worker counters with one worker" bash -c "! grep -q worker_packets $T/stats1.txt"
ns tcpreplay -q --pps 3000 -i "$CAP" $T/b.pcap >$T/replay2.log 2>&1 ||
	fail "tcpreplay b.pcap out of $CAP"
b_frames=$(tshark -r $T/b.pcap -Y ipv6 2>/dev/null | wc -l)
wait_for "[ \"\$(stat_value packets_received)\" = $((ipv6_frames + b_frames)) ]" 100
check "one worker: the $b_frames frames of b.pcap are counted on top" \
	[ "$(stat_value packets_received)" = "$((ipv6_frames + b_frames))" ]

kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
sleep 0.3
for p in $(ip netns pids "$NS"); do kill -TERM "$p" 2>/dev/null; done
sleep 0.2

# the record's flows (no source port), from tshark and from the collector
mergecap -F pcap -w $T/both.pcap $T/all.pcap $T/b.pcap 2>/dev/null
tshark -r $T/both.pcap -Y ipv6 -T fields -E separator=' ' -e ipv6.src \
	-e ipv6.dst -e ipv6.nxt -e tcp.dstport -e udp.dstport -e ipv6.plen \
	2>/dev/null | awk '{ k = $1 " " $2 " " $3 " " $4; pk[k]++; by[k] += $5 + 40 }
	END { for (k in pk) print k, pk[k], by[k] }' | sort >$T/want
grep '^data ' $T/collect.txt | awk '{
	delete v
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	k = v["source-address"] " " v["destination-address"] " " v["protocol"] " " v["destination-port"]
	pk[k] += v["packets"]; by[k] += v["bytes"]
}
END { for (k in pk) print k, pk[k], by[k] }' |
	sort >$T/got
check "tshark sees 616 flows of the record" [ "$(wc -l <$T/want)" -eq 616 ]
check "packets and bytes per flow equal tshark's" same $T/want $T/got
# the flows of b.pcap were aged at the commit: one record from the
# workers, one from the main thread after it
records=$(grep -c '^data ' $T/collect.txt)
check "one record per flow and phase: $records records for $(wc -l <$T/want) + 16 (a flow split between workers makes more)" \
	[ "$records" -eq $(($(wc -l <$T/want) + 16)) ]
label_flows=$(grep '^data ' $T/collect.txt | grep -c 'source-address=2001:db8:9::')
check "the 16 flows from 4 source ports each are one record in each phase (got $label_flows)" \
	[ "$label_flows" -eq 32 ]

# validation: more workers than cores, records that share no address
cores=$(nproc)
sed "s/workers = 2;/workers = $((cores + 1));/" $T/live.conf >$T/cores.conf
line=$(grep -n 'workers =' $T/cores.conf | cut -d: -f1)
"$NSCTL" validate -c $T/cores.conf >$T/v1.out 2>&1
check "workers = $((cores + 1)) is refused (exit 1)" [ $? -eq 1 ]
check "... naming $T/cores.conf:$line and the $cores cores" \
	grep -q "cores.conf:$line: error: .*$cores cores" $T/v1.out
sed 's/"source-address", "destination-address", //' $T/live.conf >$T/noaddr.conf
line=$(grep -n 'workers =' $T/noaddr.conf | cut -d: -f1)
"$NSCTL" validate -c $T/noaddr.conf >$T/v2.out 2>&1
check "a record without addresses under workers = 2 is refused (exit 1)" [ $? -eq 1 ]
check "... naming $T/noaddr.conf:$line and the interface" \
	grep -q "noaddr.conf:$line: error: .*GigabitEthernet1/0/0" $T/v2.out
sed 's/"source-address", //' $T/live.conf >$T/dst.conf
"$NSCTL" validate -c $T/dst.conf >$T/v3.out 2>&1
check "a record with the destination address only is split by it: valid (exit 0)" [ $? -eq 0 ]
kill $WATCHDOG 2>/dev/null
finish
