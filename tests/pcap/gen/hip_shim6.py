#!/usr/bin/python3
# hip_shim6.py OUT: IPv6 packets whose chain holds a HIP header (RFC 7401,
# next header 139) or a shim6 payload extension header (RFC 5533, 140).
# pcapgen has no such headers, so this writes the frames byte by byte
# (a classic pcap, Ethernet). The expected flows come from tshark's
# reading of the file, as for every case of the table:
#   HIP I1 control packet, payload protocol 59 (RFC 7401 5.1):
#       protocol 59, no ports; HIP has no bit of its own in the
#       ipv6ExtensionHeaders bitmap: UNK
#   shim6 payload header + UDP (twice), hop-by-hop + shim6 + TCP SYN:
#       the walk goes through shim6 to the ports
import struct
import sys

SRC = bytes.fromhex("20010db8000000000000000000000a01")


def dst(n):
    return bytes.fromhex("20010db80000000000000000000b00") + bytes([n])


def ip6(nh, payload, d, tc=0):
    return struct.pack("!IHBB", (6 << 28) | (tc << 20), len(payload), nh, 64) + SRC + d + payload


def eth(pkt):
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd" + pkt


def udp(sp, dp, n):
    return struct.pack("!HHHH", sp, dp, 8 + n, 0) + bytes(n)


def tcp(sp, dp, flags):
    return struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 5 << 4, flags, 8192, 0, 0)


# HIP: next header, header length (8-octet units past the first 8),
# packet type (I1 = 1), version 2 + reserved bit 1, checksum, controls,
# sender's and receiver's HIT
hip_i1 = struct.pack("!BBBBHH", 59, 4, 1, 0x21, 0, 0) + bytes.fromhex("2001001" + "0" * 25) + bytes(16)
# shim6 payload extension header: next header, length 0 (8 bytes),
# P bit set + 47-bit receiver context tag
def shim6(nh):
    return struct.pack("!BBH", nh, 0, 0x8000) + struct.pack("!I", 0x00abcdef)


hop = struct.pack("!BB", 140, 0) + b"\x01\x04\x00\x00\x00\x00"  # PadN

frames = [
    (1.000, eth(ip6(139, hip_i1, dst(1)))),
    (1.100, eth(ip6(140, shim6(17) + udp(7000, 7001, 100), dst(2)))),
    (1.200, eth(ip6(140, shim6(17) + udp(7000, 7001, 300), dst(2)))),
    (1.300, eth(ip6(0, hop + shim6(6) + tcp(1111, 80, 0x02), dst(3), tc=0x28))),
]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for t, fr in frames:
        sec = int(t)
        f.write(struct.pack("<IIII", sec, int(round((t - sec) * 1e6)), len(fr), len(fr)))
        f.write(fr)
