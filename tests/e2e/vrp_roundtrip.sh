#!/usr/bin/env bash
# The vendor's lines and netstreamd.conf say the same: for every config
# of tests/config that validates, the documented example and the demo,
#   V1 = nsctl vrp export -c X, C1 = nsctl vrp import V1,
#   V2 = nsctl vrp export -c C1, C2 = nsctl vrp import V2:
# V2 is V1 and C2 is C1 (a fixed point), and X and C1 committed one after
# the other run the same plan: `nsctl show effective` is identical but
# for the revision and the config line numbers its "not effective" items
# name. `nsctl display current-configuration` of C1 is V1.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
# the tcp:// cases name endpoints of their own: the variable wins
export NETSTREAMD_CONTROL_ENDPOINT=ipc://$NETSTREAMD_RUN_DIR/control

eff() { # the running plan, without what names a revision or a line
	"$NSCTL" show effective | sed -e '1s/^revision [0-9]* (generation [0-9]*)$/revision/' \
		-e 's/^  line [0-9]*: /  /'
}

start_cfgd
n=0
for conf in etc/netstreamd.conf etc/demo.conf tests/config/*.conf; do
	exp=${conf%.conf}.expect
	[ -e "$exp" ] && grep -q ': error: ' "$exp" && continue
	"$NSCTL" validate --no-host-checks -c "$conf" >/dev/null 2>&1 || continue
	n=$((n + 1))
	before=$FAILS
	"$NSCTL" vrp export -c "$conf" >$T/v1 2>$T/err ||
		{ fail "$conf: export: $(cat $T/err)"; continue; }
	"$NSCTL" vrp import --no-host-checks $T/v1 >$T/c1.conf 2>$T/err ||
		{ fail "$conf: import of its export: $(head -3 $T/err)"; continue; }
	"$NSCTL" vrp export -c $T/c1.conf >$T/v2 2>$T/err || fail "$conf: export of C1"
	cmp -s $T/v1 $T/v2 || { fail "$conf: export of the import differs:"; diff $T/v1 $T/v2 | head -10; }
	cp $T/v2 $T/v1
	"$NSCTL" vrp import --no-host-checks $T/v1 >$T/c2.conf 2>/dev/null
	cmp -s $T/c1.conf $T/c2.conf || fail "$conf: import of the second export differs"
	"$NSCTL" commit -c "$conf" >/dev/null 2>&1 || { fail "$conf: commit"; continue; }
	eff >$T/e0
	"$NSCTL" commit -c $T/c1.conf >$T/err 2>&1 || { fail "$conf: commit of C1: $(cat $T/err)"; continue; }
	eff >$T/e1
	cmp -s $T/e0 $T/e1 || { fail "$conf: show effective differs:"; diff $T/e0 $T/e1 | head -10; }
	"$NSCTL" display current-configuration >$T/cur 2>$T/err
	cmp -s $T/cur $T/v1 || fail "$conf: display current-configuration is not its export: $(head -2 $T/err)"
	[ "$FAILS" -eq "$before" ] && ok "$conf: fixed point, same plan"
done
check "$n configs went round" [ "$n" -gt 50 ]
# revision 1 was etc/netstreamd.conf (its original text, then C1's)
"$NSCTL" vrp export -c etc/netstreamd.conf >$T/v1
"$NSCTL" vrp export --revision 1 >$T/r1 2>$T/err
check "vrp export --revision 1 is the export of the file committed ($(cat $T/err))" cmp -s $T/v1 $T/r1
"$NSCTL" vrp export --revision 100000 >$T/r1 2>$T/err
rc=$?
check "vrp export --revision of no revision: exit 1 ($rc), nothing on stdout" \
	bash -c "[ $rc -eq 1 ] && [ ! -s $T/r1 ] && [ -s $T/err ]"

# the seeds' procedures: import, export, import again
cat >$T/seed.vrp <<'EOF'
system-view
ipv6 netstream record web
 match ipv6 source-address
 match ipv6 destination-address
 collect counter packets
 quit
ipv6 netstream export version 9 peer-as bgp-nexthop
slot 1
 ip netstream export sequence-mode flow
 ipv6 netstream export host ipv6 2001:db8::200 9996
 quit
ipv6 netstream apply record web
ipv6 netstream export template timeout-rate 15
ipv6 netstream export source ipv6 2001:db8::1
ipv6 netstream export host ipv6 2001:db8::100 9995 vpn-instance blue version ipfix dscp 10
ipv6 netstream aggregation timeout active interval-second 45
ipv6 netstream aggregation timeout inactive 600
ipv6 netstream monitor m1
 ipv6 netstream export host 192.0.2.50 2055
 ipv6 netstream export source 192.0.2.1 40001
 apply record web
 quit
interface GigabitEthernet1/0/0
 ipv6 netstream inbound
 ipv6 netstream monitor m1 inbound
 ipv6 netstream sampler fix-time 100 inbound
commit
EOF
"$NSCTL" vrp import --no-host-checks --device GigabitEthernet1/0/0=nsrt0 $T/seed.vrp >$T/s1.conf 2>$T/err
check "seeds: import ($(head -2 $T/err))" [ -s $T/s1.conf ]
"$NSCTL" vrp export -c $T/s1.conf >$T/s1.vrp
"$NSCTL" vrp import --no-host-checks $T/s1.vrp >$T/s2.conf 2>/dev/null
"$NSCTL" vrp export -c $T/s2.conf >$T/s2.vrp
check "seeds: export of the import of the export is the export" cmp -s $T/s1.vrp $T/s2.vrp
check "seeds: the same config (but the header's file name)" \
	bash -c "diff <(tail -n +2 $T/s1.conf) <(tail -n +2 $T/s2.conf)"
"$NSCTL" commit -c $T/s1.conf >/dev/null 2>&1
eff >$T/e0
"$NSCTL" commit -c $T/s2.conf >/dev/null 2>&1
eff >$T/e1
check "seeds: the same plan" cmp -s $T/e0 $T/e1
check "seeds: the export keeps the capture source as # netstreamd: device" \
	grep -q '^ # netstreamd: device nsrt0$' $T/s1.vrp
check "seeds: the export ends with return" bash -c "tail -1 $T/s1.vrp | grep -qx return"
stop_cfgd
finish
