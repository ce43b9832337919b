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

# A network namespace of the test's own, NS (ns-PID-TAG): `ns CMD` runs
# in it; at exit whatever still runs there (started by the test) is
# killed and the namespace deleted.
# Called again, it makes one more (NS is the newest; NS_ALL has them all).
netns_new() { # netns_new TAG
	NS=ns-$$-$1
	NS_ALL="${NS_ALL:-} $NS"
	trap netns_cleanup EXIT
	ip netns add "$NS" && ip netns exec "$NS" ip link set lo up
}
ns() { ip netns exec "$NS" "$@"; }
netns_cleanup() {
	local n p
	for n in $NS_ALL; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	cleanup
	for n in $NS_ALL; do ip netns del "$n" 2>/dev/null; done
}
# A veth pair in NS, CAP (the captured end) and PEER, IPv6 off on both
# (the kernel sends nothing of its own there), up. IFNAMSIZ: the names
# are ns, LETTER, the pid and c or p, at most 15 characters.
netns_veth() { # netns_veth LETTER
	CAP=ns$1$$c
	PEER=ns$1$$p
	ns ip link add "$CAP" type veth peer name "$PEER" || return 1
	for d in "$CAP" "$PEER"; do
		ns sysctl -qw net.ipv6.conf.$d.disable_ipv6=1
		ns ip link set "$d" up
	done
}

# tcp_port FROM: the first TCP port from FROM on that no socket uses,
# listening or not (in the current network namespace), and below the
# kernel's ephemeral range: a port in it can be taken by any connect()
# (a client of the group under test, to an endpoint bound before) in the
# moment before the process that binds it starts, and its bind fails
tcp_port() {
	local p=$1 lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	while :; do
		[ "$lo" -gt 21000 ] && [ "$p" -ge "$lo" ] &&
			p=$((20000 + (p - 20000) % (lo - 20000)))
		ss -Htan "sport = :$p" | grep -q . || break
		p=$((p + 1))
	done
	echo $p
}

# listening PORT: something listens on TCP port PORT
listening() { ss -Hltn "sport = :$1" | grep -q .; }

# bus_tcp [ADDR]: every endpoint of the bus on tcp://ADDR (127.0.0.1 by
# default; an IPv6 address in brackets) under CURVE, with the keys of
# `nsctl keygen` in $T/keys: the variables every process reads (cfgd(8),
# sampled(8), exportd(8)), the slots' query sockets 1 to 4 included.
bus_tcp() {
	local a=${1:-127.0.0.1} p=$((20000 + RANDOM % 10000)) v
	[ -d "$T/keys" ] || "$NSCTL" keygen "$T/keys" >/dev/null || return 1
	export NETSTREAMD_CURVE_DIR=$T/keys
	for v in CONTROL PLAN FLOWS ACKS STATS_IN STATS SLOT_1 SLOT_2 SLOT_3 \
		SLOT_4; do
		p=$(tcp_port $p)
		export NETSTREAMD_${v}_ENDPOINT=tcp://$a:$p
		p=$((p + 1))
	done
}

# bus_from_env: with NS_BUS=tcp, the test runs with every endpoint on
# tcp://127.0.0.1 under CURVE (bus_tcp): the same checks, over the bus a
# multi-host group uses (tests/e2e/*_tcp.sh set it)
bus_from_env() {
	case "${NS_BUS:-ipc}" in
	ipc) ;;
	tcp) bus_tcp || fail "bus_tcp: no keys" ;;
	*) fail "NS_BUS=$NS_BUS: ipc or tcp" ;;
	esac
}

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
	# the socket of a cfgd before it may still be there, until the new
	# one replaces it: wait for the new one to say it serves
	local before
	before=$(grep -c 'cfgd: serving' "$T/cfgd.log" 2>/dev/null)
	"$BIN/cfgd" -d "$T/config.db" "$@" 2>>"$T/cfgd.log" &
	CFGD_PID=$!
	PIDS="$PIDS $CFGD_PID"
	wait_for "[ -S $NETSTREAMD_RUN_DIR/control ] &&
		[ \$(grep -c 'cfgd: serving' $T/cfgd.log) -gt ${before:-0} ]" ||
		fail "cfgd did not start"
}

stop_cfgd() {
	kill "$CFGD_PID" 2>/dev/null
	wait "$CFGD_PID" 2>/dev/null
}

# skip REASON: the test cannot run its checks here (a tool, a capture
# corpus, a privilege is missing): says why and exits 77, which
# tests/run-all reports apart (and fails in CI for a required suite).
# What the test started is stopped first, as finish() does; a test that
# has already failed a check, or whose logs hold a sanitizer report,
# fails instead of skipping.
skip() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$FAILS" -eq 0 ] && sanitizer_clean >/dev/null 2>&1; then
		echo "skip: $*"
		exit 77
	fi
	echo "FAIL: cannot skip ($*) after a failure" >&2
	finish
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

