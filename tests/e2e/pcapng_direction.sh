#!/usr/bin/env bash
# pcapng per-packet direction flags (issue 13, item 10; DESIGN.md: "a
# pcapng packet that carries a direction flag uses it"). A pcapng is
# written here (tshark and editcap cannot set epb_flags) from a pcapgen
# capture: a third of its packets flagged inbound (epb_flags 01), a third
# outbound (10), a third without flags; its second half is a new section
# (libpcap reads no change of byte order within a file: a big-endian
# copy is written apart), some flags sit after another option, and
# obsolete packet blocks (type 2, pack_flags) carry some too. The expected
# split is tshark's reading of the flags (frame.packet_flags_direction);
# unflagged packets take the interface's file_direction. Three runs:
#   both directions enabled       -> inbound and outbound = the flags
#   inbound only                  -> the outbound-flagged ones are not
#                                    exported
#   file_direction = "outbound"   -> the unflagged ones go outbound
# and the interface counters of `display interface` split the frames the
# same way (nsctl up on the first config).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 300
command -v tshark >/dev/null || skip "tshark is not installed"
P=$((20000 + RANDOM % 10000))
"$BIN/pcapgen" --flows 30 --packets 600 --pps 2000 --seed 5 -o $T/in.pcap \
	>/dev/null || fail "pcapgen"
mkng() { # mkng ENDIAN(< or >) OUT
/usr/bin/python3 - $T/in.pcap "$2" "$1" <<'PY' || fail "$2"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert struct.unpack("<I", data[:4])[0] == 0xa1b2c3d4
off, pkts = 24, []
while off + 16 <= len(data):
    sec, usec, cap, orig = struct.unpack("<IIII", data[off:off + 16])
    pkts.append((sec * 1000000 + usec, data[off + 16:off + 16 + cap], orig))
    off += 16 + cap
def block(e, t, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", t, n) + body + struct.pack(e + "I", n)
def opt(e, code, val):
    return struct.pack(e + "HH", code, len(val)) + val + b"\0" * (-len(val) % 4)
out = b""
half = len(pkts) // 2
for i, (ts, frame, orig) in enumerate(pkts):
    if i in (0, half):  # two sections
        e = sys.argv[3]
        out += block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))
        out += block(e, 1, struct.pack(e + "HHI", 1, 0, 65535))
    flags = (1, 2, 0)[i % 3]
    opts = b""
    if i % 5 == 0:
        opts += opt(e, 1, b"a comment first")  # opt_comment
    if flags:
        opts += opt(e, 2, struct.pack(e + "I", flags | (i % 4) << 2))
    if opts:
        opts += struct.pack(e + "HH", 0, 0)
    pad = frame + b"\0" * (-len(frame) % 4)
    if i % 7 == 3:   # an obsolete packet block
        out += block(e, 2, struct.pack(e + "HHIIII", 0, 0, ts >> 32,
                     ts & 0xffffffff, len(frame), orig) + pad + opts)
    else:
        out += block(e, 6, struct.pack(e + "IIIII", 0, ts >> 32,
                     ts & 0xffffffff, len(frame), orig) + pad + opts)
open(sys.argv[2], "wb").write(out)
PY
}
mkng "<" $T/flags.pcapng
mkng ">" $T/flags-be.pcapng

# tshark's reading: per direction (0x1 in, 0x2 out, none), IPv6 packets
tshark -r $T/flags.pcapng -Y ipv6 -T fields -e frame.packet_flags_direction \
	2>$T/tshark.err | awk '
	$1 == "0x00000001" || $1 == "0x1" || $1 == "1" { i++; next }
	$1 == "0x00000002" || $1 == "0x2" || $1 == "2" { o++; next }
	{ n++ }
	END { print i + 0, o + 0, n + 0 }' >$T/tshark.dirs
read -r T_IN T_OUT T_NONE <$T/tshark.dirs
check "tshark reads 600 IPv6 packets of flags.pcapng ($T_IN in, $T_OUT out, $T_NONE unflagged)" \
	[ $((T_IN + T_OUT + T_NONE)) -eq 600 ]
