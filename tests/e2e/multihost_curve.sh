#!/usr/bin/env bash
# Slots on other hosts (issue 25, 3 and 4), as docs/multihost.md deploys
# them: three network namespaces on one bridge, A (cfgd, exportd and
# nfcapd, started by `nsctl up`), B (sampled --slot 1) and C (sampled
# --slot 2); every process started from a config file (no endpoint or
# key variable), every endpoint on tcp:// under CURVE, each host with a
# key pair of its own (nsctl keygen on each; only public keys travel).
#   - nsctl up on A starts no sampled for the remote slots;
#   - C's client key not yet authorized on A: C is refused (A logs it)
#     and gets no plan, B's flows go through all the same; authorized
#     (and its sampled started again), C gets its plan;
#   - a server with a slot host's key is not taken for cfgd: nsctl
#     expecting A's key gets no answer from it (and one expecting B's
#     key does, so the key is the only difference);
#   - nsctl on A asks each slot's query socket with that slot's own
#     public key (display interface, display cache), and reads both
#     slots' counters (nsctl stats);
#   - the flows of both captures reach nfcapd: packets and bytes per
#     5-tuple equal tshark's reading of the two captures.
#   - exportd's acknowledgements reach both remote sampleds (issue 25, 1):
#     no batch left unacknowledged, none said so at the stop.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
command -v nfcapd >/dev/null && command -v nfdump >/dev/null || skip "no nfcapd/nfdump"
command -v tshark >/dev/null || skip "no tshark"
watchdog 400
unset NETSTREAMD_RUN_DIR # each host's config names its own

netns_new a || { fail "ip netns add"; finish; }
NA=$NS
netns_new b && NB=$NS
netns_new c && NC=$NS
in_a() { ip netns exec "$NA" "$@"; }
in_b() { ip netns exec "$NB" "$@"; }
in_c() { ip netns exec "$NC" "$@"; }
# one segment: a bridge on A, a veth from it to B and to C
in_a ip link add br0 type bridge && in_a ip link set br0 up &&
	in_a ip addr add 10.25.0.1/24 dev br0 || fail "bridge on A"
for h in b c; do
	nsname=$([ $h = b ] && echo "$NB" || echo "$NC")
	addr=$([ $h = b ] && echo 10.25.0.2 || echo 10.25.0.3)
	in_a ip link add v$h type veth peer name e$h &&
		in_a ip link set v$h master br0 && in_a ip link set v$h up &&
		in_a ip link set e$h netns "$nsname" &&
		ip netns exec "$nsname" ip addr add $addr/24 dev e$h &&
		ip netns exec "$nsname" ip link set e$h up || fail "veth to $h"
done

# --- keys: each host its own (run on that host), public keys exchanged
for h in a b c; do
	"$NSCTL" keygen "$T/$h/curve" >"$T/keygen-$h.out" || fail "keygen on $h"
done
pub() { cat "$T/$1/curve/$2.pub"; }
check "each host's server key is its own" \
	[ "$(pub a server)" != "$(pub b server)" -a "$(pub b server)" != "$(pub c server)" ]
check "keygen prints the server key for the config" \
	grep -qF "server_key = \"$(pub a server)\";" "$T/keygen-a.out"
# A lets B in (not C, yet); B and C let in A (nsctl asking their slots)
cp "$T/b/curve/client.pub" "$T/a/curve/authorized/b.pub"
cp "$T/a/curve/client.pub" "$T/b/curve/authorized/a.pub"
cp "$T/a/curve/client.pub" "$T/c/curve/authorized/a.pub"
check "no host holds another's secret key" \
	[ "$(cat $T/?/curve/server.key $T/?/curve/client.key | sort | uniq -d | wc -l)" = 0 ]

# --- the captures and what tshark reads in them
"$BIN/pcapgen" --flows 40 --packets 3000 --seed 25 -o $T/s1.pcap >/dev/null || fail "pcapgen 1"
"$BIN/pcapgen" --flows 60 --packets 5000 --seed 26 -o $T/s2.pcap >/dev/null || fail "pcapgen 2"
{ tshark_flows $T/s1.pcap; tshark_flows $T/s2.pcap; } |
	awk '{ k = $1 " " $2 " " $3 " " $4 " " $5; p[k] += $6; b[k] += $7 }
	END { for (k in p) print k, p[k], b[k] }' | sort >$T/want
pk1=$(tshark_flows $T/s1.pcap | awk '{ s += $6 } END { print s }')
pk2=$(tshark_flows $T/s2.pcap | awk '{ s += $6 } END { print s }')
check "tshark reads 100 flows in the two captures" [ "$(wc -l <$T/want)" -eq 100 ]