# exportd_sent: waits (bounded) until exportd has no export packet in
# flight: one the kernel took counts as sent (or failed) only after 5 s
# without an ICMP error for it (exportd(8), HOSTS THAT FAIL). Only a
# sample exportd made after the call counts (the proxy may hand an older
# one to a new subscriber).
exportd_sent() {
	EXPORTD_SENT_FROM=$(date +%s%3N)
	wait_for '[ "$(_exportd_in_flight)" = 0 ]' 150
}
_exportd_in_flight() {
	timeout 5 "$NSCTL" stats --json -n 4 2>/dev/null | grep '"process":"exportd"' |
		python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    # not nsctl up, whose sample has labels process="exportd" too
    if d["process"] == "exportd" and d["time_ms"] >= int(sys.argv[1]):
        print(sum(c["value"] for c in d["counters"]
                  if c["name"] == "packets_in_flight"))
        break' "$EXPORTD_SENT_FROM" 2>/dev/null
}

# Independent ground truth: per IPv6 5-tuple packets and bytes (payload
# length + 40) of a capture, as tshark decodes it; only packets whose
# first network header is IPv6, as a NetStream exporter counts them.
# Prints "src dst proto sport dport packets bytes", sorted.
tshark_flows() {
	tshark -r "$1" -T fields -E separator=' ' -E occurrence=f \
		-e frame.protocols -e ipv6.src -e ipv6.dst -e tcp.srcport \
		-e tcp.dstport -e udp.srcport -e udp.dstport -e icmpv6.type \
		-e icmpv6.code -e ipv6.plen 2>/dev/null |
	awk '{
		split($1, p, ":"); first = ""
		for (i = 1; i in p; i++) if (p[i] == "ip" || p[i] == "ipv6") { first = p[i]; break }
		if (first != "ipv6") next
		# fields after the protocol list; empty ones are not printed
		n = split($0, f, " ")
	}
	first == "ipv6" {
		proto = 0; sp = 0; dp = 0
		if ($1 ~ /:tcp/) { proto = 6; sp = $4; dp = $5; plen = $6 }
		else if ($1 ~ /:udp/) { proto = 17; sp = $4; dp = $5; plen = $6 }
		else if ($1 ~ /:icmpv6/) { proto = 58; sp = 0; dp = $4 * 256 + $5; plen = $6 }
		else { plen = $4 }
		k = $2 " " $3 " " proto " " sp " " dp
		pk[k]++; by[k] += plen + 40
	}
	END { for (k in pk) print k, pk[k], by[k] }' | sort
}

# The same totals from `nsctl collect` text output (flows summed).
collect_flows() {
	grep '^data ' "$1" | awk '{
		delete v
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		k = v["source-address"] " " v["destination-address"] " " v["protocol"] " " v["source-port"] " " v["destination-port"]
		pk[k] += v["packets"]; by[k] += v["bytes"]
	}
	END { for (k in pk) print k, pk[k], by[k] }' | sort
}

# ... and from an nfcapd directory, read back with nfdump.
nfdump_flows() {
	nfdump -R "$1" -o csv -q 2>/dev/null | awk -F, '
	NF > 13 {
		pr = $8; if (pr == "TCP") pr = 6; else if (pr == "UDP") pr = 17; else if (pr == "ICMP6") pr = 58
		k = $4 " " $5 " " pr " " $6 " " $7
		pk[k] += $12; by[k] += $13
	}
	END { for (k in pk) print k, pk[k], by[k] }' | sort
}

# start_nfcapd PORT DIR: nfcapd on 127.0.0.1:PORT writing to DIR, its
# output in $T/nfcapd-PORT.out; bound before it returns, stopped at exit
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

# ns_group_up CONF WANT: in $NS, `nsctl collect` on [::1]:$P into
# $T/collect.txt (COL) and `nsctl up -c CONF` (UP, its log $T/up.log);
# returns when the log holds WANT (a grep pattern), 1 after 10 s
ns_group_up() {
	ip netns exec "$NS" "$NSCTL" collect -p $P -b ::1 -t 60 \
		>$T/collect.txt 2>$T/collect.log &
	COL=$!
	PIDS="$PIDS $COL"
	ip netns exec "$NS" "$NSCTL" up -c "$1" >$T/up.out 2>$T/up.log &
	UP=$!
	PIDS="$PIDS $UP"
	wait_for "grep -q '$2' $T/up.log" 100
}

# watchdog SECS: the test's own bound: whatever hangs, it ends (and its
# EXIT trap cleans up); the TERM trap may run inside a redirected
# command, so it writes to the test's own output
watchdog() {
	exec 3>&1 4>&2
	trap 'exec 1>&3 2>&4; fail "timed out after '"$1"' s; logs in $T"; exit 1' TERM
	(
		trap 'kill $s 2>/dev/null; exit 0' TERM
		sleep "$1" </dev/null >/dev/null 2>&1 &
		s=$!
		wait $s && kill -TERM $$
	) &
	WATCHDOG=$!
	PIDS="$PIDS $WATCHDOG"
}

same() { # same WANT GOT: diff, shown short
	diff -u "$1" "$2" >"$2.diff" && return 0
	head -n 20 "$2.diff"
	return 1
}
