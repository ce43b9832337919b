#!/usr/bin/env bash
# The wall clock steps under a live group (issue 21): the whole group runs
# under libfaketime (Debian's libfaketime), whose clock a file sets while
# the monotonic clock stays true, as an NTP step or an operator's `date`
# would move it. Traffic over a veth pair in a namespace of the test's
# own; tshark captures the same device for the truth, and the export.
#   A  sent at +0; the clock steps to +3600 s; A ages on its inactive
#      timer while the clock says +3600: its times are tshark's + 3600 s,
#      as the exporter's clock (and its v9 header) now says
#   B  sent at +3600; the clock steps back to +0 with B in the cache: B
#      ages on time all the same (the cache empties within inactive + 3 s)
#      and its times are tshark's
#   C  sent at +0; the clock steps forward by a day: C does not age at
#      once (no flood), then ages on time, its times tshark's + 1 day
# Every flow's packets and bytes equal tshark's; sampled counts 3 steps.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/interop_lib.sh"
il_skip_unless tshark tcpreplay nfcapd
FT=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
[ -n "$FT" ] || { fail "libfaketime is not installed (tools/install-deps)"; finish; }
watchdog 300
cd "$ROOT" || exit 1

netns_new clk || { fail "ip netns add"; finish; }
netns_veth k || { fail "veth pair"; finish; }
IL_EXEC="ip netns exec $NS"
INACTIVE=5

for s in 1 2 3; do
	"$BIN/pcapgen" --flows 100 --packets 300 --pps 300 --seed $s \
		--snaplen 1514 -o $T/$s.pcap >/dev/null || fail "pcapgen $s"
done
P=$(il_port)
cat >$T/live.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; };
             hosts = ( { address = "127.0.0.1"; port = $P; } ); };
  apply_record = "r";
  aging = { active_minutes = 30; inactive_seconds = $INACTIVE; };
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched",
              "flow-end-reason" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; device = "$CAP";
                 buffer_kb = 8192; netstream = [ "inbound" ]; } );
CONF

# the truth: the device as tshark captures it, and the export
ns tshark -q -i "$CAP" -f ip6 -w $T/wire.pcapng -a duration:140 >$T/wire.log 2>&1 &
PIDS="$PIDS $!"
WIRE=$!
wait_for "grep -qs Capturing $T/wire.log" 50 || fail "tshark on $CAP"
il_nfcapd nf "$P"
il_wait_ready "$P"
il_tshark exp "$P"

echo +0 >$T/clock
# an ASan build wants its runtime first of the preloaded libraries
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	FAKETIME_TIMESTAMP_FILE=$T/clock FAKETIME_NO_CACHE=1 \
	FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD=$FT \
	ip netns exec "$NS" "$NSCTL" up -c $T/live.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: running generation 1: 1 bindings, 1 captures' $T/up.log" 100 ||
	fail "sampled did not open $CAP"
sleep 0.5

stat() { # the value of a sampled counter
	ip netns exec "$NS" timeout 5 "$NSCTL" stats --json --slot 1 -n 1 2>/dev/null |
		grep -o "{\"name\":\"$1\",\"value\":[0-9]*" | tail -1 | sed 's/.*://'
}
replay() { ns tcpreplay -q --pps 300 -i "$PEER" $T/$1.pcap >$T/replay_$1.log 2>&1 || fail "tcpreplay $1"; }
empty() { [ "$(stat flows_in_cache)" = 0 ]; }

# A at +0, then +3600 before A ages
replay 1
echo +3600 >$T/clock
check "A: in the cache after the step forward (no flood)" [ "$(stat flows_in_cache)" = 100 ]
check "A: ages on its timer while the clock says +3600" wait_for empty $(((INACTIVE + 3) * 10))

# B at +3600, then back to +0 with B in the cache
replay 2
echo +0 >$T/clock
t0=$(date +%s%N)
check "B: in the cache as the clock steps back" [ "$(stat flows_in_cache)" = 100 ]
check "B: the cache empties on time after the step back" wait_for empty $(((INACTIVE + 3) * 10))
t1=$(date +%s%N)
check "B: aged within inactive + 3 s of the step ($(((t1 - t0) / 1000000)) ms)" \
	[ $(((t1 - t0) / 1000000)) -le $(((INACTIVE + 3) * 1000)) ]

# C at +0, then a day forward
replay 3
echo +86400 >$T/clock
sleep 1
check "C: not aged at once by a step forward of a day" [ "$(stat flows_in_cache)" = 100 ]
check "C: ages on its timer" wait_for empty $(((INACTIVE + 3) * 10))
check "sampled counted 3 steps of the wall clock" [ "$(stat clock_steps)" = 3 ]
check "the step was logged" grep -q 'the wall clock stepped by +3600' $T/up.log

kill -TERM $UP
wait $UP
check "nsctl up stops cleanly" [ $? -eq 0 ]
sleep 0.5
il_stop nf exp
kill -INT $WIRE 2>/dev/null
wait $WIRE 2>/dev/null

# per flow: the truth from the device's capture, shifted by the clock the
# exporter had when each set of flows aged
: >$T/none
il_py expect $T/wire.pcapng $T/none 0 0 >$T/want_all
il_py tshark $T/exp.pcapng "$P" >$T/got_all
il_py nfdump $T/nf >$T/nf_all
shift_ms() { # shift_ms PREFIX MS: the flows of a source prefix, times moved
	grep "^key=$1" $T/want_all | awk -v d="$2" '{
		for (i = 1; i <= NF; i++) if ($i ~ /^(first|last)=/) {
			split($i, kv, "="); $i = kv[1] "=" sprintf("%.0f", kv[2] + d) }
		print }'
}
pick() { grep "^key=$1" "$2"; }
for x in "A 2001:db8:1: 3600000" "B 2001:db8:2: 0" "C 2001:db8:3: 86400000"; do
	set -- $x
	shift_ms $2 $3 >$T/want_$1
	pick $2 $T/got_all >$T/got_$1
	pick $2 $T/nf_all >$T/nf_$1
	check "$1: tshark saw 100 flows on the wire" [ "$(wc -l <$T/want_$1)" = 100 ]
	il_fields "$1 (tshark, v9)" $T/want_$1 $T/got_$1 packets bytes
	il_fields "$1 (tshark, v9)" $T/want_$1 $T/got_$1 3 first last
	il_fields "$1 (nfdump)" $T/want_$1 $T/nf_$1 packets bytes
	il_fields "$1 (nfdump)" $T/want_$1 $T/nf_$1 3 first last
done
finish
