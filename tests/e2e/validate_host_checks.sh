#!/usr/bin/env bash
# Mistakes caught before they run (issue 16, a). cfgd runs in a network
# namespace of the test's own, where it commits one config four times:
#  1. the hosts' vpn_instance is no device there, the interface's capture
#     device neither (issue 22) and the export source no address there:
#     each is a warning at its own line (file:line: warning: ...), the
#     commit still goes ahead; an interface with
#     netstream outbound that no record applies to gets a notice at its
#     netstream line; nsctl validate in the namespace says the same, and
#     with --no-host-checks only the notice;
#  2. devices of the VPN instance's and the capture device's names
#     made: their warnings are gone;
#  3. the source address put on an interface of the namespace (nodad):
#     no warning is left;
#  4. other sources: one tentative (DAD held up for a minute on a veth)
#     and one link-local without a VPN instance: each a warning saying so.
# Every expected line number is grep -n of the config this test writes.
# The namespace and its devices are deleted on exit.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
NS=ns-$$-hc
VPN=hcv$$ # at most 15 characters: a device name
ns_cleanup() {
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	cleanup
	ip netns del "$NS" 2>/dev/null
}
trap ns_cleanup EXIT
watchdog 60
ip netns add "$NS" 2>/dev/null || skip "cannot make a network namespace (ip netns add needs root)"
ip -n "$NS" link set lo up
# a device that carries nothing: dummy, or where the kernel has no dummy
# driver an empty bridge (both are only names and addresses here)
mkdev() {
	ip -n "$NS" link add "$1" type dummy 2>/dev/null ||
		ip -n "$NS" link add "$1" type bridge || return 1
	ip -n "$NS" link set "$1" up
}
mkdev hcprobe || skip "the kernel makes neither dummy nor bridge devices"
ip -n "$NS" link del hcprobe

cat >$T/h.conf <<CONF
system = {
  export = {
    source = { address = "2001:db8:5a::1"; port = 40000; };
    hosts = ( { address = "2001:db8:5a::100"; port = 9995;
                vpn_instance = "$VPN"; } );
  };
};
records = ( { name = "r"; match = [ "source-address" ]; collect = [ "packets" ]; } );
monitors = ( { name = "m1"; apply_record = "r";
               hosts = ( { address = "2001:db8:5a::101"; port = 9996; } ); } );
interfaces = ( { name = "GigabitEthernet1/0/0"; device = "nsdev$$";
                 netstream = [ "inbound", "outbound" ];
                 monitors = ( { name = "m1"; direction = "inbound"; } ); } );
CONF
line() { grep -n -- "$1" "$2" | head -1 | cut -d: -f1; }
L_SRC=$(line 'address = "2001:db8:5a::1"' $T/h.conf)
L_VPN=$(line "vpn_instance = \"$VPN\"" $T/h.conf)
L_NS=$(line 'netstream = ' $T/h.conf)
L_DEV=$(line "device = \"nsdev$$\"" $T/h.conf)
F=$T/h.conf
W_VPN="^$F:$L_VPN: warning: host 2001:db8:5a::100 port 9995 in the system view: vpn_instance \"$VPN\" is not a network device on this host"
W_SRC="^$F:$L_SRC: warning: export source 2001:db8:5a::1 of the system view is not an address of this host"
W_DEV="^$F:$L_DEV: warning: interface GigabitEthernet1/0/0: device \"nsdev$$\" is not a network device on this host: sampled waits for it"
N_OUT="^$F:$L_NS: notice: interface GigabitEthernet1/0/0: netstream outbound is enabled but no record applies"

ip netns exec "$NS" "$BIN/cfgd" -d $T/config.db 2>>$T/cfgd.log &
CFGD_PID=$!
PIDS="$PIDS $CFGD_PID"
wait_for "[ -S $NETSTREAMD_RUN_DIR/control ]" || fail "cfgd did not start in $NS"

commit() { # commit N [FILE]: committed from $NS, output in $T/cN.out
	ip netns exec "$NS" "$NSCTL" commit -c "${2:-$F}" -m "$1" >$T/c$1.out 2>&1
	echo "exit $?" >>$T/c$1.out
}
has() { grep -qE -- "$2" "$1"; }
hasnt() { ! grep -qE -- "$2" "$1"; }

# 1. neither the device nor the address is there
commit 1
check "1: the commit goes ahead (exit 0, revision 1)" \
	bash -c "grep -q '^committed revision 1$' $T/c1.out && grep -q '^exit 0$' $T/c1.out"