# --- one config; each host's copy differs in its run_dir and key dir
CP=5555
NF=9995
conf() { # conf HOST: that host's copy
	cat <<CONF
run_dir = "$T/$1/run";
database = "$T/$1/config.db";
endpoints = {
  control = "tcp://10.25.0.1:$CP"; plan = "tcp://10.25.0.1:$((CP + 1))";
  flows = "tcp://10.25.0.1:$((CP + 2))"; acks = "tcp://10.25.0.1:$((CP + 3))";
  stats_in = "tcp://10.25.0.1:$((CP + 4))"; stats = "tcp://10.25.0.1:$((CP + 5))";
  curve_dir = "$T/$1/curve";
  server_key = "$(pub a server)";
};
system = {
  export = { source = { address = "127.0.0.1"; };
             hosts = ( { address = "127.0.0.1"; port = $NF; } ); };
  apply_record = "five";
  aging = { active_minutes = 60; inactive_seconds = 600; };
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched" ]; } );
slots = (
  { id = 1; remote = true; endpoint = "tcp://10.25.0.2:5600";
    server_key = "$(pub b server)"; },
  { id = 2; remote = true; endpoint = "tcp://10.25.0.3:5600";
    server_key = "$(pub c server)"; }
);
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/s1.pcap"; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet2/0/0"; file = "$T/s2.pcap"; netstream = [ "inbound" ]; }
);
CONF
}
for h in a b c; do conf $h >$T/$h.conf; done
out=$("$NSCTL" validate --no-host-checks -c $T/a.conf 2>&1)
check "the config validates ($out)" [ $? -eq 0 ]

# --- A: nsctl up (cfgd, exportd), nfcapd
mkdir -p $T/nf
ip netns exec "$NA" nfcapd -p $NF -b 127.0.0.1 -w $T/nf -t 3600 >$T/nfcapd.log 2>&1 &
NFCAPD=$!
PIDS="$PIDS $NFCAPD"
ip netns exec "$NA" "$NSCTL" -c $T/a.conf up >$T/up.log 2>&1 &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 2 is remote' $T/up.log" 300 || fail "nsctl up did not start"
check "nsctl up says slot 1 is remote" grep -q 'slot 1 is remote: no sampled started here' $T/up.log
check "nsctl up starts no sampled for a remote slot" \
	bash -c "! grep -q 'started sampled' $T/up.log"
in_a "$NSCTL" -c $T/a.conf show effective >$T/eff 2>&1
check "show effective: slot 1 remote" grep -q '^  slot 1 sequence-mode packet remote$' $T/eff
check "show effective: slot 2 remote" grep -q '^  slot 2 sequence-mode packet remote$' $T/eff

# --- B and C: their sampled, from their config files only
export NETSTREAMD_HANDOVER_WAIT_MS=3000 # no acks over tcp:// yet (issue 25, 1)
ip netns exec "$NB" "$BIN/sampled" --slot 1 -c $T/b.conf 2>$T/b.log &
SB=$!
ip netns exec "$NC" "$BIN/sampled" --slot 2 -c $T/c.conf 2>$T/c.log &
SC=$!
PIDS="$PIDS $SB $SC"
cprefix=$(head -c 8 "$T/c/curve/client.pub")
check "C, not authorized on A, is refused and A logs its key" \
	wait_for "grep -qF 'refused CURVE client $cprefix from 10.25.0.3' $T/up.log" 300
check "B, authorized, gets its plan and replays its capture" \
	wait_for "grep -q 'slot 1: captures ended' $T/b.log" 600
check "C got no plan while refused" bash -c "! grep -q 'running generation' $T/c.log"
check "display slot on A: slot 2, refused, never seen" \
	bash -c "ip netns exec $NA '$NSCTL' -c $T/a.conf display slot 2 | grep -q '^2 *not connected, never seen'"

# --- a slot host's key cannot serve as cfgd's: a cfgd on B with B's keys
fake_env="NETSTREAMD_CONTROL_ENDPOINT=tcp://10.25.0.2:$CP NETSTREAMD_PLAN_ENDPOINT=tcp://10.25.0.2:$((CP + 1))
	NETSTREAMD_STATS_IN_ENDPOINT=tcp://10.25.0.2:$((CP + 4)) NETSTREAMD_STATS_ENDPOINT=tcp://10.25.0.2:$((CP + 5))"
ip netns exec "$NB" env $fake_env NETSTREAMD_RUN_DIR=$T/b/fake NETSTREAMD_CURVE_DIR=$T/b/curve \
	"$BIN/cfgd" -d $T/b/fake.db 2>$T/fake.log &
