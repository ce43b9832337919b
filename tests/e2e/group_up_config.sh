#!/usr/bin/env bash
# nsctl up -c FILE runs FILE: on a database whose latest revision has
# another source text, a FILE that validates is committed (the comment
# says nsctl up -c did it, and nsctl up prints so); one that does not
# validate refuses to start (file:line errors, exit 1) and commits
# nothing; the same text is not committed again. With its stdout a file,
# nsctl up writes each line as it comes (a validate warning is there
# while the group runs, not only at exit).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 240
P=$((20000 + RANDOM % 20000))
"$BIN/pcapgen" --flows 20 --packets 30000 --pps 1000 -o $T/a.pcap >/dev/null
conf() { # conf PORT: a group config; its source is not local (a warning)
	cat <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $1; } );
                      source = { address = "192.0.2.77"; port = 40000; }; };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address" ];
              collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 replay = "realtime"; netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF
}
up() { # up FILE: nsctl up in the background, stdout and stderr to files
	"$NSCTL" up -c "$1" >$T/up.out 2>$T/up.log &
	UP=$!
	PIDS="$PIDS $UP"
}
down() {
	kill -TERM $UP
	wait $UP
}
# a process of the group on this run directory (argv[0] is its name)
left() { pgrep -f "^(cfgd|exportd|sampled) .*-r $NETSTREAMD_RUN_DIR( |\$)" >/dev/null; }
revs() { "$NSCTL" history 2>/dev/null | grep -c '^[0-9]'; }
conf $P >$T/g.conf

# 1. a first run, stdout to a file: the warning is there while it runs
up $T/g.conf
wait_for "grep -q 'started sampled --slot 1' $T/up.log" 100 || fail "group did not start"
check "stdout to a file: the validate warning is in it while the group runs" \
	wait_for "grep -q 'g.conf:2: warning: export source 192.0.2.77' $T/up.out" 20
check "... and nsctl up still runs" kill -0 $UP
check "... with its processes" left
down

# 2. the same file again: nothing committed
up $T/g.conf
wait_for "grep -q 'started sampled --slot 1' $T/up.log" 100 || fail "group did not start (2)"
check "the same file again: no new revision ($(revs))" [ "$(revs)" = 1 ]
down

# 3. an edited file that validates: committed, said, and it runs
conf $((P + 1)) >$T/g.conf
up $T/g.conf
wait_for "grep -q 'started sampled --slot 1' $T/up.log" 100 || fail "group did not start (3)"
cat $T/up.out
check "edited file: nsctl up says it commits it" \
	grep -q "nsctl up: $T/g.conf differs from revision 1: committing it" $T/up.out
check "... committed revision 2" grep -q '^committed revision 2' $T/up.out
check "... history says nsctl up -c committed it" \
	sh -c "'$NSCTL' history | grep '^2 ' | grep -q 'nsctl up -c $T/g.conf'"
check "... and revision 2 runs (port $((P + 1)))" \
	sh -c "'$NSCTL' show effective | grep -q '^revision 2 ' &&
		'$NSCTL' show effective | grep -q '$((P + 1))'"
down

# 4. an edited file that does not validate: refused, nothing committed
sed 's/port = '$((P + 1))'/port = 70000/' $T/g.conf >$T/bad.conf
out=$(timeout 60 "$NSCTL" up -c $T/bad.conf 2>&1)
rc=$?
echo "$out"
check "a file that does not validate: nsctl up exits 1 (exit $rc)" [ $rc -eq 1 ]
check "... naming file:line" grep -q "bad.conf:1: error" <<<"$out"
check "... and saying it did not start" grep -q 'not started' <<<"$out"
check "... no process of the group is left" wait_for "! left" 20
start_cfgd -d "$NETSTREAMD_RUN_DIR/config.db"
check "... nothing committed: revision 2 is still the latest ($(revs))" [ "$(revs)" = 2 ]
stop_cfgd
finish
