#!/usr/bin/env bash
# The whole pipeline as a user runs it: `nsctl run` on the 10M-packet
# traces of bench/run (cfgd, sampled, exportd, export to a real nfcapd on
# loopback), from start to exit, beside softflowd on the same trace in the
# same run; at the default pace (5000 export packets a second a host)
# and at pace_pps 1000000 with nfcapd's buffer at 16 MiB. Prints a table
# (best of BENCH_RUNS rounds, default 2) and the flows nfdump read back.
# Asserts nothing.
source "$(dirname "$0")/../tests/lib.sh"
cd "$ROOT" || exit 1
W=${NS_BENCH_DIR:-$ROOT/build/bench}
RUNS=${BENCH_RUNS:-2}
for t in t100k t1m; do
	[ -s "$W/$t.pcap" ] || { echo "pipeline: $W/$t.pcap missing: run bench/run first"; exit 1; }
done

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }

pipeline_run() { # pipeline_run TRACE PACE -> "seconds flows"
	local p=$((20000 + RANDOM % 20000)) pace="" nf t0 t1 flows
	[ "$2" = default ] || pace="pace_pps = $2;"
	cat >$T/p.conf <<CONF
system = { export = { source = { address = "127.0.0.1"; };
                      hosts = ( { address = "127.0.0.1"; port = $p; $pace } ); };
           apply_record = "r";
           aging = { active_minutes = 60; inactive_seconds = 600; }; };
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched",
              "tcp-flags" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$W/$1.pcap";
                 netstream = [ "inbound" ]; } );
cache = { entries = 2097152; };
CONF
	rm -rf $T/nf $T/run
	mkdir -p $T/nf
	nfcapd -p $p -b 127.0.0.1 -w $T/nf -t 3600 -B 16777216 >/dev/null 2>&1 &
	nf=$!
	wait_for "ss -uln | grep -q ':$p '"
	export NETSTREAMD_RUN_DIR=$T/run
	t0=$(date +%s.%N)
	"$NSCTL" run -c $T/p.conf >/dev/null 2>&1
	t1=$(date +%s.%N)
	kill $nf
	wait $nf 2>/dev/null
	flows=$(nfdump -R $T/nf -I 2>/dev/null | awk -F': ' '$1 == "Flows" { print $2 }')
	echo "$(secs $t0 $t1) ${flows:-0}"
}

softflowd_run() { # softflowd_run TRACE -> seconds
	local t0 t1
	t0=$(date +%s.%N)
	(cd "$W" && softflowd -r "$1.pcap" -v 9 -6 -d -m 2000000 \
		-n 127.0.0.1:9 >/dev/null 2>&1)
	t1=$(date +%s.%N)
	secs $t0 $t1
}

best() { sort -n | head -1; }
printf "| %-6s | %-10s | %10s | %10s | %12s | %12s | %8s |\n" trace pace "nsctl run" "softflowd" "pipeline pps" "flows (nfdump)" "vs soft"
printf "|%s|%s|%s|%s|%s|%s|%s|\n" -------- ------------ ------------ ------------ -------------- ---------------- ----------
for t in t100k t1m; do
	: >$T/sf
	for pace in default 1000000; do
		: >$T/pl
		for r in $(seq "$RUNS"); do
			pipeline_run $t $pace >>$T/pl
			[ $pace = default ] && softflowd_run $t >>$T/sf
		done
		read s flows <<<"$(sort -n $T/pl | head -1)"
		sf=$(best <$T/sf)
		printf "| %-6s | %-10s | %8s s | %8s s | %12.0f | %14s | %7.2fx |\n" \
			$t $pace $s $sf "$(awk -v s=$s 'BEGIN { print 10000000 / s }')" \
			$flows "$(awk -v a=$s -v b=$sf 'BEGIN { print b / a }')"
	done
done
ok "pipeline bench ran"
finish
