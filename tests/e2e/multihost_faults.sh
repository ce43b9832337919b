#!/usr/bin/env bash
# The chassis over the network (issue 25): slots on hosts of their own.
# Three network namespaces: A (cfgd, exportd, nfcapd) and one per slot, B
# and C (sampled --slot 1, --slot 2, each with its own run directory),
# joined to A by veth pairs; every endpoint on tcp:// under CURVE, to
# A's address (bus_tcp) or the slot's own (its query socket). During two
# real-time replays, the faults the one-host tests inject, in turn:
# exportd killed (-9) and restarted, twice; B's link cut for 3 s; cfgd
# killed and restarted; a commit under traffic; C's sampled killed and
# restarted. Then: nothing unacknowledged, slot 1's flows at nfcapd equal
# tshark's reading of its capture, none twice of slot 2's and tshark's
# packets = nfdump's + what the restarted sampled reports lost; the
# sampleds were never restarted for exportd's sake.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 150
export LC_ALL=C
[ "$(id -u)" = 0 ] || skip "network namespaces need root"
command -v nfcapd >/dev/null || skip "no nfcapd"
command -v tshark >/dev/null || skip "no tshark"
NA=ns-$$-mha NB=ns-$$-mhb NC=ns-$$-mhc
mh_cleanup() {
	local n p
	for n in $NA $NB $NC; do
		for p in $(ip netns pids $n 2>/dev/null); do kill -9 $p 2>/dev/null; done
	done
	cleanup
	for n in $NA $NB $NC; do ip netns del $n 2>/dev/null; done
}
trap mh_cleanup EXIT
for n in $NA $NB $NC; do
	ip netns add $n || skip "cannot make network namespaces"
	ip netns exec $n ip link set lo up
done
# A's bus address 10.25.0.1 (on its loopback), B 10.25.1.2, C 10.25.2.2
ip netns exec $NA ip addr add 10.25.0.1/32 dev lo
veth() { # veth NS N: a link NS <-> A, 10.25.N.2 <-> 10.25.N.1
	local a=mh$1$$a b=mh$1$$b
	ip link add $a netns $NA type veth peer name $b netns $2 || return 1
	ip netns exec $NA ip addr add 10.25.$1.1/24 dev $a
	ip netns exec $NA ip link set $a up
	ip netns exec $2 ip addr add 10.25.$1.2/24 dev $b
	ip netns exec $2 ip link set $b up
	ip netns exec $2 ip route add 10.25.0.0/24 via 10.25.$1.1
}
veth 1 $NB || fail "veth to B"
veth 2 $NC || fail "veth to C"
LINK_B=mh1$$a # A's end: B keeps its link, its route, and loses the carrier

bus_tcp 10.25.0.1 || fail "bus_tcp"
export NETSTREAMD_SLOT_1_ENDPOINT=tcp://10.25.1.2:$((30000 + $$ % 1000))
export NETSTREAMD_SLOT_2_ENDPOINT=tcp://10.25.2.2:$((30000 + $$ % 1000))
RA=$T/run-a
mkdir -m 700 $T/run-1 $T/run-2 # a slot host's own (cfgd makes A's)
P=$((20000 + RANDOM % 10000))
# 16 s of capture per slot, 5000 packets/s over 6000 flows into a cache
# of 1024: batches leave all through the replays, the faults fall in them
"$BIN/pcapgen" --flows 6000 --packets 80000 --pps 5000 --seed 21 \
	-o $T/a.pcap >/dev/null || fail "pcapgen a"
"$BIN/pcapgen" --flows 6000 --packets 80000 --pps 5000 --seed 22 \
	-o $T/b.pcap >/dev/null || fail "pcapgen b"
conf() { # conf REFRESH: the group's config
	cat <<CONF
system = {
  export = { source = { address = "127.0.0.1"; };
             hosts = ( { address = "127.0.0.1"; port = $P; } );
             template_refresh_packets = $1; };
  apply_record = "five";
};
cache = { entries = 1024; full = "evict-oldest"; };
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 replay = "realtime"; netstream = [ "inbound" ]; },
               { name = "GigabitEthernet2/0/0"; file = "$T/b.pcap";
                 replay = "realtime"; netstream = [ "inbound" ]; } );
CONF
}
conf 20 >$T/a.conf
conf 10 >$T/b.conf

mkdir -p $T/nf
ip netns exec $NA nfcapd -p $P -b 127.0.0.1 -w $T/nf -t 3600 -B 4194304 >$T/nfcapd.out 2>&1 &
NF=$!
PIDS="$PIDS $NF"
# a_* run in A with A's run directory; sd N in the slot's namespace
a_cfgd() {
	NETSTREAMD_RUN_DIR=$RA ip netns exec $NA "$BIN/cfgd" -d $T/config.db 2>>$T/cfgd.log &
	CFGD=$!
	PIDS="$PIDS $CFGD"
	wait_for "grep -q 'cfgd: serving' $T/cfgd.log" 100 || fail "cfgd did not start"
}
a_exportd() {
	NETSTREAMD_RUN_DIR=$RA ip netns exec $NA "$BIN/exportd" 2>>$T/exportd.log &
	XD=$!
	PIDS="$PIDS $XD"
}
sd() { # sd N NS: sampled --slot N in NS, its own run directory
	NETSTREAMD_RUN_DIR=$T/run-$1 ip netns exec $2 "$BIN/sampled" --slot $1 \
		2>>$T/sampled-$1.log &
	eval SD$1=$!
	PIDS="$PIDS $!"
}
nsa() { NETSTREAMD_RUN_DIR=$RA ip netns exec $NA "$NSCTL" "$@"; }
a_cfgd
nsa commit -c $T/a.conf -m multihost >$T/commit.out 2>&1 ||
	fail "commit over tcp:// ($(cat $T/commit.out))"
