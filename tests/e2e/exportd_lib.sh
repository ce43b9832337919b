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

# start_nfcapd PORT DIR: nfcapd on 127.0.0.1:PORT writing to DIR
start_nfcapd() {
	mkdir -p "$2"
	nfcapd -p "$1" -b 127.0.0.1 -w "$2" -t 3600 -B 4194304 \
		>>"$T/nfcapd-$1.out" 2>&1 &
	PIDS="$PIDS $!"
	eval "NFCAPD_$1=$!"
	wait_for "ss -uln | grep -q ':$1 '" || fail "nfcapd on $1 did not start"
}

# stop_nfcapd PORT: SIGTERM makes nfcapd write its file
stop_nfcapd() {
	local pid
	eval "pid=\$NFCAPD_$1"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
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

# xd_counter NAME [LABELS]: a counter of the latest sample (0 if absent)
xd_counter() {
	xd_stats | awk -v n="$1" -v l="${2:-}" \
		'$1 == n && (l == "" || index($0, l)) { print $2; f = 1; exit }
		 END { if (!f) print 0 }'
}

# wait_finals SLOT N: exportd has exported N final batches of SLOT
wait_finals() {
	wait_for "[ \"\$(xd_counter finals slot=$1)\" -ge $2 ]" "${3:-20}"
}

# flowgen_field OUTPUT KEY: a total that flowgen printed
flowgen_field() {
	echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}
