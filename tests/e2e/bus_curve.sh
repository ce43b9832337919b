#!/usr/bin/env bash
# tcp:// endpoints under CURVE (issue 7). With the keys of `nsctl keygen`,
# cfgd's control socket on tcp:// answers nsctl; a client without CURVE
# gets nothing; a client with an unknown key gets nothing and cfgd logs
# and counts it, until its key is put in authorized/; flow batches reach
# exportd over tcp://; missing keys, or a secret key open to others, stop
# the process at start with the file and the fix; all exit cleanly.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/exportd_lib.sh"
cd "$ROOT" || exit 1
watchdog 180


# cfgd_refused: curve_refused of cfgd's latest stats sample
cfgd_refused() {
	timeout 5 "$NSCTL" stats --json -n 4 2>/dev/null | grep '"process":"cfgd"' |
		tail -1 | grep -o '"name":"curve_refused","value":[0-9]*' |
		sed 's/.*://'
}

start_curve_cfgd() {
	"$BIN/cfgd" -d "$T/config.db" 2>>"$T/cfgd.log" &
	CFGD_PID=$!
	PIDS="$PIDS $CFGD_PID"
	wait_for "listening $CP" || fail "cfgd did not listen on $CP"
}

K=$T/keys
O=$T/other
mode() { stat -c %a "$1"; }

# --- nsctl keygen ---
out=$("$NSCTL" keygen "$K" 2>&1)
check "keygen: exit 0" [ $? -eq 0 ]
check "keygen: the directory is 0700" [ "$(mode "$K")" = 700 ]
check "keygen: server.key is 0600" [ "$(mode "$K/server.key")" = 600 ]
check "keygen: client.key is 0600" [ "$(mode "$K/client.key")" = 600 ]
check "keygen: each key is one line of 40 characters" \
	[ "$(cat "$K"/*.key "$K"/*.pub | grep -c '^.\{40\}$')" = 4 ]
check "keygen: the two keypairs differ" \
	[ "$(cat "$K/server.pub")" != "$(cat "$K/client.pub")" ]
check "keygen: the client key is authorized" \
	cmp -s "$K/client.pub" "$K/authorized/client.pub"
sum=$(cat "$K/server.key" "$K/client.key")
out=$("$NSCTL" keygen "$K" 2>&1)
check "keygen over existing keys: exit 1" [ $? -eq 1 ]
check "keygen over existing keys: says which exists" \
	grep -qF "$K/server.key exists" <<<"$out"
check "keygen over existing keys: they are unchanged" \
	[ "$(cat "$K/server.key" "$K/client.key")" = "$sum" ]

# --- cfgd's control endpoint on tcp:// ---
CP=$(tcp_port $((20000 + $$ % 1000)))
export NETSTREAMD_CONTROL_ENDPOINT=tcp://127.0.0.1:$CP
export NETSTREAMD_CURVE_DIR=$K
start_curve_cfgd
check "cfgd serves the control socket on tcp://" \
	grep -qF "serving tcp://127.0.0.1:$CP" "$T/cfgd.log"

# (a) nsctl with the keys
"$NSCTL" commit -c tests/config/valid_base.conf -m curve >/dev/null 2>&1
check "(a) nsctl with the keys commits over tcp://" [ $? -eq 0 ]
check "(a) nsctl with the keys reads the history over tcp://" \
	sh -c "'$NSCTL' history | grep -q 'curve  (running)'"
# the ipc:// sockets of the same context are not asked for a key
check "(a) the plan still reaches an ipc:// subscriber" \
	sh -c "'$NSCTL' subscribe plan -n 1 -t 5000 | grep -q '^plan generation 1 '"
check "(a) no refusal counted yet" [ "$(cfgd_refused)" = 0 ]

# (b) a client without CURVE: the handshake fails, no reply
out=$(printf 'x' | timeout 30 "$BIN/bussend" "$NETSTREAMD_CONTROL_ENDPOINT" -)
check "(b) a client without CURVE gets no reply ($out)" [ "$out" = "no reply" ]

