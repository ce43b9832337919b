#!/usr/bin/env bash
# A live sampled killed (-9) under nsctl up while flows are in its cache
# (issue 22, finding 7): the loss is told once, by one account, and it is
# what the collector lacks. In a namespace of the test's own, a veth pair
# (IPv6 off: the kernel sends nothing there) and the group capture one
# end inbound; tshark captures the same end: the wire.
#   1. c.pcap, then `nsctl reset cache`: those flows go out (pushed and
#      acknowledged before the kill, so not lost);
#   2. a.pcap: its flows stay in the cache (inactive 600 s); sampled has
#      counted every packet when it is killed;
#   3. nsctl up restarts it; once it captures, a.pcap again (so a 5-tuple
#      of the dead cache reaches the collector in part) and b.pcap;
#   4. nsctl up stops: every flow is aged and exported.
# Then tshark's packets on the wire minus nfdump's = the packets of the
# one loss message, and its flows = the 5-tuples nfdump has fewer packets
# of than the wire (a's, every one of which the dead cache held). No
# other message gives another number (nsctl up's "lost the N flows of its
# cache" did, from a stale sample). With WORKERS=N (live_sampled_kill_
# workers.sh) the slot captures with N workers, whose caches count too.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
export LC_ALL=C
watchdog 150
command -v tcpreplay >/dev/null && command -v tshark >/dev/null &&
	command -v nfcapd >/dev/null || skip "tcpreplay, tshark or nfcapd is not installed"
netns_new lkill || { fail "ip netns add"; finish; }
netns_veth k || { fail "veth pair"; finish; }
P=$((20000 + RANDOM % 20000))
"$BIN/pcapgen" --flows 10 --packets 400 --pps 1000 --seed 3 --snaplen 1514 \
	-o $T/c.pcap >/dev/null || fail "pcapgen c"
"$BIN/pcapgen" --flows 20 --packets 1000 --pps 1000 --seed 1 --snaplen 1514 \
	-o $T/a.pcap >/dev/null || fail "pcapgen a"
"$BIN/pcapgen" --flows 15 --packets 600 --pps 1000 --seed 2 --snaplen 1514 \
	-o $T/b.pcap >/dev/null || fail "pcapgen b"
cat >$T/live.conf <<CONF
system = {
  export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
  apply_record = "r";
  aging = { active_minutes = 60; inactive_seconds = 600; };
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; device = "$CAP";
                 buffer_kb = 16384; netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF
[ -n "${WORKERS:-}" ] && echo "slots = ( { id = 1; workers = $WORKERS; } );" >>$T/live.conf
mkdir -p $T/nf
ip netns exec "$NS" nfcapd -p $P -b 127.0.0.1 -w $T/nf -t 3600 -B 4194304 >$T/nfcapd.out 2>&1 &
NF=$!
PIDS="$PIDS $NF"
ip netns exec "$NS" tshark -i "$CAP" -w $T/wire.pcap -F pcap >$T/tshark.out 2>&1 &
TS=$!
PIDS="$PIDS $TS"
wait_for "grep -q 'Capturing on' $T/tshark.out" 100 || fail "tshark did not start"
ip netns exec "$NS" "$NSCTL" up -c $T/live.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: running generation 1: 1 bindings, 1 captures' $T/up.log" 100 ||
	fail "sampled did not open $CAP"
[ -z "${WORKERS:-}" ] || wait_for "grep -q 'fanout group .* over $WORKERS workers' $T/up.log" 100 ||
	fail "sampled did not start $WORKERS workers"
sleep 0.5

# interface_packets: what the current sampled counted on the device
ipk() {
	ns timeout 5 "$NSCTL" stats --json -n 3 2>/dev/null | grep '"process":"sampled"' |
		tail -1 | python3 -c '
import json, sys
for line in sys.stdin:
    print(sum(c["value"] for c in json.loads(line)["counters"]
              if c["name"] == "interface_packets"))'
}
replay() { ns tcpreplay -q --pps 2000 -i "$PEER" "$1" >>$T/replay.log 2>&1 || fail "tcpreplay $1"; }

replay $T/c.pcap
check "sampled counted c.pcap's 400 packets" wait_for '[ "$(ipk)" = 400 ]' 50
ns "$NSCTL" reset cache slot 1 >>$T/nsctl.log 2>&1 || fail "reset cache"
replay $T/a.pcap
check "sampled counted a.pcap's 1000 packets too (1400)" wait_for '[ "$(ipk)" = 1400 ]' 50
sleep 0.5 # the reset's flows are acknowledged by now
sd=$(pgrep -P $UP -x sampled)
kill -9 "$sd" || fail "kill sampled"
check "nsctl up restarted sampled" \
	wait_for "sed -n '/sampled slot 1 died: killed by signal 9/,\$p' $T/up.log |
		grep -q 'slot 1: running generation 1: 1 bindings, 1 captures'" 100
sleep 1 # the new one captures
replay $T/a.pcap
replay $T/b.pcap
check "the new sampled counted a.pcap and b.pcap (1600)" wait_for '[ "$(ipk)" = 1600 ]' 50
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
sleep 0.5
kill -TERM $TS $NF
wait $TS $NF 2>/dev/null

tshark_flows $T/wire.pcap >$T/want
nfdump_flows $T/nf >$T/got
check "the wire: c.pcap, a.pcap twice, b.pcap (3000 IPv6 packets)" \
	[ "$(awk '{ n += $6 } END { print n }' $T/want)" = 3000 ]
join -a 1 -e 0 -o 1.2,2.2 <(awk '{ print $1"|"$2"|"$3"|"$4"|"$5, $6 }' $T/want | sort) \
	<(awk '{ print $1"|"$2"|"$3"|"$4"|"$5, $6 }' $T/got | sort) >$T/pairs
check "no 5-tuple has more packets at nfdump than on the wire" \
	awk '$2 > $1 { bad++ } END { exit bad > 0 }' $T/pairs
lack_p=$(awk '{ n += $1 - $2 } END { print n }' $T/pairs)
lack_f=$(awk '$2 < $1 { n++ } END { print n + 0 }' $T/pairs)
echo "the collector lacks $lack_p packets of $lack_f flows"
check "the collector lacks a.pcap's first 1000 packets, of its 20 flows" \
	[ "$lack_p $lack_f" = "1000 20" ]
grep -E 'lost|never exported' $T/up.log >$T/loss
cat $T/loss
n=$(grep -c 'were never exported' $T/loss)
check "one loss message ($n)" [ "$n" = 1 ]
read -r mp mf <<<"$(sed -n 's/.* \([0-9]*\) packets in \([0-9]*\) flows were never exported.*/\1 \2/p' $T/loss)"
check "its packets and flows = what the collector lacks ($mp $mf = $lack_p $lack_f)" \
	[ "$mp $mf" = "$lack_p $lack_f" ]
check "it is exact (no 'at most')" bash -c "! grep -q 'at most' $T/loss"
check "it says, once, that what came while no sampled captured is counted by no one" \
	[ "$(grep -c 'until this one captures them are counted by no one' $T/up.log)" = 1 ]
check "no other message counts a loss" \
	[ "$(grep -v 'were never exported' $T/loss | grep -cE '[0-9]+ (flows|packets)')" = 0 ]
finish
