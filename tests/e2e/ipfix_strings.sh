#!/usr/bin/env bash
# Interface names and descriptions as each format carries them (issue 24,
# item 1; RFC 7011 6.1.6 and 7): two interfaces with names of 40+ bytes
# of Cyrillic and Latin-1 letters, one with a description, replayed by
# `nsctl run` to an IPFIX host and a v9 host while tshark captures the
# export. The IPFIX messages are read by CERT libfixbuf's ipfixDump (a
# strict RFC 7011/7012 reader) and by python3-ipfix: both read every
# record without a complaint, the names and the description whole, as
# the config has them. v9's 32-byte interfaceName is the name cut at a
# character's end (the first name's 32nd byte is in the middle of "ü"),
# so it stays UTF-8. interfaceDescription (83) is sent only while some
# interface has one.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/interop_lib.sh"
il_skip_unless tshark ipfixDump
/usr/bin/python3 -c 'import ipfix' 2>/dev/null ||
	{ fail "python3-ipfix is not installed (tools/install-deps)"; finish; }
watchdog 120
cd "$ROOT" || exit 1

N1="Интерфейс-Eth1/0/0-Zurück-Ærø-Köln"
N2="Порт-GigabitEthernet1/0/1-Straße-ÉÈ"
D1="Uplink zu Köln — транзит"
cat >$T/a.spec <<'SPEC'
t=1700000001.000 src=2001:db8:1::1 dst=2001:db8:2::1 proto=udp sport=1000 dport=53 repeat=4 gap=0.1
t=1700000001.500 src=2001:db8:1::2 dst=2001:db8:2::2 proto=tcp sport=2000 dport=80 flags=A repeat=4 gap=0.1
SPEC
"$BIN/pcapgen" -s $T/a.spec -o $T/a.pcap >/dev/null || fail "pcapgen"
"$BIN/pcapgen" -s $T/a.spec -o $T/b.pcap >/dev/null || fail "pcapgen"

