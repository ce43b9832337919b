# tests/tshark_lib.sh: tshark helpers of the shell tests (sourced after
# tests/lib.sh). The expectations come from tshark's reading of the input
# capture and from DESIGN.md's rules (tests/pcap/oracle.py), and the
# export is read back with tshark's decoder, never with our own.

ORACLE="/usr/bin/python3 $ROOT/tests/pcap/oracle.py"

# oracle ARGS...: tests/pcap/oracle.py (see its header for the commands)
oracle() {
	$ORACLE "$@"
}

# capture_start FILE PORT...: dumpcap on lo, the UDP packets to PORT...,
# bounded in time (CAPTURE_SECONDS, 300) and count; returns once it
# captures. Sets CAPTURE_PID.
capture_start() {
	local out=$1 f="" p
	shift
	for p in "$@"; do f="$f${f:+ or }dst port $p"; done
	dumpcap -i lo -f "udp and ($f)" -w "$out" -a "duration:${CAPTURE_SECONDS:-300}" \
		-c 2000000 -B 64 >"$out.log" 2>&1 &
	CAPTURE_PID=$!
	PIDS="$PIDS $CAPTURE_PID"
	wait_for "grep -qs 'Capturing on' $out.log" 100 || {
		fail "dumpcap did not start: $(cat "$out.log")"
		return 1
	}
}

# capture_stop FILE: stops the capture, fails if the kernel dropped any
capture_stop() {
	local drop
	sleep 0.3
	kill -INT "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
	drop=$(sed -n "s/.*received\/dropped on interface '[^']*': [0-9]*\/\([0-9]*\).*/\1/p" "$1.log")
	[ "${drop:-0}" = 0 ] || fail "dumpcap dropped $drop packets: the checks would miss them"
}

# wire_check CONF PCAP PORT... [--opt=JSON...]: DESIGN.md's wire rules on
# tshark's decode of an export capture; one ok/FAIL line a rule, each
# prefixed with $WIRE_LABEL
wire_check() {
	local line
	while IFS= read -r line; do
		case $line in
		ok:*) ok "${WIRE_LABEL:-}${line#ok: }" ;;
		FAIL:*) fail "${WIRE_LABEL:-}${line#FAIL: }" ;;
		"exit: 0" | "exit: 1") ;;
		exit:*) fail "tests/pcap/oracle.py wirecheck: $line" ;;
		*) echo "$line" ;;
		esac
	done < <($ORACLE wirecheck "$@" 2>&1; echo "exit: $?")
}

# collect_lines FILE: the data records `nsctl collect` printed, in the
# oracle's form (first/last-switched from the earliest start)
collect_lines() {
	grep '^data ' "$1" | cut -d' ' -f4,6- | $ORACLE normalize
}
