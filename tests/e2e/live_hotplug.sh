#!/usr/bin/env bash
# Devices that come, go and come back (issue 22, finding 1). In a network
# namespace of its own, a config names five devices none of which exists:
# nsctl validate and the commit warn at each device's line (and go ahead);
# --no-host-checks leaves the warnings out. The group runs; display
# interface (text and JSON) shows each capture waiting, "No such device".
# Then, with no commit at all:
#  - veth $D is made: slot 1 captures it within two seconds; a.pcap,
#    replayed into its peer, is counted exactly (tshark's flows); $D is
#    deleted: the capture stops (counted), its flows are aged at once,
#    forced (4), and exported while the group still runs; made again: it
#    captures again (started twice, stopped once); down for a second it
#    stays captured (and sampled does not spin); b.pcap is exact;
#  - a veth made under another name and renamed to the configured one is
#    captured (c.pcap); renamed away, its capture stops;
#  - a VLAN device $V.10 on a veth (d.pcap, sent tagged by its peer's
#    VLAN device), where the kernel makes VLAN devices;
#  - a tun device (no link header, as PPP) made later: g.pcap's IPv6
#    packets written into it;
#  - slot 2 has `workers = 2`: its device comes (e.pcap), goes (flows
#    forced out) and comes back (f.pcap), each exact.
# Every expected count is tshark's reading of the captures; line numbers
# are grep -n of the config the test writes. The namespace is deleted on
# exit.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
for tool in tcpreplay tshark; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
[ "$(nproc)" -ge 2 ] || skip "one core: two workers would be refused"
watchdog 150

netns_new hplug || { fail "ip netns add"; finish; }
# device names: at most 15 characters
D=hp$$d       # slot 1, comes, goes, comes back
R=hp$$r       # slot 1, a device renamed to it
V=hp$$v       # slot 1, its VLAN 10 is captured
K=hp$$k       # slot 2 (two workers), comes, goes, comes back
TUN=hp$$t     # slot 1, a tun device
P=$((20000 + RANDOM % 20000))
cat >$T/hp.conf <<CONF
system = {
  export = { hosts = ( { address = "::1"; port = $P; } ); };
  apply_record = "r";
  aging = { active_minutes = 30; inactive_seconds = 60; };
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "flow-end-reason" ]; } );
slots = ( { id = 2; workers = 2; } );
interfaces = (
  { name = "GigabitEthernet1/0/0";
    device = "$D";
    buffer_kb = 4096; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/1";
    device = "$R";
    buffer_kb = 4096; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/2";
    device = "$V.10";
    buffer_kb = 4096; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/3";
    device = "$TUN";
    buffer_kb = 4096; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet2/0/0";
    device = "$K";
    buffer_kb = 4096; netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF
F=$T/hp.conf
line() { grep -n -- "$1" "$F" | head -1 | cut -d: -f1; }

# seeds 1..7: sources 2001:db8:N::/48, told apart from the kernel's own
i=0
for x in a b c d e f g; do
	i=$((i + 1))
	"$BIN/pcapgen" --flows 30 --packets 600 --pps 1000 --seed $i --snaplen 1514 \
		-o $T/$x.pcap >/dev/null || fail "pcapgen $x"
	tshark_flows $T/$x.pcap >$T/want_$x
done
check "tshark sees 30 flows in each capture" \
	bash -c "for x in a b c d e f g; do [ \$(wc -l <$T/want_\$x) -eq 30 ] || exit 1; done"

# 1. validate and commit warn at each device's line, and go ahead
ns "$NSCTL" validate -c $F >$T/v.out 2>&1
check "validate: exit 0 with the devices missing" [ $? -eq 0 ]
for dev in "$D" "$R" "$V.10" "$TUN" "$K"; do
	L=$(line "device = \"$dev\"")
	check "validate: warning at line $L: device $dev is not there" \
		grep -q "^$F:$L: warning: interface .*: device \"$dev\" is not a network device on this host" $T/v.out
done
check "validate: five warnings" [ "$(grep -c ': warning: ' $T/v.out)" = 5 ]
ns "$NSCTL" validate --no-host-checks -c $F >$T/vn.out 2>&1
check "validate --no-host-checks: no warning" bash -c "! grep -q warning $T/vn.out"

ip netns exec "$NS" "$NSCTL" collect -p $P -b ::1 -t 140 --summary >$T/collect.txt 2>$T/collect.log &
PIDS="$PIDS $!"
ip netns exec "$NS" "$NSCTL" up -c $F >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: running generation 1' $T/up.log &&
	grep -q 'slot 2: running generation 1' $T/up.log" 100 ||
	fail "the slots did not start without their devices"
check "the commit of nsctl up warns at $D's line" \
	grep -q "$F:$(line "device = \"$D\""): warning: interface GigabitEthernet1/0/0: device \"$D\"" $T/up.out

# "state reason starts stops aged-forced current" of IFACE, as display
# interface --json says
state() {
	ns "$NSCTL" display interface "$1" --json 2>>$T/display.log |
		/usr/bin/python3 -c '
import json, sys
i = json.load(sys.stdin)[0]
c = i.get("capture") or {}
d = i["directions"][0].get("counters") or {}
print(c.get("state"), (c.get("reason") or "-").replace(" ", "_"),
      c.get("starts"), c.get("stops"),
      (d.get("flows_aged") or {}).get("forced"), d.get("flows_current"),
      1 if c.get("since_ms", 0) > 0 else 0)
'
}
is() { # is IFACE WANT...: state() starts with WANT
	local got
	got=$(state "$1")
	shift
	case "$got" in "$*"*) return 0 ;; esac
	echo "  got: $got" >&2
	return 1
}
since_set() { [ "$(state "$1" | cut -d' ' -f7)" = 1 ]; }
check "display interface --json: $D waiting, No such device" \
	is GigabitEthernet1/0/0 'waiting No_such_device 0 0'
