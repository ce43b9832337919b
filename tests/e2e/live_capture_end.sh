#!/usr/bin/env bash
# Several captures in one live slot (issue 23, finding 4): each capture's
# flows end with it, forced (end reason 4) and exported at once, while the
# other captures' flows stay in the cache and age by their timers. In a
# network namespace of its own:
#   slot 1: two veths (D1, D2) and a capture file (f.pcap, read at once:
#           a file in a live slot is timed by the live clock);
#   slot 2: `workers = 2`, a veth (K) and a capture file (g.pcap), the
#           file read by the main thread, the device by the workers.
# The inactive timer is 300 s, longer than the test: a flow exported
# before the group stops ended with its capture, not by aging.
#   - each file's 30 flows are exported while the group runs (before the
#     fix they stayed until the inactive timer: idle, 5 min later), forced;
#   - a.pcap into D1, b.pcap into D2, k.pcap into K, then D1 deleted:
#     D1's flows are exported at once, forced; D2's and K's stay in the
#     cache (display interface) and leave, forced, when the group stops.
# Each flow's packets and bytes are tshark's reading of the input; each
# record's end reason and export time are tshark's decode of the export,
# placed against the test's own clock readings. Slot 2 with two workers
# needs two cores.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/interop_lib.sh"
cd "$ROOT" || exit 1
for tool in tcpreplay tshark; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
[ "$(nproc)" -ge 2 ] || skip "one core: two workers would be refused"
watchdog 600

netns_new capend || { fail "ip netns add"; finish; }
D1=ce$$a
D2=ce$$b
K=ce$$k
P=$((20000 + RANDOM % 20000))
# seeds: sources 2001:db8:N::/48 (a 1, b 2, f 3, g 4, k 5)
i=0
for x in a b f g k; do
	i=$((i + 1))
	"$BIN/pcapgen" --flows 30 --packets 600 --pps 1000 --seed $i --snaplen 1514 \
		-o $T/$x.pcap >/dev/null || fail "pcapgen $x"
	tshark_flows $T/$x.pcap >$T/want_$x
done
check "tshark sees 30 flows in each capture" \
	bash -c "for x in a b f g k; do [ \$(wc -l <$T/want_\$x) -eq 30 ] || exit 1; done"