check "1: warning at line $L_VPN: vpn_instance $VPN is no device here" has $T/c1.out "$W_VPN"
check "1: warning at line $L_SRC: the source is no address here" has $T/c1.out "$W_SRC"
check "1: warning at line $L_DEV: the capture device is no device here" has $T/c1.out "$W_DEV"
check "1: notice at line $L_NS: outbound is enabled, no record applies" has $T/c1.out "$N_OUT"
check "1: no notice for inbound (monitor m1 applies r there)" \
	hasnt $T/c1.out "notice: interface GigabitEthernet1/0/0: netstream inbound"
check "1: three warnings, each once" [ "$(grep -c ': warning: ' $T/c1.out)" = 3 ]
ip netns exec "$NS" "$NSCTL" validate -c $F >$T/v1.out 2>&1
check "1: nsctl validate in $NS: exit 0" [ $? -eq 0 ]
check "1: ... the same warnings and notice" \
	bash -c "grep -qE -- '$W_VPN' $T/v1.out && grep -qE -- '$W_SRC' $T/v1.out && grep -qE -- '$W_DEV' $T/v1.out && grep -qE -- '$N_OUT' $T/v1.out"
ip netns exec "$NS" "$NSCTL" validate --no-host-checks -c $F >$T/v1n.out 2>&1
check "1: validate --no-host-checks: the notice, no warning" \
	bash -c "grep -qE -- '$N_OUT' $T/v1n.out && ! grep -q ': warning: ' $T/v1n.out"

# 2. the VPN instance's device and the capture device exist
mkdev "$VPN" || fail "device $VPN"
mkdev "nsdev$$" || fail "device nsdev$$"
commit 2
check "2: committed (revision 2)" grep -q '^committed revision 2$' $T/c2.out
check "2: no warning about the VPN instance" hasnt $T/c2.out "vpn_instance"
check "2: no warning about the capture device" hasnt $T/c2.out "device \"nsdev$$\""
check "2: the source is still no address here" has $T/c2.out "$W_SRC"

# 3. the source address on an interface of the namespace
mkdev hcsrc$$ || fail "device hcsrc$$"
ip -n "$NS" -6 addr add 2001:db8:5a::1/64 dev hcsrc$$ nodad || fail "address"
commit 3
check "3: committed (revision 3)" grep -q '^committed revision 3$' $T/c3.out
check "3: no warning left" hasnt $T/c3.out ': warning: '
check "3: the notice stays" has $T/c3.out "$N_OUT"
check "3: cfgd has every revision" \
	[ "$(ip netns exec "$NS" "$NSCTL" history | grep -c '^[0-9]')" = 3 ]

# 4. a tentative source (DAD on a veth, held up for a minute) and a
# link-local one without a VPN instance, in two monitors
ip -n "$NS" link add hct$$ type veth peer name hcu$$ || fail "veth"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.hct$$.dad_transmits=1 \
	net.ipv6.neigh.hct$$.retrans_time_ms=60000 || fail "sysctl"
ip -n "$NS" link set hcu$$ up
ip -n "$NS" link set hct$$ up
ip -n "$NS" -6 addr add 2001:db8:5b::1/64 dev hct$$ || fail "tentative address"
cat >$T/t.conf <<CONF
system = { export = { hosts = ( { address = "2001:db8:5b::100"; port = 9995; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address" ]; collect = [ "packets" ]; } );
monitors = (
  { name = "mt"; apply_record = "r";
    source = { address = "2001:db8:5b::1"; };
    hosts = ( { address = "2001:db8:5b::101"; port = 9996; } ); },
  { name = "ml"; apply_record = "r";
    source = { address = "fe80::5c"; };
    hosts = ( { address = "fe80::5d"; port = 9997; } ); } );
interfaces = ( { name = "GigabitEthernet1/0/0"; device = "nsdev$$";
                 netstream = [ "inbound" ];
                 monitors = ( { name = "mt"; direction = "inbound"; } ); } );
CONF
L_T=$(line 'address = "2001:db8:5b::1"' $T/t.conf)
L_L=$(line 'address = "fe80::5c"' $T/t.conf)
check "4: the address is tentative (ip says so)" \
	bash -c "ip -n $NS -6 addr show dev hct$$ | grep '2001:db8:5b::1/64' | grep -q tentative"
commit 4 $T/t.conf
check "4: committed (revision 4)" grep -q '^committed revision 4$' $T/c4.out
check "4: warning at line $L_T: the source is tentative on hct$$" has $T/c4.out \
	"^$T/t.conf:$L_T: warning: export source 2001:db8:5b::1 of monitor mt is tentative on hct$$"
check "4: warning at line $L_L: a link-local source needs a device" has $T/c4.out \
	"^$T/t.conf:$L_L: warning: export source fe80::5c of monitor ml is link-local"
check "4: two warnings" [ "$(grep -c ': warning: ' $T/c4.out)" = 2 ]
kill $WATCHDOG 2>/dev/null
finish
