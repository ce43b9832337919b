#!/usr/bin/env bash
# Malformed input gives a clear error and cfgd keeps serving: truncated,
# binary, 100 MB and missing config files; bad requests over the socket.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
start_cfgd
"$NSCTL" commit -c tests/config/valid_base.conf >/dev/null || fail "first commit"
serving() { "$NSCTL" history >/dev/null 2>&1; }

out=$("$NSCTL" commit -c tests/config/truncated.conf 2>&1)
check "truncated file: exit 1" [ $? -eq 1 ]
check "truncated file: file:line" grep -q '^tests/config/truncated.conf:12: error: syntax error' <<<"$out"

out=$("$NSCTL" commit -c tests/config/binary.conf 2>&1)
check "binary file: exit 1" [ $? -eq 1 ]
check "binary file: says binary" grep -q 'binary data' <<<"$out"
head -c 3000 /dev/urandom | tr -d '\000' >$T/rand.conf
out=$("$NSCTL" commit -c $T/rand.conf 2>&1)
check "random bytes: exit 1" [ $? -eq 1 ]
check "random bytes: an error with a line" grep -q "^$T/rand.conf:[0-9]*: error: " <<<"$out"

truncate -s 100M $T/big.conf
out=$("$NSCTL" commit -c $T/big.conf 2>&1)
check "100 MB file: exit 1" [ $? -eq 1 ]
check "100 MB file: names the limit" grep -q 'file is 104857600 bytes, the limit is 1048576 bytes' <<<"$out"
out=$("$NSCTL" validate -c $T/big.conf 2>&1)
check "100 MB file: validate refuses too" grep -q 'the limit is 1048576 bytes' <<<"$out"

out=$("$NSCTL" commit -c $T/missing.conf 2>&1)
check "missing file: exit 1" [ $? -eq 1 ]
check "missing file: says so" grep -q 'No such file or directory' <<<"$out"
check "cfgd serves after bad files" serving

EP=ipc://$NETSTREAMD_RUN_DIR/control
head -c 512 /dev/urandom >$T/garbage
printf '' >$T/empty
printf '\010\002' >$T/version2      # Envelope{proto_version: 2}
printf '\010\001' >$T/nomsg         # Envelope{proto_version: 1}, no message
printf '\010\001\122\002\010\077' >$T/badverb # a request with verb 63
head -c 5000000 /dev/zero >$T/huge
check "garbage request: bad request reply" \
	grep -q '^status 2: bad request: decode' <("$BIN/bussend" $EP $T/garbage)
check "empty request: bad request reply" \
	grep -q '^status 2: bad request: version' <("$BIN/bussend" $EP $T/empty)
check "wrong version: bad request reply" \
	grep -q '^status 2: bad request: version' <("$BIN/bussend" $EP $T/version2)
check "no message: bad request reply" \
	grep -q '^status 2: bad request: empty' <("$BIN/bussend" $EP $T/nomsg)
check "unknown verb: bad request reply" \
	grep -q '^status 2: bad request: unknown verb' <("$BIN/bussend" $EP $T/badverb)
check "three frames: bad request reply" \
	grep -q '^status 2: bad request: frames' <("$BIN/bussend" $EP $T/nomsg --frames 3)
check "5 MB request: refused by the size limit (no reply)" \
	grep -q '^no reply' <("$BIN/bussend" $EP $T/huge)
check "cfgd serves after bad requests" serving
check "cfgd still runs revision 1" sh -c "'$NSCTL' show effective | grep -q '^revision 1 '"
check "cfgd is alive" kill -0 "$CFGD_PID"
finish
