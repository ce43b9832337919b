#!/usr/bin/env bash
# No process of the group dies of SIGHUP or SIGPIPE: each is sent to
# cfgd, exportd, sampled and nsctl up of a running group; the pids stay,
# nothing is logged as died, and flows still reach the collector. SIGHUP
# to cfgd commits its file again (as nsctl commit would): an edit shows
# as a new revision; a bad edit commits nothing and cfgd logs its
# file:line error. SIGHUP to nsctl up is handed to cfgd.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 150
P=$((20000 + RANDOM % 20000))
"$BIN/pcapgen" --flows 20 --packets 60000 --pps 1000 -o $T/a.pcap >/dev/null
conf() { # conf STATS_INTERVAL_MS
	cat <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r";
           aging = { active_minutes = 60; inactive_seconds = 600; }; };
records = ( { name = "r"; match = [ "source-address", "destination-address" ];
              collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 replay = "realtime"; netstream = [ "inbound" ]; } );
stats_interval_ms = $1;
CONF
}
conf 200 >$T/g.conf
"$NSCTL" collect -p $P -b 127.0.0.1 -t 120 >$T/c.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" up -c $T/g.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'started sampled --slot 1' $T/up.log" 100 || fail "group did not start"
pid_of() { # the pid nsctl up logged last for a child
	grep "started $1" $T/up.log | tail -1 | sed 's/.*(pid \([0-9]*\)).*/\1/'
}
revs() { "$NSCTL" history 2>/dev/null | grep -c '^[0-9]'; }
cached() { "$NSCTL" display cache slot 1 2>/dev/null | sed -n 's/^Slot 1: \([0-9]*\) flows.*/\1/p'; }
wait_for '[ "$(cached)" = 20 ]' 100 || fail "the cache did not fill"
CFGD=$(pid_of cfgd)
EXPORTD=$(pid_of exportd)
SAMPLED=$(pid_of sampled)
declare -A PID=([cfgd]=$CFGD [exportd]=$EXPORTD [sampled]=$SAMPLED ["nsctl up"]=$UP)
for sig in HUP PIPE; do
	for p in cfgd exportd sampled "nsctl up"; do
		kill -$sig "${PID[$p]}"
		sleep 0.5
		check "SIG$sig to $p: it still runs (pid ${PID[$p]})" kill -0 "${PID[$p]}"
	done
done
sleep 1
check "no process died" sh -c "! grep -E 'died|exited' $T/up.log"
for p in cfgd exportd sampled; do
	check "$p keeps its pid" [ "$(pid_of $p)" = "${PID[$p]}" ]
done
check "sampled kept its cache (20 flows)" [ "$(cached)" = 20 ]
"$NSCTL" reset cache slot 1 >/dev/null 2>&1
check "flows still export: the collector got the 20 flows" \
	wait_for '[ "$(grep -c "^data " $T/c.txt)" -ge 20 ]' 50
# SIGHUP to cfgd and to nsctl up committed the (unchanged) file again
check "SIGHUP to cfgd and to nsctl up: two revisions more ($(revs))" \
	wait_for '[ "$(revs)" = 3 ]' 20
check "nsctl up logged that it handed SIGHUP to cfgd" \
	grep -q "SIGHUP: handed to cfgd (pid $CFGD)" $T/up.log

# an edit, then SIGHUP: a new revision, the edit runs
conf 300 >$T/g.conf
kill -HUP "$CFGD"
check "edit + SIGHUP: a new revision (4)" wait_for '[ "$(revs)" = 4 ]' 30
check "... whose comment says SIGHUP" \
	sh -c "'$NSCTL' history | grep '^4 ' | grep -q 'SIGHUP'"
check "... and the edit runs" \
	sh -c "'$NSCTL' show effective | grep -q '^revision 4 ' && '$NSCTL' show running | grep -q 'stats_interval_ms = 300'"

# a bad edit, then SIGHUP: nothing committed, the log names file:line
conf 300 | sed 's/port = '$P'/port = 70000/' >$T/g.conf
kill -HUP "$CFGD"
check "bad edit + SIGHUP: cfgd logs the error at file:line" \
	wait_for "grep -q '$T/g.conf:1: error: port 70000' $T/up.log" 30
check "... and that nothing was committed" \
	grep -q 'SIGHUP: .*nothing committed' $T/up.log
check "... revision 4 stays the latest and runs ($(revs))" \
	sh -c "[ $(revs) = 4 ] && '$NSCTL' show effective | grep -q '^revision 4 '"
check "... cfgd still runs, same pid" kill -0 "$CFGD"

kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
finish