a_exportd
sd 1 $NB
sd 2 $NC
# slot N's latest stats, "name value" per line
sd_stats() {
	timeout 5 env NETSTREAMD_RUN_DIR=$RA ip netns exec $NA "$NSCTL" stats --json -n 6 2>/dev/null |
		python3 -c '
import json, sys
last = {}
for line in sys.stdin:
    d = json.loads(line)
    if d.get("process") == "sampled" and d.get("slot") == int(sys.argv[1]):
        last = {c["name"]: c["value"] for c in d["counters"] if len(c) == 2}
for k, v in last.items():
    print(k, v)' "$1"
}
stat() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
pushed() { sd_stats $1 | awk '$1 == "records_pushed" && $2 > 0 { ok = 1 } END { exit !ok }'; }
check "both slots push flows over tcp:// from their namespaces (stats seen in A)" \
	wait_for "pushed 1 && pushed 2" 100

sleep 1.5
kill -9 $XD && a_exportd
check "exportd killed (-9) and restarted" [ -n "$XD" ]
sleep 1
ip netns exec $NA ip link set $LINK_B down
check "B's link cut" [ $? -eq 0 ]
sleep 1
kill -9 $CFGD
a_cfgd
check "cfgd killed (-9) and restarted" kill -0 $CFGD
sleep 2
ip netns exec $NA ip link set $LINK_B up
check "B's link back after 3 s" [ $? -eq 0 ]
nsa commit -c $T/b.conf -m "under traffic" >$T/commit2.out 2>&1
check "a commit under traffic reaches the group over tcp://" [ $? -eq 0 ]
check "C's sampled still replaying when killed" \
	[ "$(sd_stats 2 | awk '$1 == "captures_done" { print $2 }')" = 0 ]
kill -9 $SD2 && sd 2 $NC
check "C's sampled killed (-9) and restarted" [ $? -eq 0 ]
sleep 1
kill -9 $XD && a_exportd
check "exportd killed (-9) and restarted again" [ -n "$XD" ]

# the end: both captures done, nothing held unacknowledged
done_slot() {
	sd_stats $1 >$T/st$1
	[ "$(stat captures_done $T/st$1)" = 1 ] && [ "$(stat batches_unacked $T/st$1)" = 0 ]
}
check "slot 1: capture done and every batch acknowledged" wait_for "done_slot 1" 300
check "slot 2: capture done and every batch acknowledged" wait_for "done_slot 2" 300
echo "slot 1: $(tr '\n' ' ' <$T/st1 | grep -o 'batches_unacked [0-9]*\|batches_pushed [0-9]*' | tr '\n' ' ')"
kill $SD1 $SD2
wait $SD1 $SD2 2>/dev/null
sleep 1
kill $XD
wait $XD 2>/dev/null
kill -TERM $NF
wait $NF 2>/dev/null

check "slot 1's sampled pushed again what the killed exportds lacked" \
	grep -q 'pushing again' $T/sampled-1.log
check "C's new sampled went on after the packets accounted before" \
	grep -q 'were never exported' $T/sampled-2.log
check "no sampled said exportd did not acknowledge" \
	sh -c "! grep -q 'did not acknowledge' $T/sampled-*.log"
tshark_flows $T/a.pcap >$T/want1
tshark_flows $T/b.pcap >$T/want2
nfdump_flows $T/nf >$T/got
key() { awk '{ print $1"|"$2"|"$3"|"$4"|"$5, $6, $7 }' "$1" | sort; }
key $T/want1 >$T/k1
key $T/want2 >$T/k2
key $T/got >$T/kg
join -o 2.1,2.2,2.3 $T/k1 $T/kg >$T/got1
check "slot 1: nfdump's packets and bytes per 5-tuple equal tshark's" \
	same $T/k1 $T/got1
join -a 1 -e 0 -o 1.2,2.2 $T/k2 $T/kg >$T/pairs2
cat $T/k1 $T/k2 | sort >$T/kall
check "nfdump has no 5-tuple neither capture has" \
	[ -z "$(join -v 2 $T/kall $T/kg)" ]
check "slot 2: no 5-tuple has more packets at nfdump than tshark (nothing twice)" \
	awk '$2 > $1 { bad++ } END { exit bad > 0 }' $T/pairs2
want=$(awk '{ n += $2 } END { print n }' $T/k2)
got=$(awk '{ n += $2 } END { print n + 0 }' $T/pairs2)
lost=$(grep 'were never exported' $T/sampled-2.log |
	sed -n 's/.* \([0-9]*\) packets in [0-9]* flows were never exported.*/\1/p' |
	awk '{ n += $1 } END { print n + 0 }')
echo "slot 2: tshark $want packets, nfdump $((got)), reported lost $lost"
check "slot 2: tshark's packets = nfdump's + the reported loss ($want = $got + $lost)" \
	[ "$want" -eq $((got + lost)) ]
check "tshark: 80000 packets in each capture" \
	[ "$(awk '{ n += $2 } END { print n }' $T/k1)" -eq 80000 ] && [ "$want" -eq 80000 ]
check "nfcapd saw no sequence errors across the faults" \
	grep -q 'Sequence Errors: 0' $T/nfcapd.out
finish