# (b) the right server key, an unknown client key: ZAP refuses it
"$NSCTL" keygen "$O" >/dev/null || fail "keygen $O"
cp "$K/server.pub" "$O/server.pub"
prefix=$(head -c 8 "$O/client.pub")
out=$(NETSTREAMD_CURVE_DIR=$O NETSTREAMD_TIMEOUT_MS=2000 "$NSCTL" history 2>&1)
check "(b) a client with an unknown key: cfgd unreachable, exit 3" [ $? -eq 3 ]
check "(b) nsctl names the key to authorize" grep -qF "$O/client.pub" <<<"$out"
check "(b) cfgd logs the refusal, key prefix and address" \
	grep -qF "refused CURVE client $prefix from 127.0.0.1" "$T/cfgd.log"
check "(b) cfgd counts the refusal" \
	wait_for '[ "$(cfgd_refused)" -ge 1 ] 2>/dev/null' 20
cp "$O/client.pub" "$K/authorized/other.pub"
NETSTREAMD_CURVE_DIR=$O "$NSCTL" history >/dev/null 2>&1
check "(b) authorized while cfgd runs, the same client gets answers" [ $? -eq 0 ]

# flow batches over tcp:// to exportd, a second process binding with CURVE
FP=$(tcp_port $((CP + 1)))
export NETSTREAMD_FLOWS_ENDPOINT=tcp://127.0.0.1:$FP
"$BIN/exportd" 2>>"$T/exportd.log" &
XD_PID=$!
PIDS="$PIDS $XD_PID"
wait_for "listening $FP" || fail "exportd did not listen on $FP"
g=$(timeout 30 "$FLOWGEN" -n 2000 -b 500 --final -H "127.0.0.1:$(free_port)")
check "flowgen pushed over tcp:// ($g)" [ $? -eq 0 ]
check "exportd received the final batch over tcp://" wait_finals 1 1
kill "$XD_PID"
wait "$XD_PID"
check "exportd exits 0 with its ZAP handler" [ $? -eq 0 ]
unset NETSTREAMD_FLOWS_ENDPOINT

kill "$CFGD_PID"
wait "$CFGD_PID"
check "cfgd exits 0 with its ZAP handler" [ $? -eq 0 ]
check "cfgd no longer listens" sh -c "! ss -Hltn 'sport = :$CP' | grep -q ."

# (c) no keys in the key directory: cfgd does not start
mkdir "$T/empty"
NETSTREAMD_CURVE_DIR=$T/empty timeout 20 "$BIN/cfgd" -d "$T/config.db" \
	2>"$T/nokeys.log"
check "(c) cfgd with tcp:// and no keys exits 1" [ $? -eq 1 ]
check "(c) ... naming the missing file and how to make keys" \
	grep -qF "$T/empty/server.key: No such file or directory; make them with \`nsctl keygen $T/empty\`" \
	"$T/nokeys.log"

# (d) a secret key open to group or others is refused, like ssh does
chmod 644 "$K/server.key"
timeout 20 "$BIN/cfgd" -d "$T/config.db" 2>"$T/openkey.log"
check "(d) cfgd with a server.key of mode 0644 exits 1" [ $? -eq 1 ]
check "(d) ... naming the file and the fix" \
	grep -qF "$K/server.key: a secret key open to group or others (mode 0644): chmod 600 it" \
	"$T/openkey.log"
chmod 600 "$K/server.key"
chmod 640 "$K/client.key"
"$NSCTL" history >/dev/null 2>"$T/nsctl-openkey.log"
check "(d) nsctl with a client.key of mode 0640 exits 1" [ $? -eq 1 ]
check "(d) ... naming the file" \
	grep -qF "$K/client.key: a secret key open to group or others (mode 0640)" \
	"$T/nsctl-openkey.log"
chmod 600 "$K/client.key"
finish
