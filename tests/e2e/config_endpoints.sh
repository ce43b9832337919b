#!/usr/bin/env bash
# The config file's endpoints take effect: cfgd -c binds the control and
# plan sockets the file names, nsctl -c talks to them, and nsctl without
# the file (defaults) does not reach that cfgd; a NETSTREAMD_*_ENDPOINT
# variable still wins over the file.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 60
ALT=$T/alt
mkdir -m 0700 "$ALT"
{ cat tests/config/valid_base.conf
  echo "endpoints = { control = \"ipc://$ALT/control\"; plan = \"ipc://$ALT/plan\"; };"
} >$T/ep.conf
check "the config with endpoints validates" "$NSCTL" validate -c $T/ep.conf

"$BIN/cfgd" -c $T/ep.conf -d $T/config.db 2>>$T/cfgd.log &
PIDS="$PIDS $!"
check "cfgd binds the file's control endpoint" wait_for "[ -S $ALT/control ]"
check "cfgd binds the file's plan endpoint" wait_for "[ -S $ALT/plan ]"
check "... and not the default ones in the run directory" \
	[ ! -e "$NETSTREAMD_RUN_DIR/control" -a ! -e "$NETSTREAMD_RUN_DIR/plan" ]

"$NSCTL" -c $T/ep.conf subscribe plan -n 1 -t 8000 >$T/sub &
SUB=$!
sleep 0.3
check "nsctl -c FILE commits through the file's endpoint" \
	"$NSCTL" -c $T/ep.conf commit -c $T/ep.conf -m endpoints
wait $SUB
check "a subscriber on the file's plan endpoint gets the plan" \
	grep -q '^plan generation 1 revision 1 ' $T/sub
NETSTREAMD_TIMEOUT_MS=1000 "$NSCTL" -c /nonexistent.conf history >$T/h 2>&1
check "nsctl with the defaults does not reach it (exit $?)" [ $? -ne 0 ]
check "a variable wins over the file" \
	env NETSTREAMD_CONTROL_ENDPOINT=ipc://$ALT/control \
	"$NSCTL" -c /nonexistent.conf history
finish