check "tshark sees the three kinds of packets" \
	[ "$T_IN" -gt 0 ] && [ "$T_OUT" -gt 0 ] && [ "$T_NONE" -gt 0 ]

run_on() { # run_on NAME NETSTREAM [FILE_DIRECTION [FILE]]
	local fd="" f=${4:-$T/flags.pcapng}
	[ -n "${3:-}" ] && fd="file_direction = \"$3\";"
	cat >$T/$1.conf <<CONF
system = {
  export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
  apply_record = "five";
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port", "direction" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$f";
                 netstream = $2; $fd } );
CONF
	"$NSCTL" collect -p $P -b 127.0.0.1 -t 30 >$T/$1.collect \
		2>$T/$1.collect.log &
	local col=$!
	PIDS="$PIDS $col"
	sleep 0.3
	NETSTREAMD_RUN_DIR=$T/run-$1 "$NSCTL" run -c $T/$1.conf \
		>$T/$1.out 2>$T/$1.log || fail "$1: nsctl run failed"
	sleep 0.5
	kill $col 2>/dev/null
	wait $col 2>/dev/null
	# packets exported per direction field (0 inbound, 1 outbound)
	grep '^data ' $T/$1.collect | awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		p[v["direction"]] += v["packets"] }
		END { print p[0] + 0, p[1] + 0 }'
}

read -r IN OUT <<<"$(run_on both '[ "inbound", "outbound" ]')"
check "both directions: inbound packets = tshark's inbound + unflagged ($IN = $T_IN + $T_NONE)" \
	[ "$IN" -eq $((T_IN + T_NONE)) ]
check "both directions: outbound packets = tshark's outbound ($OUT = $T_OUT)" \
	[ "$OUT" -eq "$T_OUT" ]
check "both directions: the run logs the flags it read" \
	grep -q "pcapng direction flags: $T_IN inbound, $T_OUT outbound, 0 malformed" \
	$T/both.log

read -r IN OUT <<<"$(run_on inonly '[ "inbound" ]')"
check "inbound only: inbound packets = tshark's inbound + unflagged ($IN)" \
	[ "$IN" -eq $((T_IN + T_NONE)) ]
check "inbound only: no outbound-flagged packet is exported ($OUT)" \
	[ "$OUT" -eq 0 ]

dirs() { tshark -r "$1" -Y ipv6 -T fields -e frame.number \
	-e frame.packet_flags_direction 2>/dev/null; }
check "tshark reads the big-endian copy packet for packet the same" \
	[ "$(dirs $T/flags-be.pcapng | md5sum)" = "$(dirs $T/flags.pcapng | md5sum)" ]
read -r IN OUT <<<"$(run_on fdout '[ "inbound", "outbound" ]' outbound \
	$T/flags-be.pcapng)"
check "file_direction outbound (big-endian): inbound packets = tshark's inbound ($IN = $T_IN)" \
	[ "$IN" -eq "$T_IN" ]
check "file_direction outbound (big-endian): outbound = tshark's outbound + unflagged ($OUT)" \
	[ "$OUT" -eq $((T_OUT + T_NONE)) ]

# the interface counters (display interface) split the frames the same
# way: the group runs the both-directions config until its capture ended
NETSTREAMD_RUN_DIR=$T/run-up "$NSCTL" up -c $T/both.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
shown() { # shown DIR: its frames, as display interface --json says
	NETSTREAMD_RUN_DIR=$T/run-up "$NSCTL" display interface --json 2>/dev/null |
		/usr/bin/python3 -c '
import json, sys
for i in json.load(sys.stdin):
    for d in i["directions"]:
        if d["direction"] == sys.argv[1] and d.get("counters"):
            print(d["counters"]["packets"])
' "$1"
}
wait_for "[ \"\$(shown inbound)\" = $((T_IN + T_NONE)) ]" 100
check "display interface: inbound frames = tshark's inbound + unflagged ($(shown inbound) = $T_IN + $T_NONE)" \
	[ "$(shown inbound)" = $((T_IN + T_NONE)) ]
check "display interface: outbound frames = tshark's outbound ($(shown outbound) = $T_OUT)" \
	[ "$(shown outbound)" = "$T_OUT" ]
kill -TERM $UP
wait $UP
finish
