#!/usr/bin/env bash
# Strings are UTF-8 at the edge (issue 14, item 10). A config's names and
# the commit's author went into proto3 strings (the plan, the history) as
# they came; a protobuf reader refuses a string that is not UTF-8, so one
# Latin-1 byte made `history` unreadable to any other client. Now: a
# config that is not UTF-8 is an error naming its line; an author (or
# comment) that is not UTF-8 is refused, by nsctl and by cfgd (a client
# other than nsctl); history read from an older database is scrubbed.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 60
A=tests/config/valid_base.conf
nrev() { sqlite3 $T/config.db 'SELECT count(*) FROM revisions'; }
utf8() { iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; }

# a Latin-1 byte in an interface name
sed 's|name = "GigabitEthernet1/0/0"|name = "Gigabit\xe9thernet1/0/0"|' $A >$T/latin1.conf
line=$(grep -n -a $'\xe9' $T/latin1.conf | cut -d: -f1)
check "the test config has its Latin-1 byte on one line (${line:-none})" [ -n "$line" ]
out=$("$NSCTL" validate -c $T/latin1.conf 2>&1)
rc=$?
echo "  $out"
check "nsctl validate refuses it (exit $rc)" [ $rc -eq 1 ]
check "the error names line $line and says UTF-8" \
	grep -q "^$T/latin1.conf:$line: error: not UTF-8 (byte 0xe9" <<<"$out"
# the same name in UTF-8 is a name like any other
sed 's|name = "GigabitEthernet1/0/0"|name = "Gigabit\xc3\xa9thernet1/0/0"|' $A >$T/utf8.conf
check "the same name in UTF-8 validates" "$NSCTL" validate -c $T/utf8.conf

start_cfgd
out=$("$NSCTL" commit -c $T/latin1.conf 2>&1)
rc=$?
check "cfgd refuses the commit (exit $rc)" [ $rc -eq 1 ]
check "with the line" grep -q "^$T/latin1.conf:$line: error: not UTF-8" <<<"$out"
check "nothing was stored ($(nrev) revisions)" [ "$(nrev)" = 0 ]

# the author
out=$(NETSTREAMD_AUTHOR=$'r\xe9my' "$NSCTL" commit -c $A 2>&1)
rc=$?
echo "  $out"
check "nsctl refuses an author that is not UTF-8 (exit $rc)" [ $rc -eq 2 ]
check "and says so" grep -q 'the author (NETSTREAMD_AUTHOR.*) is not UTF-8 text' <<<"$out"
out=$("$NSCTL" commit -c $A -m $'caf\xe9' 2>&1)
check "... and a comment that is not" grep -q 'the comment (-m) is not UTF-8' <<<"$out"
check "nothing was stored ($(nrev) revisions)" [ "$(nrev)" = 0 ]

# cfgd itself refuses it from another client: a request written here by
# hand (proto3 wire format: Envelope{1: 1, 10: ControlRequest{1: COMMIT,
# 3: text, 5: author}})
/usr/bin/python3 - "$A" >$T/req.bin <<'PY'
import sys
def varint(n):
    b = b""
    while True:
        x = n & 0x7f; n >>= 7
        if n: b += bytes([x | 0x80])
        else: return b + bytes([x])
def ld(field, data): return varint(field << 3 | 2) + varint(len(data)) + data
text = open(sys.argv[1], "rb").read()
req = varint(1 << 3) + varint(2) + ld(3, text) + ld(5, b"r\xe9my")
sys.stdout.buffer.write(varint(1 << 3) + varint(1) + ld(10, req))
PY
out=$("$BIN/bussend" ipc://$NETSTREAMD_RUN_DIR/control $T/req.bin 2>&1)
echo "  $out"
check "cfgd refuses a request whose author is not UTF-8" \
	grep -q '^status 2: bad request: author is not UTF-8' <<<"$out"
check "nothing was stored ($(nrev) revisions)" [ "$(nrev)" = 0 ]

# a UTF-8 author works, and history carries it as it was given
NETSTREAMD_AUTHOR=$'r\xc3\xa9my' "$NSCTL" commit -c $T/utf8.conf >/dev/null
check "a UTF-8 author commits (revision 1)" [ "$(nrev)" = 1 ]
"$NSCTL" history >$T/h1
check "history shows the author as given" grep -q $'^1 .* r\xc3\xa9my ' $T/h1
"$NSCTL" show effective >$T/eff
check "the plan keeps the UTF-8 interface name" grep -q $'Gigabit\xc3\xa9thernet1/0/0' $T/eff

# a database written before the check: history still decodes, scrubbed
sqlite3 $T/config.db "UPDATE revisions SET author = CAST(X'6aff6f' AS TEXT) WHERE id = 1"
"$NSCTL" history >$T/h2
rc=$?
check "history of a stored non-UTF-8 author is answered (exit $rc)" [ $rc -eq 0 ]
check "and is UTF-8 (iconv reads it)" utf8 $T/h2
check "the bad byte shows as '?'" grep -q '^1 .* j?o ' $T/h2
finish
