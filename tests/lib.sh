# tests/lib.sh: shared helpers of the shell tests (sourced).
# Every test runs in its own temporary run directory and kills what it
# started, whatever happens.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${NS_BUILD:-build}
BIN=$ROOT/$B/bin
NSCTL=$BIN/nsctl
export NETSTREAMD_TIMEOUT_MS=${NETSTREAMD_TIMEOUT_MS:-3000}
export NETSTREAMD_AUTHOR=test

T=$(mktemp -d /tmp/nstest.XXXXXX)
export NETSTREAMD_RUN_DIR=$T/run
PIDS=""
FAILS=0

# A sanitizer report in any log of the test is a failure.
sanitizer_clean() {
	if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T"/*.log 2>/dev/null; then
		echo "FAIL: sanitizer report in the logs above" >&2
		return 1
	fi
	return 0
}

cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

ok() {
	echo "ok: $*"
}

check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# wait_for CONDITION-COMMAND [TRIES]: polls every 0.1 s (bounded)
wait_for() {
	local i=0 tries=${2:-100}
	while [ $i -lt "$tries" ]; do
		eval "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

start_cfgd() { # start_cfgd [ARGS]: cfgd on $T's run dir and database
	"$BIN/cfgd" -d "$T/config.db" "$@" 2>>"$T/cfgd.log" &
	CFGD_PID=$!
	PIDS="$PIDS $CFGD_PID"
	wait_for "[ -S $NETSTREAMD_RUN_DIR/control ]" || fail "cfgd did not start"
}

stop_cfgd() {
	kill "$CFGD_PID" 2>/dev/null
	wait "$CFGD_PID" 2>/dev/null
}

finish() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	sanitizer_clean || FAILS=$((FAILS + 1))
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed; logs kept in $T" >&2
		exit 1
	fi
	exit 0
}
