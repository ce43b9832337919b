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
# ambient, and no new privileges. cfgd (it parses what the bus sends and
# listens on tcp://) and exportd the same, thread by thread: cfgd keeps
# only net_bind_service, exportd net_bind_service + net_raw.
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
bind=$(capnum CAP_NET_BIND_SERVICE)
[ -n "$raw" ] && [ -n "$admin" ] && [ -n "$bind" ] ||
	skip "no CAP_NET_RAW/CAP_NET_ADMIN/CAP_NET_BIND_SERVICE in $H"
WANT=$(((1 << raw) | (1 << admin)))
WANT_CFGD=$((1 << bind))
WANT_EXPORTD=$(((1 << bind) | (1 << raw)))

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
CD=$(pgrep -P $UP -x cfgd)
XD=$(pgrep -P $UP -x exportd)
[ -n "$SD" ] || { fail "no sampled under nsctl up"; finish; }
[ -n "$CD" ] || { fail "no cfgd under nsctl up"; finish; }
[ -n "$XD" ] || { fail "no exportd under nsctl up"; finish; }

comms() { cat /proc/$1/task/*/comm 2>/dev/null; }
# main, libzmq's two, two workers and at least one monitor
check "sampled has its threads: main, ZMQbg/IO/0, ZMQbg/Reaper, 2 workers, monitors" \
	wait_for '[ "$(comms $SD | wc -l)" -ge 6 ] && comms $SD | grep -qx "ZMQbg/IO/0" &&
		comms $SD | grep -qx "ZMQbg/Reaper"' 100
# main, libzmq's two, and a monitor per tcp:// socket
for d in cfgd:$CD exportd:$XD; do
	check "${d%%:*} has its threads: main, ZMQbg/IO/0, ZMQbg/Reaper, monitors" \
		wait_for '[ "$(comms ${d#*:} | wc -l)" -ge 4 ] &&
			comms ${d#*:} | grep -qx "ZMQbg/IO/0" &&
			comms ${d#*:} | grep -qx "ZMQbg/Reaper"' 100
done
for d in sampled:$SD cfgd:$CD exportd:$XD; do
	echo "${d%%:*} threads: $(comms ${d#*:} | sort | uniq -c | tr -s ' \n' ' ')"
done
# (why no signal could carry the drop to libzmq's threads: they block all)
for t in /proc/$SD/task/*; do
	[ "$(cat $t/comm 2>/dev/null)" = ZMQbg/IO/0 ] &&
		echo "ZMQbg/IO/0 $(grep ^SigBlk: $t/status)"
done

field() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }

# every_thread NAME PID WANT NAMES MIN: the main thread holds WANT (named
# NAMES) and nothing more; every thread the same as the main one
every_thread() {
	local who=$1 pid=$2 want=$3 names=$4 min=$5 main k v n st tid name a b
	main=/proc/$pid/task/$pid/status
	for k in CapEff CapPrm CapBnd; do
		v=$(field $k $main)
		check "$who main thread: $k $v is $names ($(printf '%x' $want))" \
			[ "$((16#$v))" = "$want" ]
	done
	for k in CapInh CapAmb; do
		v=$(field $k $main)
		check "$who main thread: $k $v is empty" [ "$((16#$v))" = 0 ]
	done
	check "$who main thread: NoNewPrivs 1" [ "$(field NoNewPrivs $main)" = 1 ]
	n=0
	for st in /proc/$pid/task/*/status; do
		tid=${st#/proc/$pid/task/}
		tid=${tid%/status}
		name=$(cat /proc/$pid/task/$tid/comm 2>/dev/null)
		[ -r "$st" ] || continue
		n=$((n + 1))
		for k in CapEff CapPrm CapInh CapBnd CapAmb NoNewPrivs; do
			a=$(field $k "$st")
			b=$(field $k $main)
			[ -n "$a" ] || continue # gone in the meantime
			check "$who thread $tid ($name): $k $a as the main thread's ($b)" \
				[ "$a" = "$b" ]
		done
	done
	check "$who: every thread was read ($n)" [ "$n" -ge "$min" ]
}
every_thread sampled $SD $WANT "net_raw + net_admin" 6
every_thread cfgd $CD $WANT_CFGD "net_bind_service" 4
every_thread exportd $XD $WANT_EXPORTD "net_bind_service + net_raw" 4
finish
