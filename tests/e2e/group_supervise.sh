#!/usr/bin/env bash
# kill -9 of any child under nsctl up: it is restarted, the death is
# logged with its signal, and the group serves again (cfgd answers with
# the latest revision; exportd and sampled publish stats under new pids).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
P=$((20000 + RANDOM % 20000))
"$BIN/pcapgen" --flows 20 --packets 30000 --pps 1000 -o $T/a.pcap >/dev/null
cat >$T/g.conf <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address" ];
              collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 replay = "realtime"; netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF
"$NSCTL" up -c $T/g.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'started sampled --slot 1' $T/up.log" 100 || fail "group did not start"
pid_of() { # the pid nsctl up logged last for a child
	grep "started $1" $T/up.log | tail -1 | sed 's/.*(pid \([0-9]*\)).*/\1/'
}
stats_pid() { # the pid in the latest stats of a process
	timeout 5 "$NSCTL" stats --json -n 6 2>/dev/null | grep "\"process\":\"$1\"" |
		tail -1 | sed 's/.*"pid":\([0-9]*\).*/\1/'
}
# sampled keeps only net_raw and net_admin, from its start on (nsctl logs
# the start at fork: a sanitizer build takes a while to get to the drop;
# every thread's sets: privs_threads.sh)
sp=$(pid_of sampled)
wait_for "grep -q '^NoNewPrivs:.*1' /proc/$sp/status" 100
check "sampled runs with no new privileges" grep -q '^NoNewPrivs:.*1' /proc/$sp/status
caps() { awk -v k="$1:" '$1 == k { print $2 }' /proc/$sp/status; }
eff=$(caps CapEff); bnd=$(caps CapBnd)
check "sampled's effective capabilities ($eff) are within net_raw + net_admin" \
	bash -c "(( (16#$eff & ~0x3000) == 0 ))"
check "sampled's bounding set ($bnd) is within net_raw + net_admin" \
	bash -c "(( (16#$bnd & ~0x3000) == 0 ))"
for child in exportd sampled cfgd; do
	old=$(pid_of $child)
	kill -9 "$old"
	check "$child killed: its death is logged" \
		wait_for "grep -q '$child.* died: killed by signal 9' $T/up.log" 100
	check "$child restarted" \
		wait_for "[ \"\$(pid_of $child)\" != \"$old\" ]" 100
	new=$(pid_of $child)
	if [ $child = sampled ]; then
		# one account of what its cache held: the new sampled's, from
		# the state the dead one left (a replay: what it had not handed
		# over is read again, not lost); nsctl up gives no number of its own
		check "the new sampled says what the killed one's cache held" \
			wait_for "grep -q 'flows were never exported: lost' $T/up.log" 100
		check "... once" [ "$(grep -c 'were never exported' $T/up.log)" = 1 ]
		check "... a replay: no word of packets no one captured" \
			bash -c "! grep -q 'counted by no one' $T/up.log"
		check "... and nsctl up gives no other count" \
			bash -c "! grep -q 'lost the' $T/up.log"
		lost=$(sed -n 's/.* \([0-9]*\) flows were never exported.*/\1/p' $T/up.log)
		check "... counted in the new sampled's stats (restart_lost_flows = $lost)" \
			wait_for "timeout 5 '$NSCTL' stats --json -n 8 2>/dev/null | grep '\"process\":\"sampled\"' | grep -q '\"name\":\"restart_lost_flows\",\"value\":$lost[,}]'" 20
	fi
	if [ $child = cfgd ]; then
		check "cfgd serves again, the latest revision" \
			wait_for "'$NSCTL' show effective 2>/dev/null | grep -q '^revision 1 '" 100
	else
		check "$child publishes stats again, as pid $new" \
			wait_for "[ \"\$(stats_pid $child)\" = \"$new\" ]" 20
	fi
done
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
finish
