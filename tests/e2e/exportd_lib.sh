# tests/e2e/exportd_lib.sh: helpers of the exportd tests (sourced after
# tests/lib.sh; not executable, so tests/run-all does not run it).

FLOWGEN=$BIN/flowgen

# free_port: a UDP port nobody on this machine listens on
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		ss -uln | grep -q ":$p " || { echo $p; return; }
	done
}

start_exportd() {
	rm -f "$NETSTREAMD_RUN_DIR/flows"
	"$BIN/exportd" 2>>"$T/exportd.log" &
	XD_PID=$!
	PIDS="$PIDS $XD_PID"
	wait_for "[ -S $NETSTREAMD_RUN_DIR/flows ]" || fail "exportd did not start"
}

# nf_stat DIR KEY: a line of `nfdump -I` (Flows, Packets, Bytes, ...)
nf_stat() {
	nfdump -R "$1" -I 2>/dev/null | awk -F': ' -v k="$2" '$1 == k { print $2 }'
}

# xd_stats: the latest exportd stats sample, one counter per line:
#   name value label=value...
xd_stats() {
	timeout 5 "$NSCTL" stats --json -n 3 2>/dev/null | grep '"process":"exportd"' |
		tail -1 | python3 -c '
import json, sys
for line in sys.stdin:
    for c in json.loads(line)["counters"]:
        labels = " ".join("%s=%s" % (k, v) for k, v in c.items()
                          if k not in ("name", "value"))
        print(c["name"], c["value"], labels)
'
}

# Counters exportd publishes only when they are not zero: send_errors
# (per host and errno, exportd.c stats_hosts) and bad_batches (per reason,
# stats_send). Every other counter is in each sample once its object
# (host, slot, template) exists, zero or not.
XD_SPARSE="send_errors bad_batches"

# xd_counter NAME [LABELS]: the sum of the counters NAME of the latest
# exportd sample whose labels include each of LABELS (one argument,
# "key=value ..." separated by spaces, each matched whole). No sample at
# all, or no such counter: prints nothing, says why on stderr and returns
# 1, so the check that uses it fails; never a 0 made up. A counter of
# XD_SPARSE absent from a sample that did arrive is 0, provided the host=
# it names is in the sample (exportd knows that host).
xd_counter() {
	local s
	s=$(xd_stats)
	if [ -z "$s" ]; then
		echo "xd_counter $1 ${2:-}: no exportd stats sample" >&2
		return 1
	fi
	printf '%s\n' "$s" | awk -v n="$1" -v l="${2:-}" -v sparse=" $XD_SPARSE " '
	BEGIN { k = split(l, want, " ") }
	{ for (j = 3; j <= NF; j++) seen[$j] = 1 }
	$1 == n {
		for (i = 1; i <= k; i++) {
			has = 0
			for (j = 3; j <= NF; j++)
				if ($j == want[i]) has = 1
			if (!has) next
		}
		sum += $2; found = 1
	}
	END {
		if (found) { print sum; exit 0 }
		if (index(sparse, " " n " ")) {
			for (i = 1; i <= k; i++)
				if (want[i] ~ /^host=/ && !(want[i] in seen)) {
					printf "xd_counter %s %s: no %s in the sample\n", n, l, want[i] >"/dev/stderr"
					exit 1
				}
			print 0; exit 0
		}
		printf "xd_counter %s %s: no such counter in the sample\n", n, l >"/dev/stderr"
		exit 1
	}'
}

# wait_finals SLOT N [TRIES]: exportd has exported N final batches of SLOT
wait_finals() {
	wait_for "_xd_at_least finals slot=$1 $2" "${3:-20}"
}
_xd_at_least() { # NAME LABELS MIN: the counter is there and >= MIN
	local v
	v=$(xd_counter "$1" "$2" 2>/dev/null) && [ "$v" -ge "$3" ]
}

# wait_sent: no export packet in flight (tests/lib.sh exportd_sent)
wait_sent() {
	exportd_sent
}

# flowgen_field OUTPUT KEY: a total that flowgen printed
flowgen_field() {
	echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}
