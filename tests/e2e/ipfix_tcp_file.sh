#!/usr/bin/env bash
# IPFIX over TCP (RFC 7011 10.4) and into a file (RFC 5655), issue 24
# items 3 and 4: flowgen -> exportd ->
#   a file host: the file holds every record, templates first: CERT
#     libfixbuf's ipfixDump (a strict reader) and python3-ipfix read all
#     of it with no complaint, packets and bytes equal to flowgen's;
#   a TCP collector (a small reader in Python's standard library, writing
#     each connection's stream to a file of its own) that is stopped
#     between two runs of flowgen and started again 3 s into the second:
#     exportd waits (backpressure, counted), reconnects, sends templates
#     first on the new connection, and the two connections' streams hold
#     every record exactly once (ipfixDump and python3-ipfix on each);
#   a TCP host with no collector at all: flowgen's records are never
#     acknowledged, never dropped (its run ends unconfirmed).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/exportd_lib.sh"
il_skip() { command -v "$1" >/dev/null || { echo "skip: $1 is not installed"; exit 77; }; }
il_skip ipfixDump
/usr/bin/python3 -c 'import ipfix' 2>/dev/null ||
	{ fail "python3-ipfix is not installed (tools/install-deps)"; finish; }
watchdog 200
cd "$ROOT" || exit 1

# what python3-ipfix reads of a file of messages: "records N packets P
# bytes B templates-first 0|1"
cat >$T/read.py <<'PY'
import sys, ipfix.ie, ipfix.reader
ipfix.ie.use_iana_default()
n = p = b = 0
with open(sys.argv[1], "rb") as f:
    for rec in ipfix.reader.from_stream(f).namedict_iterator():
        if "sourceIPv6Address" in rec:
            n += 1
            p += rec["packetDeltaCount"]
            b += rec["octetDeltaCount"]
print("records %d packets %d bytes %d" % (n, p, b))
PY
# the first set of the first message of a file: a template set (2)
first_set() { xxd -s 16 -l 2 -p "$1"; }

start_cfgd
start_exportd

# 1. a file host
G=$("$FLOWGEN" -n 3000 -b 500 --slot 1 --final --file $T/out.ipfix)
check "file: flowgen exits 0 (every batch acknowledged)" [ $? -eq 0 ]
set -- $G
wait_for "[ -s $T/out.ipfix ]" 50
ipfixDump --in $T/out.ipfix >$T/dump.txt 2>$T/dump.err
check "file: ipfixDump reads it (exit 0)" [ $? -eq 0 ]
check "file: ipfixDump says nothing is wrong" [ ! -s $T/dump.err ]
check "file: its first set is a template set" [ "$(first_set $T/out.ipfix)" = 0002 ]
/usr/bin/python3 $T/read.py $T/out.ipfix >$T/py.txt 2>$T/py.err
check "file: python3-ipfix reads every record, packets and bytes as sent ($(cat $T/py.txt))" \
	[ "$(cat $T/py.txt)" = "records $2 packets $4 bytes $6" ]

# 2. TCP, the collector stopped and started again
P=$(free_port)
cat >$T/collector.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
print("listening", flush=True)
c, _ = s.accept()
with open(sys.argv[2], "wb") as f:
    while True:
        d = c.recv(65536)
        if not d:
            break
        f.write(d)
        f.flush()
PY
/usr/bin/python3 $T/collector.py $P $T/tcp1.bin >$T/col1.log 2>&1 &
C1=$!
PIDS="$PIDS $C1"
wait_for "grep -q listening $T/col1.log" 50 || fail "collector 1"
G1=$("$FLOWGEN" -n 2000 -b 200 --slot 2 --ipfix --tcp -H 127.0.0.1:$P)
check "tcp: first run acknowledged (exit 0)" [ $? -eq 0 ]
wait_for "[ \$(stat -c %s $T/tcp1.bin) -gt 0 ]" 50
sleep 0.5
kill $C1
wait $C1 2>/dev/null
# the second run waits for the collector: it comes back 3 s later
"$FLOWGEN" -n 3000 -b 200 --slot 2 --ipfix --tcp -H 127.0.0.1:$P --first 2000 \
	>$T/g2.out 2>$T/g2.err &
GP=$!
sleep 3
/usr/bin/python3 $T/collector.py $P $T/tcp2.bin >$T/col2.log 2>&1 &
C2=$!
PIDS="$PIDS $C2"
wait $GP
check "tcp: second run acknowledged once the collector was back (exit $?)" [ $? -eq 0 ]
sleep 1
kill $C2
wait $C2 2>/dev/null
for k in 1 2; do
	ipfixDump --in $T/tcp$k.bin >$T/tdump$k.txt 2>$T/tdump$k.err
	check "tcp connection $k: ipfixDump reads it, no complaint" [ ! -s $T/tdump$k.err ]
	check "tcp connection $k: templates first" [ "$(first_set $T/tcp$k.bin)" = 0002 ]
	/usr/bin/python3 $T/read.py $T/tcp$k.bin >$T/tpy$k.txt
done
set -- $G1
p1=$4 b1=$6
set -- $(cat $T/g2.out)
p2=$4 b2=$6
n=$(awk '{ n += $2; p += $4; b += $6 } END { print n, p, b }' $T/tpy1.txt $T/tpy2.txt)
check "tcp: both connections hold every record once ($n; want 5000 $((p1 + p2)) $((b1 + b2)))" \
	[ "$n" = "5000 $((p1 + p2)) $((b1 + b2))" ]
check "tcp: exportd logged the reconnection" grep -q "tcp:\[127.0.0.1\]:$P: connected" $T/exportd.log
check "tcp: the waits were counted" [ "$(xd_counter stream_waits host="tcp:[127.0.0.1]:$P")" -ge 1 ]

# 3. no collector: nothing acknowledged, nothing dropped, it all waits
P2=$(free_port)
h3="host=tcp:[127.0.0.1]:$P2"
"$FLOWGEN" -n 500 -b 100 --slot 3 --ipfix --tcp -H 127.0.0.1:$P2 \
	>$T/g3.out 2>$T/g3.err &
G3=$!
PIDS="$PIDS $G3"
check "no collector: exportd holds the records, queued for it" \
	wait_for '[ "$(xd_counter queued "$h3" 2>/dev/null || echo 0)" -gt 0 ]' 80
check "no collector: none counted sent, none failed" \
	[ "$(xd_counter records "$h3")" = 0 -a "$(xd_counter failed_records "$h3")" = 0 ]
check "no collector: flowgen still waits for its acknowledgements" kill -0 $G3
kill $G3
finish
