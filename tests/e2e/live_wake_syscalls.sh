#!/usr/bin/env bash
# What sampled's main loop costs per wake-up (issue 23, finding 5). Idle,
# with nothing to age, push or resend, the loop wakes for the stats and
# the once-a-second read of the bus only (counted first, 5 s under
# strace). Then, in a
# network namespace of the test's own, 6,000 packets are replayed into a
# captured veth at 2,000 packets/s while strace follows sampled's main
# thread (not the workers, none here). A round of the loop is one wait
# (epoll_wait) over the ring's descriptor and the bus's; the ring hands
# a block over at least every LIVE_BLOCK_MS (20 ms) while packets come,
# so rounds are many. The design: a round that only reads the ring makes
# no other poll() or getpid() (libzmq's mailbox checks make two for each
# socket read, a dozen a round when every socket is read); a socket is
# read when its ZMQ_FD is readable and every BUS_ALL_MS (1 s) whatever
# it says, and the stats go out once a second. So the other poll() and
# getpid() calls are at most 30 per second the trace lasted (strace's
# own timestamps), however many rounds (reading every socket every 100
# ms, as before, made about 90 a second); the wait's descriptors are not put
# again at every round (no epoll_ctl but when the set changes). Exported
# packets equal tshark's count, so nothing was lost to the saving.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
for tool in tcpreplay tshark strace; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
watchdog 120

netns_new wake || { fail "ip netns add"; finish; }
netns_veth w || { fail "veth pair"; finish; }
"$BIN/pcapgen" --flows 50 --packets 6000 --pps 2000 --seed 5 --snaplen 200 \
	-o $T/a.pcap >/dev/null || fail "pcapgen"

P=$((20000 + RANDOM % 20000))
cat >$T/wake.conf <<CONF
system = {
  export = { hosts = ( { address = "::1"; port = $P; } ); };
  apply_record = "r";
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port", "direction" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "$CAP"; buffer_kb = 4096;
    netstream = [ "inbound" ]; } );
CONF
ns_group_up $T/wake.conf 'slot 1: running generation 1' ||
	{ fail "sampled did not start: $(tail -2 $T/up.log)"; finish; }
# sampled: a descendant of this nsctl up
desc() { local c; for c in $(ps -o pid= --ppid "$1"); do echo $c; desc $c; done; }
SPID=
for p in $(desc $UP); do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = sampled ] && SPID=$p
done
[ -n "$SPID" ] || { fail "no sampled under nsctl up"; finish; }
sleep 0.5
# idle first: no packet yet, no flow in the cache, nothing batched or
# held for exportd. Only the stats (once a second) and the read of every
# socket (once a second) are due: at most 3 rounds a second, where a
# loop that wakes every BUS_TICK_MS for timers with nothing to do makes
# 10 (and the bare ring reader of bench/ 10, its poll's timeout)
strace -qq -ttt -e trace=epoll_wait -o $T/idle -p $SPID 2>$T/strace.log &
ST=$!
PIDS="$PIDS $ST"
sleep 5
kill -INT $ST
wait $ST 2>/dev/null
grep -q 'Operation not permitted' $T/strace.log &&
	skip "strace cannot attach: $(head -1 $T/strace.log)"
read -r IDLE ISECS <<<"$(awk '/ epoll_wait\(/ { t = $1; if (!f) f = t; l = t; r++ }
END { printf "%d %.1f\n", r, l - f }' $T/idle)"
echo "# idle: $IDLE rounds in ${ISECS} s"
check "idle, the loop goes round $IDLE times in ${ISECS} s: at most 3 a second, at least 1 (the stats)" \
	awk -v r="$IDLE" -v s="$ISECS" 'BEGIN { exit !(s >= 3 && r >= s - 1 && r <= 3 * (s + 1)) }'
strace -qq -ttt -e trace=poll,getpid,epoll_wait,epoll_ctl -o $T/trace -p $SPID 2>$T/strace.log &
ST=$!
PIDS="$PIDS $ST"
wait_for "[ -s $T/trace ]" 50 || true
ns tcpreplay -q -i "$PEER" $T/a.pcap >$T/replay.log 2>&1 ||
	fail "tcpreplay: $(tail -1 $T/replay.log)"
sleep 0.3
kill -INT $ST
wait $ST 2>/dev/null
grep -q 'Operation not permitted' $T/strace.log &&
	skip "strace cannot attach: $(head -1 $T/strace.log)"
sleep 1
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
kill -TERM $COL
wait $COL 2>/dev/null

# rounds: the loop's own wait (epoll_wait); the rest: ZeroMQ's
# single-descriptor polls and getpid (its I/O thread's epoll_wait is in
# another thread, not traced); epoll_ctl: the set put again
awk '
/ epoll_wait\(/ { t = $1; if (!f) f = t; l = t; r++ }
/ poll\(\[/ { t = $1; if (!f) f = t; l = t; o++ }
/ getpid\(/ { t = $1; if (!f) f = t; l = t; o++ }
/ epoll_ctl\(/ { c++ }
END { secs = int(l - f) + 1
	printf "%d %d %d %d %d\n", r, o, secs, 30 * secs, c }' $T/trace >$T/counts
read -r ROUNDS OTHER SECS BOUND CTL <$T/counts
echo "# rounds $ROUNDS, other poll/getpid $OTHER, seconds $SECS, bound $BOUND, epoll_ctl $CTL"
check "the trace saw the loop go round ($ROUNDS rounds, at least 100)" \
	[ "${ROUNDS:-0}" -ge 100 ]
check "other poll/getpid calls $OTHER <= 30 a second = $BOUND" \
	[ "${OTHER:-999999}" -le "${BOUND:-0}" ]
check "the wait's set is not put again round by round ($CTL epoll_ctl)" \
	[ "${CTL:-999999}" -le 10 ]

tshark_flows $T/a.pcap | sort >$T/want
grep ' direction=0 ' $T/collect.txt >$T/sel
collect_flows $T/sel | sort >$T/got
check "exported flows equal tshark's count of the replayed capture" \
	same $T/want $T/got
kill $WATCHDOG 2>/dev/null
finish
