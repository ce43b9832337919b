#!/usr/bin/env bash
# exportd on a run directory whose filesystem is full: its state file
# (mapped shared) cannot get its blocks. It must stop with a message
# naming the file and the reason, not die of SIGBUS on the first store
# into the mapping; with the space back it starts. The filesystem is a
# 1 MiB tmpfs the test mounts in its own directory and unmounts.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
mkdir -p $T/full
if ! mount -t tmpfs -o size=1m,mode=0700 tmpfs $T/full 2>$T/mount.log; then
	echo "skip: cannot mount a tmpfs here ($(cat $T/mount.log))"
	exit 77
fi
trap 'umount $T/full 2>/dev/null; cleanup' EXIT
RUN=$T/full/run
mkdir -m 0700 $RUN
dd if=/dev/zero of=$T/full/fill bs=4k 2>/dev/null # until no space is left
check "the filesystem is full" [ "$(df --output=avail -B1 $T/full | tail -1)" -lt 4096 ]

timeout 20 "$BIN/exportd" -r $RUN 2>$T/exportd1.log
rc=$?
check "exportd stops on its own (rc $rc: not the timeout's 124)" [ $rc -ne 124 ]
check "... with exit status 1, not killed by a signal (rc $rc)" [ $rc -eq 1 ]
check "... naming exportd.state and why" \
	grep -q 'exportd.state.*No space left on device' $T/exportd1.log

rm -f $T/full/fill
"$BIN/exportd" -r $RUN 2>$T/exportd2.log &
XP=$!
PIDS="$PIDS $XP"
check "with space, exportd starts with a new state file" \
	wait_for "grep -q 'hand-over state in .*exportd.state (new)' $T/exportd2.log" 50
check "... and keeps running" kill -0 $XP
kill -TERM $XP
wait $XP
rc=$?
check "... and stops cleanly (rc $rc)" [ $rc -eq 0 ]
finish