cat >$T/ce.conf <<CONF
system = {
  export = { hosts = ( { address = "::1"; port = $P; } ); };
  apply_record = "r";
  aging = { active_minutes = 30; inactive_seconds = 300; };
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "flow-end-reason" ]; } );
slots = ( { id = 2; workers = 2; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "$D1";
    buffer_kb = 4096; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/1"; device = "$D2";
    buffer_kb = 4096; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/2"; file = "$T/f.pcap";
    netstream = [ "inbound" ]; },
  { name = "GigabitEthernet2/0/0"; device = "$K";
    buffer_kb = 4096; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet2/0/1"; file = "$T/g.pcap";
    netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF

mkveth() { # mkveth NAME PEER: a veth pair, IPv6 off, up
	ns ip link add "$1" type veth peer name "$2" || return 1
	for x in "$1" "$2"; do
		ns sysctl -qw net.ipv6.conf.$x.disable_ipv6=1
		ns ip link set "$x" up
	done
}
for d in $D1 $D2 $K; do mkveth $d ${d}p || fail "veth $d"; done

ip netns exec "$NS" tshark -q -i lo -f "udp dst port $P" -w $T/exp.pcapng -a duration:500 \
	>$T/tshark.log 2>&1 &
TS=$!
PIDS="$PIDS $TS"
wait_for "grep -qs Capturing $T/tshark.log" 50 || fail "tshark did not start capturing"
ip netns exec "$NS" "$NSCTL" collect -p $P -b ::1 -t 500 --summary >$T/collect.txt 2>$T/collect.log &
PIDS="$PIDS $!"
wait_for "grep -qs listening $T/collect.log" 50 || fail "nsctl collect did not start"
ip netns exec "$NS" "$NSCTL" up -c $T/ce.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: running generation 1' $T/up.log &&
	grep -q 'slot 2: running generation 1' $T/up.log" 100 ||
	fail "the slots did not start"

exported() { # exported PREFIX: the flows of it the collector has, summed
	grep "^data .*source-address=$1" $T/collect.txt >$T/sel.$1
	collect_flows $T/sel.$1
}
# "aged-forced current" of IFACE's inbound direction (display interface)
counts() {
	ns "$NSCTL" display interface "$1" --json 2>>$T/display.log |
		/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)[0]["directions"][0].get("counters") or {}
print((d.get("flows_aged") or {}).get("forced", 0), d.get("flows_current"))'
}

# 1. the files end at once: their flows are exported while the group runs
check "f.pcap (slot 1, beside two live devices): its 30 flows exported while the group runs, as tshark counts them" \
	wait_for "exported 2001:db8:3: | cmp -s - $T/want_f" 300
check "g.pcap (slot 2, workers = 2): its 30 flows exported while the group runs, as tshark counts them" \
	wait_for "exported 2001:db8:4: | cmp -s - $T/want_g" 300
check "display interface: f.pcap's 30 flows aged forced, none left" \
	wait_for "[ \"\$(counts GigabitEthernet1/0/2)\" = '30 0' ]" 50
W1=$(date +%s)

# 2. two live devices: one goes away, the other stays (the marks W1..W3
# are seconds apart, so an export second tells them apart)
sleep 3
ns tcpreplay -q --pps 2000 -i ${D1}p $T/a.pcap >>$T/replay.log 2>&1 || fail "tcpreplay a"
ns tcpreplay -q --pps 2000 -i ${D2}p $T/b.pcap >>$T/replay.log 2>&1 || fail "tcpreplay b"
ns tcpreplay -q --pps 2000 -i ${K}p $T/k.pcap >>$T/replay.log 2>&1 || fail "tcpreplay k"
sleep 0.5
W2=$(date +%s)
ns ip link del $D1
check "$D1 deleted: a.pcap's 30 flows exported at once, as tshark counts them" \
	wait_for "exported 2001:db8:1: | cmp -s - $T/want_a" 300
check "display interface: $D2's 30 flows stay in the cache, none aged" \
	[ "$(counts GigabitEthernet1/0/1)" = "0 30" ]
check "display interface: $K's 30 flows (slot 2) stay too" \
	[ "$(counts GigabitEthernet2/0/0)" = "0 30" ]
sleep 2
W3=$(date +%s)
kill -TERM $UP
wait $UP
rc=$?
check "nsctl up stops cleanly (exit 0: $rc)" [ $rc -eq 0 ]
sleep 0.5
kill -INT $TS 2>/dev/null
wait $TS 2>/dev/null
exported 2001:db8:2: >$T/got_b
check "b.pcap ($D2): exported at the stop, as tshark counts it" same $T/want_b $T/got_b
exported 2001:db8:5: >$T/got_k
check "k.pcap ($K): exported at the stop, as tshark counts it" same $T/want_k $T/got_k

# 3. tshark's decode of the export: each record's end reason and export
# second, against the test's clock
il_py tshark $T/exp.pcapng $P >$T/got
/usr/bin/python3 - $T/got $W1 $W2 $W3 >$T/verdict <<'PY'
import sys
got, w1, w2, w3 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
# source /48 -> (what, earliest, latest export second); a second of
# slack: exportd's header second against `date`'s
want = {"2001:db8:3:": ("f.pcap: ended with its file", 0, w1 + 1),
        "2001:db8:4:": ("g.pcap: ended with its file (workers)", 0, w1 + 1),
        "2001:db8:1:": ("a.pcap: ended with D1", w2 - 1, w3 + 1),
        "2001:db8:2:": ("b.pcap: ended at the stop", w3 - 1, 1 << 40),
        "2001:db8:5:": ("k.pcap: ended at the stop (workers)", w3 - 1, 1 << 40)}
n, bad = {}, 0
for line in open(got):
    w = line.split()
    src = w[0][4:].split("/")[0]
    f = dict(x.split("=", 1) for x in w[1:])
    p = next((p for p in want if src.startswith(p)), None)
    if p is None:
        continue
    what, lo, hi = want[p]
    n[p] = n.get(p, 0) + 1
    s = int(f["export-ms"]) // 1000
    if f.get("flow-end-reason") != "4" or not lo <= s <= hi:
        bad += 1
        if bad <= 5:
            print("%s: %s: reason %s, exported at %d, not 4 within [%d, %d]" %
                  (what, w[0], f.get("flow-end-reason"), s, lo, hi))
for p, (what, lo, hi) in want.items():
    print("%s: %d records" % (what, n.get(p, 0)))
sys.exit(1 if bad else 0)
PY
check "each record forced (4), exported when its capture ended (tshark)" [ $? -eq 0 ]
cat $T/verdict
check "tshark decodes 30 records of each capture, no more" \
	[ "$(grep -c ': 30 records$' $T/verdict)" = 5 ]
kill $WATCHDOG 2>/dev/null
finish
