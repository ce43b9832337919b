#!/usr/bin/env bash
# The live path in a pipeline (issue 23.5): packets read from the ring are
# decoded and hashed as they come, their groups and then their flows
# fetched a few packets ahead, then counted in order, as a replay's are in
# bursts (capture.c: burst(), live_queue()).
# Over a veth pair in a namespace of its own, a trace of the issue's kind
# (pcapgen --mix: VLAN tags, extension headers; --tcp-fin: flows that end
# in the middle of a burst) goes into the captured device; sampled runs
# under callgrind, which counts its calls exactly whatever the machine's
# load. Checks: every packet's flow was fetched ahead of its update
# (cache_prefetch_flow called once per packet: before, the live path
# counted each packet alone, its flow a cache miss the CPU waited for),
# every packet was counted once (cache_update), both as many as tshark
# reads IPv6 packets in the trace; and the exported packets and bytes per
# 5-tuple equal tshark's count (the bursts change no count).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
for tool in valgrind callgrind_annotate tcpreplay tshark; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done
watchdog 600

netns_new burst || { fail "ip netns add"; finish; }
netns_veth b || { fail "veth pair"; finish; }

"$BIN/pcapgen" --flows 300 --packets 3000 --pps 1000 --seed 11 --snaplen 1514 \
	--mix --tcp-fin -o $T/a.pcap >/dev/null || fail "pcapgen"
tshark_flows $T/a.pcap >$T/want
WANT_PKTS=$(awk '{ n += $6 } END { print n + 0 }' $T/want)
WANT_TAGGED=$(tshark -r $T/a.pcap -Y vlan 2>/dev/null | wc -l)
WANT_EXT=$(tshark -r $T/a.pcap -Y 'ipv6.hopopts' 2>/dev/null | wc -l)
check "the trace has $WANT_PKTS IPv6 packets of 300 flows, VLAN-tagged ($WANT_TAGGED) and with extension headers ($WANT_EXT) among them (tshark)" \
	[ "$WANT_PKTS" -eq 3000 -a "$(wc -l <$T/want)" -eq 300 -a "$WANT_TAGGED" -gt 0 -a "$WANT_EXT" -gt 0 ]

# the group from a copy of the binaries whose sampled runs under callgrind;
# a sanitizer build does not run under valgrind: it runs as it is, and
# only the export is checked
mkdir -p $T/bin
cp "$BIN"/* $T/bin/
SAN=0
nm "$BIN/sampled" 2>/dev/null | grep -q __asan_init && SAN=1
if [ $SAN = 0 ]; then
	mv $T/bin/sampled $T/bin/sampled.real
	cat >$T/bin/sampled <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$T/callgrind.%p $T/bin/sampled.real "\$@"
EOF
	chmod +x $T/bin/sampled
fi

P=$((20000 + RANDOM % 20000))
cat >$T/live.conf <<CONF
system = { export = { hosts = ( { address = "::1"; port = $P; } ); };
           apply_record = "r";
           aging = { active_minutes = 30; inactive_seconds = 600; }; };
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; device = "$CAP";
                 buffer_kb = 16384; netstream = [ "inbound" ]; } );
CONF
ip netns exec "$NS" "$NSCTL" collect -p $P -b ::1 -t 600 >$T/collect.txt 2>$T/collect.log &
COL=$!
PIDS="$PIDS $COL"
NETSTREAMD_TIMEOUT_MS=30000 ip netns exec "$NS" $T/bin/nsctl up -c $T/live.conf \
	>$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: running generation 1: 1 bindings, 1 captures' $T/up.log 2>/dev/null" 3000 ||
	fail "sampled did not open its live capture"
sleep 1
# slowly: sampled under callgrind runs some 50 times slower (and under
# the sanitizers some 3 times)
ns tcpreplay -q --pps 500 -i "$PEER" $T/a.pcap >$T/replay.log 2>&1 ||
	fail "tcpreplay into $PEER"
received() {
	NETSTREAMD_TIMEOUT_MS=30000 ns $T/bin/nsctl stats --slot 1 -n 1 2>/dev/null |
		awk '$3 == "packets_received" { print $4 }'
}
wait_for '[ "$(received)" = "$WANT_PKTS" ]' 600 ||
	fail "sampled received $(received) packets, not $WANT_PKTS"
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
wait_for "grep -q '^data ' $T/collect.txt && [ \$(collect_flows $T/collect.txt | awk '{ n += \$6 } END { print n + 0 }') -ge $WANT_PKTS ]" 300
kill -TERM $COL
wait $COL 2>/dev/null

# calls to FN in the callgrind output, from every caller
calls() { # calls FN
	cat $T/callgrind.* 2>/dev/null | awk -v fn="$1" '
	# names are compressed: "(id) name" the first time, "(id)" after
	/^c?fn=\(/ {
		id = $0; sub(/^c?fn=/, "", id); name = id
		sub(/\).*/, ")", id); sub(/^\([0-9]+\) ?/, "", name)
		if (name != "") names[id] = name
		if ($0 ~ /^cfn=/) cur = names[id]
		next
	}
	/^calls=/ { split(substr($0, 7), a, " "); if (cur == fn) n += a[1]; next }
	END { print n + 0 }'
}
if [ $SAN = 0 ]; then
	UPD=$(calls cache_update)
	PRE=$(calls cache_prefetch_flow)
	check "every packet counted once into the cache (cache_update: $UPD, tshark: $WANT_PKTS)" \
		[ "$UPD" -eq "$WANT_PKTS" ]
	check "every packet's flow fetched ahead of its count (cache_prefetch_flow: $PRE, tshark: $WANT_PKTS)" \
		[ "$PRE" -eq "$WANT_PKTS" ]
else
	echo "note: a sanitizer build: the call counts need callgrind, not run"
fi
collect_flows $T/collect.txt >$T/got
check "exported packets and bytes per 5-tuple equal tshark's" same $T/want $T/got
finish
