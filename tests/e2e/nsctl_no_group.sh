#!/usr/bin/env bash
# Every nsctl verb that talks to the group ends within its timeout with
# exit 3 and the one "cfgd unreachable" message when the group is not
# there: no socket at all, or a socket left by a cfgd killed with -9
# (nothing answers). No verb waits for stats or plans that never come.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
export NETSTREAMD_TIMEOUT_MS=1000
A=tests/config/valid_base.conf
VERBS=(
	"stats" "stats --json" "stats -n 1" "stats -t 1000"
	"stats -n 1 -t 1000" "stats --json -n 1 -t 1000" "stats --watch"
	"stats --slot 1" "stats --prometheus"
	"subscribe plan" "subscribe plan -t 1000" "subscribe stats -n 1"
	"display statistics" "display template" "display monitor"
	"display interface" "display cache slot 1" "display statistics --json"
	"history" "show" "show effective" "diff 1 2" "rollback 1"
	"commit -c $A" "reset statistics" "reset cache"
)
round() { # round WHY: every verb, bounded by timeout(1)
	local v out rc t0 ms
	for v in "${VERBS[@]}"; do
		t0=$(date +%s%N)
		# shellcheck disable=SC2086
		out=$(timeout 10 "$NSCTL" $v </dev/null 2>&1 >/dev/null)
		rc=$?
		ms=$((($(date +%s%N) - t0) / 1000000))
		if [ $rc -eq 3 ] && grep -q "cfgd unreachable at $NETSTREAMD_RUN_DIR/control\|cfgd unreachable at ipc://$NETSTREAMD_RUN_DIR/control" <<<"$out"; then
			ok "$1: nsctl $v: exit 3, cfgd unreachable ($ms ms)"
		else
			fail "$1: nsctl $v: exit $rc after $ms ms: $(head -1 <<<"$out")"
		fi
	done
}
mkdir -p "$NETSTREAMD_RUN_DIR" && chmod 700 "$NETSTREAMD_RUN_DIR"
round "no group"

# a cfgd killed with -9 leaves its sockets behind: nothing answers there
start_cfgd
"$NSCTL" commit -c $A -m first >/dev/null || fail "first commit"
# cfgd there: its own stats come, and -t still bounds -n
check "cfgd there: stats --json -n 1 gives a sample" \
	sh -c "timeout 10 '$NSCTL' stats --json -n 1 | grep -q '\"process\":\"cfgd\"'"
t0=$(date +%s)
out=$(timeout 10 "$NSCTL" stats -n 1000 -t 1000 2>&1 >/dev/null)
rc=$?
el=$(($(date +%s) - t0))
check "cfgd there: stats -n 1000 -t 1000 ends in time, exit 1 (exit $rc, $el s)" \
	test $rc -eq 1 -a $el -le 3
check "... saying how many samples came" grep -q 'of 1000 samples received in 1000 ms' <<<"$out"
kill -9 "$CFGD_PID"
wait "$CFGD_PID" 2>/dev/null
check "the dead cfgd's control socket is still there" [ -S "$NETSTREAMD_RUN_DIR/control" ]
round "dead cfgd"
finish