check "display interface --json: ... since a time" since_set GigabitEthernet1/0/0
ns "$NSCTL" display interface >$T/iface1.txt 2>>$T/display.log
check "display interface: $D's capture is waiting, No such device" \
	grep -A1 "^Interface GigabitEthernet1/0/0 " $T/iface1.txt | grep -q "Capture: waiting since .*: No such device"
check "display interface: ifindex 1000 is said to be a stand-in" \
	grep -q "^Interface GigabitEthernet1/0/0 (slot 1, ifindex 1000 stand-in: no device at commit, device $D)" $T/iface1.txt
check "display interface: $K (two workers) waiting too" \
	grep -A1 "^Interface GigabitEthernet2/0/0 " $T/iface1.txt | grep -q "Capture: waiting since .*: No such device"

mkveth() { # mkveth NAME PEER: a veth pair, IPv6 off, up
	ns ip link add "$1" type veth peer name "$2" || return 1
	for x in "$1" "$2"; do
		ns sysctl -qw net.ipv6.conf.$x.disable_ipv6=1
		ns ip link set "$x" up
	done
}
capturing() { # capturing IFACE STARTS STOPS: within two seconds
	wait_for "is $1 'capturing - $2 $3' 2>/dev/null" 20
}
replay() { # replay PCAP DEVICE
	ns tcpreplay -q --pps 2000 -i "$2" "$1" >>$T/replay.log 2>&1 ||
		fail "tcpreplay $1 into $2"
}
exported() { # exported PREFIX: the flows of it the collector has, summed
	grep "^data .*source-address=$1" $T/collect.txt >$T/sel.$1
	collect_flows $T/sel.$1
}

# 2. $D comes, goes, comes back
mkveth $D ${D}p || fail "veth $D"
check "$D made: captured within two seconds, no commit (started 1)" \
	capturing GigabitEthernet1/0/0 1 0
