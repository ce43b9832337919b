#!/usr/bin/env bash
# Stopping is bounded with exportd absent: a replay pushes a batch per
# second of pcap time (30000 s of one-packet flows), more than the flow
# socket queues, so sampled waits for exportd, as a replay does. SIGTERM
# then ends it within NETSTREAMD_HANDOVER_WAIT_MS (README: it waits that
# long for the last acks), here 2 s, plus a margin for the shutdown work:
# 12 s in all (before the fix it stayed blocked in zmq_send). What it
# held unacknowledged is reported, not silently dropped.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 180
WAIT_MS=2000
BOUND=12
"$BIN/pcapgen" --flows 20 --packets 30000 --pps 1 --seed 5 -o $T/slow.pcap \
	>/dev/null || fail "pcapgen"
cat >$T/a.conf <<CONF
system = {
  export = { hosts = ( { address = "127.0.0.1"; port = 9; } ); };
  apply_record = "five";
  aging = { active_seconds = 15; inactive_seconds = 5; };
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/slow.pcap";
                 netstream = [ "inbound" ]; } );
CONF
start_cfgd
"$NSCTL" commit -c $T/a.conf >/dev/null || fail "commit"
# no exportd: nothing takes the batches
NETSTREAMD_HANDOVER_WAIT_MS=$WAIT_MS "$BIN/sampled" --slot 1 \
	2>$T/sampled.log &
SP=$!
PIDS="$PIDS $SP"
# the flow socket's queue (10000 batches) fills: sampled waits
wait_for "grep -q 'running generation' $T/sampled.log" 100 ||
	fail "sampled did not take the plan"
sleep 3
check "sampled is still replaying (waiting for exportd)" kill -0 $SP
start=$(date +%s%N)
kill -TERM $SP
i=0
while kill -0 $SP 2>/dev/null && [ $i -lt $((BOUND * 10 + 50)) ]; do
	sleep 0.1
	i=$((i + 1))
done
took=$((($(date +%s%N) - start) / 1000000))
check "sampled stopped within $BOUND s of SIGTERM (took $took ms)" \
	[ $took -le $((BOUND * 1000)) ]
kill -0 $SP 2>/dev/null && kill -9 $SP # still blocked: the check failed
wait $SP
rc=$?
check "sampled exited 0 (rc $rc)" [ $rc -eq 0 ]
check "sampled says what exportd did not acknowledge" \
	grep -q 'exportd did not acknowledge' $T/sampled.log
finish
