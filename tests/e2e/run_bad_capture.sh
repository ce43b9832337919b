#!/usr/bin/env bash
# `nsctl run` over a capture it cannot read to its end: an empty file,
# garbage, a pcap cut in the middle of a record, and a pcapng whose two
# interfaces have different link types (tshark reads its 200 packets,
# libpcap stops at the second interface). Each run must fail (exit 1)
# and name the file; a good capture beside them still runs clean.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 300
P=$((20000 + RANDOM % 10000))
"$BIN/pcapgen" --flows 20 --packets 200 --pps 1000 --seed 3 -o $T/good.pcap \
	>/dev/null || fail "pcapgen"
: >$T/empty.pcap
yes 'not a capture file' | head -c 4096 >$T/garbage.pcap
# a pcap cut 10 bytes into the data of its last record
size=$(stat -c %s $T/good.pcap)
head -c $((size - 10)) $T/good.pcap >$T/truncated.pcap
# pcapng: interface 0 Ethernet, interface 1 raw IPv6; the packets of
# good.pcap alternate between them (interface 1 without the 14-byte
# Ethernet header)
/usr/bin/python3 - $T/good.pcap $T/mixed.pcapng <<'PY' || fail "mixed.pcapng"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert struct.unpack("<I", data[:4])[0] == 0xa1b2c3d4
off, pkts = 24, []
while off + 16 <= len(data):
    sec, usec, cap, orig = struct.unpack("<IIII", data[off:off + 16])
    pkts.append((sec * 1000000 + usec, data[off + 16:off + 16 + cap], orig))
    off += 16 + cap
def block(t, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", t, n) + body + struct.pack("<I", n)
out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
out += block(1, struct.pack("<HHI", 1, 0, 65535))    # Ethernet
out += block(1, struct.pack("<HHI", 101, 0, 65535))  # raw IP
for i, (ts, frame, orig) in enumerate(pkts):
    ifc = i % 2
    if ifc:
        frame, orig = frame[14:], orig - 14
    out += block(6, struct.pack("<IIIII", ifc, ts >> 32, ts & 0xffffffff,
                                len(frame), orig) + frame)
open(sys.argv[2], "wb").write(out)
PY
check "tshark reads the 200 packets of mixed.pcapng" \
	[ "$(tshark -r $T/mixed.pcapng 2>/dev/null | wc -l)" -eq 200 ]
check "tshark reads the 200 packets of good.pcap" \
	[ "$(tshark -r $T/good.pcap 2>/dev/null | wc -l)" -eq 200 ]

"$NSCTL" collect -p $P -b 127.0.0.1 -t 200 --summary >$T/collect.txt \
	2>$T/collect.log &
PIDS="$PIDS $!"
sleep 0.3

not_in() { ! grep -q "$1" "$2"; }

run_on() { # run_on NAME FILE: nsctl run over one capture file
	cat >$T/$1.conf <<CONF
system = {
  export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
  apply_record = "five";
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$2";
                 netstream = [ "inbound" ]; } );
CONF
	NETSTREAMD_RUN_DIR=$T/run-$1 "$NSCTL" run -c $T/$1.conf \
		>$T/$1.out 2>$T/$1.log
	echo $? >$T/$1.rc
}

run_on good $T/good.pcap
check "good capture: nsctl run exits 0" [ "$(cat $T/good.rc)" = 0 ]
check "good capture: every flow was exported" \
	grep -q 'every flow was exported' $T/good.out
for c in empty garbage truncated mixed; do
	f=$T/$c.pcap
	[ $c = mixed ] && f=$T/mixed.pcapng
	run_on $c $f
	check "$c: nsctl run exits 1" [ "$(cat $T/$c.rc)" = 1 ]
	check "$c: the run names $(basename $f) as not read" \
		grep -q "capture $f could not be read" $T/$c.log
	check "$c: the run does not say every flow was exported" \
		not_in 'every flow was exported' $T/$c.out
done
check "mixed: the error is libpcap's, on the second link type" \
	grep -q 'mixed.pcapng could not be read: read error after 0 packets' \
	$T/mixed.log
finish