sleep 0.3
replay $T/a.pcap ${D}p
sleep 0.3
ns ip link del $D
check "$D deleted: waiting, No such device, stopped once, a.pcap's 30 flows aged forced" \
	wait_for "is GigabitEthernet1/0/0 'waiting No_such_device 1 1 30 0' 2>/dev/null" 20
check "... and exported while the group runs, exactly as tshark counts them" \
	wait_for "exported 2001:db8:1: | cmp -s - $T/want_a" 30
check "... each forced (flow-end-reason 4)" \
	bash -c "! grep '^data .*source-address=2001:db8:1:' $T/collect.txt | grep -qv 'flow-end-reason=4'"
grep -q "capture GigabitEthernet1/0/0 ($D): .*stopped" $T/up.log
check "sampled logs the stop" [ $? -eq 0 ]
mkveth $D ${D}p || fail "veth $D again"
check "$D made again: captured again (started 2, stopped 1)" \
	capturing GigabitEthernet1/0/0 2 1
# down for a second: the socket stays (the kernel resumes it at up), and
# sampled does not spin on the error the kernel leaves on it
SD1=$(for p in $(ip netns pids "$NS"); do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = sampled ] &&
		tr '\0' ' ' </proc/$p/cmdline | grep -q -- '--slot 1 ' && echo $p
done | head -1)
[ -n "$SD1" ] || fail "no sampled --slot 1 in $NS"
cpu() { awk '{ print $14 + $15 }' /proc/${SD1:-self}/stat; }
ns ip link set $D down
c0=$(cpu)
sleep 1
c1=$(cpu)
ns ip link set $D up
check "$D down for a second: sampled used $((c1 - c0)) ticks of CPU, not a spin (< 30)" \
	[ -n "$SD1" -a $((c1 - c0)) -lt 30 ]
check "... and it is still captured (started 2, stopped 1)" \
	is GigabitEthernet1/0/0 'capturing - 2 1'
sleep 0.3
replay $T/b.pcap ${D}p

# 3. a device renamed to the configured name
mkveth hp$$x hp$$y || fail "veth hp$$x"
ns ip link set hp$$x down
ns ip link set hp$$x name $R || fail "rename hp$$x to $R"
ns ip link set $R up
check "hp$$x renamed to $R: captured" capturing GigabitEthernet1/0/1 1 0
sleep 0.3
replay $T/c.pcap hp$$y
sleep 0.3
ns ip link set $R down
ns ip link set $R name hp$$z || fail "rename $R to hp$$z"
check "$R renamed away: waiting, stopped once, c.pcap's 30 flows aged forced" \
	wait_for "is GigabitEthernet1/0/1 'waiting No_such_device 1 1 30 0' 2>/dev/null" 20

# 4. a VLAN device, where the kernel makes them
mkveth $V ${V}p || fail "veth $V"
VLAN=1
if ! ns ip link add link ${V}p name ${V}p.10 type vlan id 10 2>$T/vlan.err; then
	VLAN=0
	echo "note: no VLAN devices here ($(cat $T/vlan.err)): that part is not checked"
else
	ns ip link add link $V name $V.10 type vlan id 10 || fail "VLAN device $V.10"
	ns ip link set ${V}p.10 up
	ns ip link set $V.10 up
	check "$V.10 made: captured" capturing GigabitEthernet1/0/2 1 0
	sleep 0.3
	replay $T/d.pcap ${V}p.10
fi

# 5. a tun device (no link header): g.pcap's IPv6 packets written into it
cat >$T/tunw.py <<'PY'
import fcntl, os, struct, sys
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TUN | IFF_NO_PI))
d = open(sys.argv[2], "rb").read()
off = 24
while off + 16 <= len(d):
    incl = struct.unpack("<I", d[off + 8:off + 12])[0]
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(f) > 14 and f[12:14] == b"\x86\xdd":
        os.write(fd, f[14:])
