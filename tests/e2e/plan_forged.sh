#!/usr/bin/env bash
# Forged plans over the real bus: a publisher of the test's own (libzmq
# through ctypes) stands in for cfgd's plan PUB and sends the forged
# plans of tests/fuzz/corpus/fuzz_plan (encoded by tests/fuzz/mkcorpus
# from proto/netstream.proto, not by our code): a binding naming record
# 9999, a fix-packets sampler of 0, and the others. sampled and exportd
# must stay up, refuse each and count it in bad_plans{reason}; then the
# valid plan sent the same way is followed.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
C=tests/fuzz/corpus/fuzz_plan
FAKE=ipc://$T/fakeplan
start_cfgd # the stats proxy; no revision, so no plan from it

cat >$T/pub.py <<'PY'
import ctypes, sys, time
z = ctypes.CDLL("libzmq.so.5")
z.zmq_ctx_new.restype = ctypes.c_void_p
z.zmq_socket.restype = ctypes.c_void_p
z.zmq_socket.argtypes = [ctypes.c_void_p, ctypes.c_int]
z.zmq_bind.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
z.zmq_send.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                       ctypes.c_int]
ZMQ_PUB, ZMQ_SNDMORE = 1, 2
ctx = z.zmq_ctx_new()
s = z.zmq_socket(ctx, ZMQ_PUB)
if z.zmq_bind(s, sys.argv[1].encode()) != 0:
    sys.exit("bind failed")
msgs = [open(f, "rb").read() for f in sys.argv[3:]]
end = time.time() + float(sys.argv[2])
while time.time() < end:  # again and again: subscribers join late
    for m in msgs:
        z.zmq_send(s, b"plan", 4, ZMQ_SNDMORE)
        z.zmq_send(s, m, len(m), 0)
    time.sleep(0.2)
PY
/usr/bin/python3 $T/pub.py $FAKE 4 $C/record-9999 $C/fix-packets-0 \
	$C/sampler-mode-9 $C/field-unknown $C/slot-300 2>$T/pub.log &
PUB=$!
PIDS="$PIDS $PUB"
sleep 0.3
NETSTREAMD_PLAN_ENDPOINT=$FAKE "$BIN/sampled" --slot 1 2>$T/sampled.log &
SP=$!
NETSTREAMD_PLAN_ENDPOINT=$FAKE "$BIN/exportd" 2>$T/exportd.log &
XP=$!
PIDS="$PIDS $SP $XP"
wait $PUB
check "the forged plans were published" [ $? -eq 0 ]
check "sampled is alive after the forged plans" kill -0 $SP
check "exportd is alive after the forged plans" kill -0 $XP


not_running() { ! grep -q "running generation" $T/sampled.log; }

# latest stats sample of a process: "name value reason" per bad_plans
bad_plans() { # bad_plans PROCESS [--slot N]
	timeout 5 "$NSCTL" stats --json -n 4 "${@:2}" 2>/dev/null |
		grep "\"process\":\"$1\"" | tail -1 |
		grep -o '{"name":"bad_plans","value":[0-9]*,"reason":"[a-z]*"}' |
		sed 's/.*"value":\([0-9]*\),"reason":"\([a-z]*\)".*/\2 \1/'
}
check "sampled ran none of them" not_running
bad_plans sampled --slot 1 >$T/sampled.bad
bad_plans exportd >$T/exportd.bad
for r in record sampler field slot; do
	check "sampled counts bad_plans{reason=$r}" \
		awk -v r=$r '$1 == r && $2 > 0 { f = 1 } END { exit !f }' $T/sampled.bad
	check "exportd counts bad_plans{reason=$r}" \
		awk -v r=$r '$1 == r && $2 > 0 { f = 1 } END { exit !f }' $T/exportd.bad
done
check "sampled logs why: record 9999" grep -q 'refused (record).*record 9999' $T/sampled.log

# the valid plan, the same way: followed
/usr/bin/python3 $T/pub.py $FAKE 2 $C/plan 2>>$T/pub.log
check "sampled follows the valid plan" \
	grep -q 'slot 1: running generation 3: 2 bindings' $T/sampled.log
check "exportd follows the valid plan" \
	grep -q 'plan generation 3: mtu 1400' $T/exportd.log
kill -TERM $SP $XP
wait $SP
check "sampled stops cleanly (rc $?)" [ $? -eq 0 ]
finish
