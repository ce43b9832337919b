#!/usr/bin/env bash
# Special files are refused, never opened and waited on (issue 14): a FIFO
# as the config of `nsctl validate -c` and of `cfgd -c`, and as the routes
# file, each ends at once with an error naming it; cfgd keeps answering.
# Each command is bounded by timeout(1): 124 would mean it blocked.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 60
mkfifo $T/fifo.conf $T/routes.fifo
out=$(timeout 10 "$NSCTL" validate -c $T/fifo.conf 2>&1)
rc=$?
check "nsctl validate -c FIFO ends with exit 1 (got $rc)" [ $rc -eq 1 ]
check "... naming the file: not a regular file" \
	grep -q "fifo.conf: not a regular file" <<<"$out"
timeout 10 "$BIN/cfgd" -c $T/fifo.conf -d $T/x.db -r $T/run2 2>$T/cfgd2.log
rc=$?
check "cfgd -c FIFO: refused with exit 1 (got $rc)" [ $rc -eq 1 ]
check "... naming the file" grep -q "fifo.conf: not a regular file" $T/cfgd2.log
sed -e "s|etc/routes.txt|$T/routes.fifo|" tests/config/routes_ok.conf >$T/r.conf
start_cfgd
out=$(timeout 10 "$NSCTL" commit -c $T/r.conf 2>&1)
rc=$?
check "a routes file that is a FIFO: commit refused with exit 1 (got $rc)" [ $rc -eq 1 ]
check "... at file:line, naming the routes file" \
	grep -q "r.conf:[0-9]*: error: routes file: .*routes.fifo: not a regular file" <<<"$out"
check "cfgd still answers" timeout 10 "$NSCTL" history
finish