PY
if [ -c /dev/net/tun ] && ns ip tuntap add dev $TUN mode tun; then
	ns sysctl -qw net.ipv6.conf.$TUN.disable_ipv6=1
	ns ip link set $TUN up
	check "$TUN (tun) made: captured" capturing GigabitEthernet1/0/3 1 0
	sleep 0.3
	ns /usr/bin/python3 $T/tunw.py $TUN $T/g.pcap 2>$T/tunw.log ||
		fail "writing into $TUN: $(cat $T/tunw.log)"
else
	fail "tun device $TUN"
fi

# 6. slot 2, two workers: comes, goes, comes back
mkveth $K ${K}p || fail "veth $K"
check "$K made (two workers): captured" capturing GigabitEthernet2/0/0 1 0
sleep 0.3
replay $T/e.pcap ${K}p
sleep 0.3
ns ip link del $K
check "$K deleted: waiting, stopped once, e.pcap's 30 flows aged forced" \
	wait_for "is GigabitEthernet2/0/0 'waiting No_such_device 1 1 30 0' 2>/dev/null" 20
check "... and exported while the group runs, exactly" \
	wait_for "exported 2001:db8:5: | cmp -s - $T/want_e" 30
mkveth $K ${K}p || fail "veth $K again"
check "$K made again: captured again (started 2, stopped 1)" \
	capturing GigabitEthernet2/0/0 2 1
sleep 0.3
replay $T/f.pcap ${K}p
sleep 0.5

ns "$NSCTL" display interface >$T/iface2.txt 2>>$T/display.log
check "display interface: every capture capturing but $R's, renamed away (and a VLAN one the kernel cannot make)" \
	[ "$(grep -c 'Capture: capturing since ' $T/iface2.txt)" = $((3 + VLAN)) ]
IFX_D=$(ns cat /sys/class/net/$D/ifindex)
check "display interface: $D's own ifindex ($IFX_D) is not what flows carry (1000): said" \
	grep -q "The device's ifindex is $IFX_D; flows carry 1000 until a commit" $T/iface2.txt
stat_of() { # stat_of SLOT NAME IFACE
	timeout 5 ip netns exec "$NS" "$NSCTL" stats --json --slot "$1" -n 1 2>/dev/null |
		/usr/bin/python3 -c '
import json, sys
s = json.loads(sys.stdin.readline())
print(sum(c["value"] for c in s["counters"]
          if c["name"] == sys.argv[1] and c.get("interface") == sys.argv[2]))
' "$2" "$3"
}
check "stats: capture_starts 2, capture_stops 1 of GigabitEthernet1/0/0" \
	[ "$(stat_of 1 capture_starts GigabitEthernet1/0/0) $(stat_of 1 capture_stops GigabitEthernet1/0/0)" = "2 1" ]
check "stats: capture_starts 2, capture_stops 1 of GigabitEthernet2/0/0" \
	[ "$(stat_of 2 capture_starts GigabitEthernet2/0/0) $(stat_of 2 capture_stops GigabitEthernet2/0/0)" = "2 1" ]
check "no commit was needed (one revision)" \
	[ "$(ns "$NSCTL" history | grep -c '^[0-9]')" = 1 ]

kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
sleep 0.5
i=0
for x in a b c d e f g; do
	i=$((i + 1))
	[ $x = d ] && [ $VLAN = 0 ] && continue
	exported 2001:db8:$i: >$T/got_$x
	check "$x.pcap: packets and bytes per 5-tuple equal tshark's" same $T/want_$x $T/got_$x
done
n=$(grep -c '^data .*source-address=2001:db8:[1-7]:' $T/collect.txt)
check "one record per flow, no other ($((180 + 30 * VLAN))): $n" [ "$n" -eq $((180 + 30 * VLAN)) ]
check "no sampled spun or failed: no capture error in the logs" \
	bash -c "! grep -qi 'fatal\|PACKET_FANOUT' $T/up.log"
kill $WATCHDOG 2>/dev/null
finish