# conf NAME [DESCRIPTION]
conf() {
	cat <<CONF
system = {
  export = { source = { address = "127.0.0.1"; }; compat = "extended";
             hosts = ( { address = "127.0.0.1"; port = $PI; version = "ipfix"; },
                       { address = "127.0.0.1"; port = $P9; } ); };
  apply_record = "five";
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = (
  { name = "$N1"; slot = 1; ifindex = 11; file = "$T/a.pcap"; $1
    netstream = [ "inbound" ]; },
  { name = "$N2"; slot = 1; ifindex = 12; file = "$T/b.pcap";
    netstream = [ "inbound" ]; } );
CONF
}

# run NAME CONF-ARGS: the run and its export, tshark capturing it
run() {
	PI=$(il_port) P9=$(il_port)
	conf "$2" >$T/$1.conf
	"$NSCTL" collect -p $PI -b 127.0.0.1 -t 30 >/dev/null 2>&1 &
	CI=$!
	"$NSCTL" collect -p $P9 -b 127.0.0.1 -t 30 >/dev/null 2>&1 &
	C9=$!
	PIDS="$PIDS $CI $C9"
	il_tshark "$1" "$PI" "$P9"
	il_wait_ready "$PI" "$P9"
	NETSTREAMD_RUN_DIR=$T/run_$1 "$NSCTL" run -c $T/$1.conf >$T/$1.out 2>$T/$1.log
	check "$1: nsctl run exits 0" [ $? -eq 0 ]
	sleep 0.5
	il_stop "$1"
	kill $CI $C9 2>/dev/null
	# the IPFIX messages, one after the other (RFC 5655's file)
	tshark -r $T/$1.pcapng -Y "udp.dstport == $PI" -T fields -e udp.payload 2>/dev/null |
		xxd -r -p >$T/$1.ipfix
	check "$1: IPFIX messages captured" [ -s $T/$1.ipfix ]
}

run desc "description = \"$D1\";"
ipfixDump --in $T/desc.ipfix >$T/dump.txt 2>$T/dump.err
check "ipfixDump reads every message (exit 0)" [ $? -eq 0 ]
check "ipfixDump says nothing is wrong" [ ! -s $T/dump.err ]
check "ipfixDump: interfaceName of the first, whole" grep -qF "interfaceName" $T/dump.txt
check "ipfixDump: the first name whole: $N1" grep -qF "$N1" $T/dump.txt
check "ipfixDump: the second name whole: $N2" grep -qF "$N2" $T/dump.txt
check "ipfixDump: the description whole: $D1" grep -qF "$D1" $T/dump.txt
check "ipfixDump: interfaceName is variable-length in the template" \
	grep -Eq 'id: +82 .*len: 65535 +interfaceName' $T/dump.txt

cat >$T/read.py <<'PY'
import sys, ipfix.ie, ipfix.reader
ipfix.ie.use_iana_default()
flows, names = 0, {}
with open(sys.argv[1], "rb") as f:
    for rec in ipfix.reader.from_stream(f).namedict_iterator():
        if "sourceIPv6Address" in rec:
            flows += rec.get("packetDeltaCount", 0) and 1
        if "interfaceName" in rec:
            names[rec["ingressInterface"]] = (rec["interfaceName"],
                                              rec.get("interfaceDescription"))
print("flows", flows)
for k in sorted(names):
    print("name", k, names[k][0], "|", names[k][1])
PY
/usr/bin/python3 $T/read.py $T/desc.ipfix >$T/py.txt 2>$T/py.err
check "python3-ipfix reads the messages (exit 0)" [ $? -eq 0 ]
check "python3-ipfix: all 4 flow records (2 a capture)" grep -qx 'flows 4' $T/py.txt
check "python3-ipfix: the first name and its description" \
	grep -qxF "name 11 $N1 | $D1" $T/py.txt
check "python3-ipfix: the second name, an empty description" \
	grep -qxF "name 12 $N2 | " $T/py.txt

# v9: 32 bytes, cut at a character's end: what Python's UTF-8 makes of the
# longest prefix of at most 32 bytes that decodes
cut32() { /usr/bin/python3 -c 'import sys
b = sys.argv[1].encode()[:32]
while True:
    try:
        print(b.decode()); break
    except UnicodeDecodeError:
        b = b[:-1]' "$1"; }
for f in if_name if_descr; do
	tshark -r $T/desc.pcapng -d udp.port==$P9,cflow -Y "udp.dstport == $P9" \
		-T fields -e cflow.$f -E occurrence=a -E aggregator=, 2>/dev/null
done | tr ',' '\n' | grep -v '^$' | sort -u >$T/v9names.txt
check "v9: the first name cut at 32 bytes, at a character's end: $(cut32 "$N1")" \
	grep -qxF "$(cut32 "$N1")" $T/v9names.txt
check "v9: the second name cut at 32 bytes: $(cut32 "$N2")" \
	grep -qxF "$(cut32 "$N2")" $T/v9names.txt
/usr/bin/python3 - $T/desc.pcapng $P9 <<'PY' >$T/v9utf8.txt
import subprocess, sys
x = subprocess.run(["tshark", "-r", sys.argv[1], "-d", "udp.port==%s,cflow" % sys.argv[2],
                    "-Y", "udp.dstport == %s" % sys.argv[2], "-T", "fields", "-e", "udp.payload"],
                   capture_output=True, text=True).stdout.split()
bad = 0
for h in x:
    p = bytes.fromhex(h)
    for name in ("Интерфейс".encode(), "Порт".encode()):
        i = p.find(name)
        if i >= 0:
            try:
                p[i:i + 32].rstrip(b"\0").decode()
            except UnicodeDecodeError:
                bad += 1
print("bad", bad)
PY
check "v9: every 32-byte name field is valid UTF-8" grep -qx 'bad 0' $T/v9utf8.txt
check "v9: the description (83) cut at 32 bytes" grep -qF "$(cut32 "$D1")" $T/v9names.txt

# no description anywhere: no 83 in either format
run nodesc ""
ipfixDump --in $T/nodesc.ipfix >$T/dump2.txt 2>$T/dump2.err
check "no description: ipfixDump reads it without a complaint" [ ! -s $T/dump2.err ]
check "no description: no interfaceDescription in the IPFIX templates" \
	bash -c "! grep -q interfaceDescription $T/dump2.txt"
check "no description: nor in v9's" \
	bash -c "! tshark -r $T/nodesc.pcapng -d udp.port==$P9,cflow -Y 'cflow.template_field_type == 83' 2>/dev/null | grep -q ."
finish
