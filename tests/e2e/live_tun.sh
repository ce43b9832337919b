#!/usr/bin/env bash
# Live capture on a device without Ethernet headers (issue 15): a tun
# device in a network namespace of its own, whose packets start at the
# IPv6 header. The test writes IPv6 UDP packets of two flows into the
# tun descriptor (the kernel receives them on the device: inbound), and
# an IPv4 packet beside them; the export must count each flow's packets
# and bytes as written (the socket reads from the network header on, and
# its filter passes IPv6 alone). The counts are the test's own writes.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
TUN=nst$$t
watchdog 40
netns_new ltun || { fail "ip netns add"; finish; }
ip netns exec "$NS" ip tuntap add dev "$TUN" mode tun || { fail "tun device"; finish; }
# IPv6 off: the kernel sends nothing of its own there (the capture sees
# what is written before the stack drops it)
ip netns exec "$NS" sysctl -qw net.ipv6.conf.$TUN.disable_ipv6=1
ip netns exec "$NS" ip link set "$TUN" up

P=$((20000 + RANDOM % 20000))
cat >$T/tun.conf <<CONF
system = { export = { hosts = ( { address = "::1"; port = $P; } ); };
           apply_record = "r"; };
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port", "direction" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; device = "$TUN";
                 netstream = [ "inbound", "outbound" ]; } );
CONF
ip netns exec "$NS" "$NSCTL" collect -p $P -b ::1 -t 30 >$T/collect.txt 2>$T/collect.log &
PIDS="$PIDS $!"
ip netns exec "$NS" "$NSCTL" up -c $T/tun.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: running generation 1: 2 bindings, 1 captures' $T/up.log" 100 ||
	fail "sampled did not open the tun device"
sleep 0.3

# the writer: attaches to the tun device and writes raw IP packets
cat >$T/write.py <<'PY'
import fcntl, os, struct, sys
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TUN | IFF_NO_PI))
def ip6(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + payload, 0) + b"\0" * payload
    hdr = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64)
    return hdr + bytes.fromhex(src) + bytes.fromhex(dst) + udp
a = "20010db8000400000000000000000001"
b = "20010db8000400000000000000000002"
c = "20010db8000400000000000000000003"
for i in range(30):
    os.write(fd, ip6(a, b, 5000, 53, 100))   # 30 x (40 + 8 + 100) bytes
for i in range(12):
    os.write(fd, ip6(a, c, 5001, 123, 20))   # 12 x (40 + 8 + 20) bytes
v4 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                 bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])) + b"\0" * 8
for i in range(5):
    os.write(fd, v4)
PY
ip netns exec "$NS" /usr/bin/python3 $T/write.py "$TUN" 2>$T/write.log ||
	fail "writing into the tun device: $(cat $T/write.log)"
sleep 0.3
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
sleep 0.3
for p in $(ip netns pids "$NS"); do kill -TERM "$p" 2>/dev/null; done
sleep 0.2

cat >$T/want <<WANT
2001:db8:4::1 2001:db8:4::2 17 5000 53 30 4440
2001:db8:4::1 2001:db8:4::3 17 5001 123 12 816
WANT
grep '^data .* direction=0 ' $T/collect.txt >$T/in
collect_flows $T/in >$T/got
check "inbound on the tun device: packets and bytes per 5-tuple as written" same $T/want $T/got
check "no other flow (the IPv4 packets stayed in the kernel)" \
	[ "$(grep -c '^data ' $T/collect.txt)" -eq 2 ]
kill $WATCHDOG 2>/dev/null
finish
