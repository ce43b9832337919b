#!/usr/bin/env bash
# sampled's privileges, thread by thread: capset(2), PR_CAPBSET_DROP and
# PR_SET_NO_NEW_PRIVS act on the calling thread only, so a thread that
# exists before the drop keeps what it had: libzmq's I/O and reaper
# threads (they parse what comes off the network), the socket monitor of
# each tcp:// bus socket (lib/monitor.c). sampled runs as root under
# nsctl up with a live capture of a veth in a network namespace, two
# capture workers (threads of their own) and every bus endpoint on
# tcp:// under CURVE (a monitor thread per socket); then every thread of
# sampled (/proc/PID/task/*/status) must show the same CapEff, CapPrm,
# CapInh, CapBnd, CapAmb and NoNewPrivs as the main thread, and those
# must be net_raw + net_admin (their numbers read from
# <linux/capability.h>, not from the program), nothing inheritable or
# ambient, and no new privileges.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace and capabilities"
H=/usr/include/linux/capability.h
[ -r $H ] || skip "no $H (linux-libc-dev)"
[ "$(nproc)" -ge 2 ] || skip "one core: two workers would be refused"
watchdog 120

capnum() { awk -v n="$1" '$1 == "#define" && $2 == n { print $3 }' $H; }
raw=$(capnum CAP_NET_RAW)
admin=$(capnum CAP_NET_ADMIN)
[ -n "$raw" ] && [ -n "$admin" ] || skip "no CAP_NET_RAW/CAP_NET_ADMIN in $H"
WANT=$(((1 << raw) | (1 << admin)))

netns_new prth || { fail "ip netns add"; finish; }
netns_veth t || { fail "veth pair"; finish; }

K=$T/keys
"$NSCTL" keygen "$K" >/dev/null || fail "keygen $K"
export NETSTREAMD_CURVE_DIR=$K
# a namespace of the test's own: nothing listens on its loopback
p=31000
for name in CONTROL PLAN FLOWS ACKS STATS_IN STATS SLOT_1; do
	export NETSTREAMD_${name}_ENDPOINT=tcp://127.0.0.1:$p
	p=$((p + 1))
done

cat >$T/p.conf <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = 9; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address" ];
              collect = [ "packets", "bytes" ]; } );
slots = ( { id = 1; workers = 2; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "$CAP"; slot = 1;
    netstream = [ "inbound" ]; } );
CONF
ip netns exec "$NS" "$NSCTL" up -c $T/p.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'fanout group' $T/up.log" 300 || {
	fail "sampled made no fanout group (up.log: $(tail -3 $T/up.log))"
	finish
}
SD=$(pgrep -P $UP -x sampled)
[ -n "$SD" ] || { fail "no sampled under nsctl up"; finish; }

comms() { cat /proc/$SD/task/*/comm 2>/dev/null; }
# main, libzmq's two, two workers and at least one monitor
check "sampled has its threads: main, ZMQbg/IO/0, ZMQbg/Reaper, 2 workers, monitors" \
	wait_for '[ "$(comms | wc -l)" -ge 6 ] && comms | grep -qx "ZMQbg/IO/0" &&
		comms | grep -qx "ZMQbg/Reaper"' 100
echo "threads: $(comms | sort | uniq -c | tr -s ' \n' ' ')"
# (why no signal could carry the drop to libzmq's threads: they block all)
for t in /proc/$SD/task/*; do
	[ "$(cat $t/comm 2>/dev/null)" = ZMQbg/IO/0 ] &&
		echo "ZMQbg/IO/0 $(grep ^SigBlk: $t/status)"
done

field() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }
main=/proc/$SD/task/$SD/status
for k in CapEff CapPrm CapBnd; do
	v=$(field $k $main)
	check "main thread: $k $v is net_raw + net_admin ($(printf '%x' $WANT))" \
		[ "$((16#$v))" = "$WANT" ]
done
for k in CapInh CapAmb; do
	v=$(field $k $main)
	check "main thread: $k $v is empty" [ "$((16#$v))" = 0 ]
done
check "main thread: NoNewPrivs 1" [ "$(field NoNewPrivs $main)" = 1 ]

n=0
for st in /proc/$SD/task/*/status; do
	tid=${st#/proc/$SD/task/}
	tid=${tid%/status}
	name=$(cat /proc/$SD/task/$tid/comm 2>/dev/null)
	[ -r "$st" ] || continue
	n=$((n + 1))
	for k in CapEff CapPrm CapInh CapBnd CapAmb NoNewPrivs; do
		a=$(field $k "$st")
		b=$(field $k $main)
		[ -n "$a" ] || continue # gone in the meantime
		check "thread $tid ($name): $k $a as the main thread's ($b)" \
			[ "$a" = "$b" ]
	done
done
check "every thread was read ($n)" [ "$n" -ge 6 ]
finish