FAKE=$!
PIDS="$PIDS $FAKE"
wait_for "grep -q 'cfgd: serving' $T/fake.log" 300 || fail "the cfgd on B did not start"
in_a env NETSTREAMD_CONTROL_ENDPOINT=tcp://10.25.0.2:$CP NETSTREAMD_TIMEOUT_MS=2000 \
	"$NSCTL" -c $T/a.conf history >$T/fake-a.out 2>&1
rc=$?
check "nsctl expecting A's key gets no answer from a server with B's key (exit $rc)" [ $rc -eq 3 ]
in_a env NETSTREAMD_CONTROL_ENDPOINT=tcp://10.25.0.2:$CP NETSTREAMD_SERVER_KEY="$(pub b server)" \
	"$NSCTL" -c $T/a.conf history >$T/fake-b.out 2>&1
check "... and with B's key expected, the same server answers" [ $? -eq 0 ]
kill $FAKE; wait $FAKE 2>/dev/null

# --- C authorized on A, and its sampled started again: ZeroMQ does not
# retry a connection refused at the handshake (docs/multihost.md)
kill -TERM $SC
wait $SC
cp "$T/c/curve/client.pub" "$T/a/curve/authorized/c.pub"
ip netns exec "$NC" "$BIN/sampled" --slot 2 -c $T/c.conf 2>>$T/c.log &
SC=$!
PIDS="$PIDS $SC"
check "C, authorized, gets its plan and replays its capture" \
	wait_for "grep -q 'slot 2: captures ended' $T/c.log" 600
check "B kept running meanwhile" kill -0 $SB
for s in 1 2; do
	check "display slot on A: slot $s connected" \
		wait_for "ip netns exec $NA '$NSCTL' -c $T/a.conf display slot $s | grep -q '^$s *connected, last seen'" 100
done

# --- nsctl on A asks each slot with that slot's own public key
in_a "$NSCTL" -c $T/a.conf display interface >$T/disp.out 2>&1
check "display interface answers" [ $? -eq 0 ]
check "display interface: slot 1's packets as tshark counts them ($pk1)" \
	bash -c "grep -A5 '^Interface GigabitEthernet1/0/0 (slot 1' $T/disp.out | grep -q '^   Packets: $pk1,'"
check "display interface: slot 2's packets as tshark counts them ($pk2)" \
	bash -c "grep -A5 '^Interface GigabitEthernet2/0/0 (slot 2' $T/disp.out | grep -q '^   Packets: $pk2,'"
for s in 1 2; do
	in_a "$NSCTL" -c $T/a.conf display cache slot $s >$T/cache$s.out 2>&1
	check "display cache slot $s answers over tcp:// with its key" [ $? -eq 0 ]
done
check "display cache: each slot's sampled answers for itself" \
	bash -c "grep -q '^Slot 1: ' $T/cache1.out && grep -q '^Slot 2: ' $T/cache2.out"
# their counters, through cfgd's stats endpoint on A
for s in 1 2; do
	check "nsctl stats on A: sampled of slot $s, from its host" \
		bash -c "ip netns exec $NA timeout 20 '$NSCTL' -c $T/a.conf stats --json --slot $s -n 1 -t 15000 |
			grep -q '^{\"process\":\"sampled\",\"slot\":$s,'"
done
# a wrong key for a slot: nsctl gets no answer from it
in_a env NETSTREAMD_SLOT_2_SERVER_KEY="$(pub b server)" NETSTREAMD_TIMEOUT_MS=2000 \
	"$NSCTL" -c $T/a.conf display cache slot 2 >$T/cache-wrong.out 2>&1
check "display cache slot 2 expecting B's key gets no answer" [ $? -ne 0 ]

# exportd's acks reach each remote sampled: nothing held at the end
unacked() {
	ip netns exec $NA timeout 20 "$NSCTL" -c $T/a.conf stats --json --slot $1 -n 1 -t 15000 |
		grep -o '"name":"batches_unacked","value":[0-9]*' | head -1 | sed 's/.*://'
}
for s in 1 2; do
	check "slot $s: every batch acknowledged over tcp:// (batches_unacked 0)" \
		wait_for "[ \"\$(unacked $s)\" = 0 ]" 30
done

# --- stop the slots (every flow exported), then count at nfcapd
kill -TERM $SB $SC
wait $SB $SC
check "no slot's sampled says exportd did not acknowledge its batches" \
	bash -c "! grep -q 'did not acknowledge' $T/b.log $T/c.log"
# exportd exports what it holds when it stops
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly" [ $? -eq 0 ]
kill -TERM $NFCAPD
wait $NFCAPD
nfdump_flows $T/nf >$T/got
check "nfdump: packets and bytes per 5-tuple of both slots equal tshark's" same $T/want $T/got
finish
