#!/usr/bin/env bash
# The database deleted or replaced under a running cfgd (issue 14, item 3).
# Before: commits answered "committed revision 4" into the unlinked file;
# after a restart the history was empty, the next commit was revision 1 =
# generation 1, and sampled and exportd ignored it as older than the
# generation they ran. Now cfgd refuses to commit into a file that is no
# longer at its path, and the generations it publishes never go back,
# whatever happened to the file (the high-water mark is in RUN_DIR).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
A=tests/config/valid_base.conf
Bc=tests/config/rule5_slot_hosts.conf
DB=$T/config.db
RUN=$NETSTREAMD_RUN_DIR

sub() { # sub OUT: a subscriber for one plan, in the background
	"$NSCTL" subscribe plan -n 1 -t 8000 >"$1" &
	SUB=$!
	sleep 0.3
}
gen() { sed -n 's/^plan generation \([0-9]*\) .*/\1/p' "$1"; }
restart() {
	stop_cfgd
	rm -f $RUN/control
	start_cfgd
}

start_cfgd
"$NSCTL" commit -c $A >/dev/null || fail "commit 1"
"$NSCTL" commit -c $Bc >/dev/null || fail "commit 2"
sub $T/s0
"$NSCTL" commit -c $A >/dev/null || fail "commit 3"
wait $SUB
g0=$(gen $T/s0)
check "three commits published (generation ${g0:-none})" [ -n "$g0" ]
# the highest generation seen on the bus so far
high=$(sqlite3 $DB 'SELECT max(id) FROM revisions')
[ "${g0:-0}" -gt "$high" ] && high=$g0

# deleted while cfgd runs
rm -f $DB $DB-wal $DB-shm
out=$("$NSCTL" commit -c $Bc -m "into the void" 2>&1)
rc=$?
echo "  $out"
check "commit into a deleted database fails (exit $rc)" [ $rc -ne 0 ]
check "the error says the database was deleted" grep -q "$DB: deleted since cfgd opened it" <<<"$out"
check "no database file was made by the commit" [ ! -e $DB ]

# restarted on a new, empty database: revision 1, generation above $high
restart
sub $T/s1
"$NSCTL" commit -c $A -m "new database" >/dev/null || fail "commit on the new database"
wait $SUB
g1=$(gen $T/s1)
echo "  $(cat $T/s1 | head -1)"
check "the new database numbers from revision 1" \
	[ "$(sqlite3 $DB 'SELECT max(id) FROM revisions')" = 1 ]
check "its plan is published with a generation above $high (${g1:-none})" \
	[ "${g1:-0}" -gt "$high" ]
high=$g1

# replaced by an older copy while cfgd runs
sqlite3 $DB ".backup $T/old.db"
sub $T/s2
"$NSCTL" commit -c $Bc >/dev/null || fail "commit revision 2"
wait $SUB
g2=$(gen $T/s2)
check "the next commit goes above $high (${g2:-none})" [ "${g2:-0}" -gt "$high" ]
high=$g2
# (as a restore does: the old file's WAL is not the copy's)
rm -f $DB-wal $DB-shm
mv $T/old.db $DB
out=$("$NSCTL" commit -c $A -m "into the old copy" 2>&1)
rc=$?
echo "  $out"
check "commit into a replaced database fails (exit $rc)" [ $rc -ne 0 ]
check "the error says it was replaced" grep -q "$DB: replaced by another file" <<<"$out"
check "the copy put in its place is untouched (1 revision)" \
	[ "$(sqlite3 $DB 'SELECT count(*) FROM revisions')" = 1 ]

# restarted on the older copy: its latest revision, under a new generation
sub $T/s3
restart
wait $SUB
g3=$(gen $T/s3)
echo "  $(cat $T/s3 | head -1)"
check "a restart on the older copy publishes revision 1 above generation $high (${g3:-none})" \
	grep -q "^plan generation ${g3:-x} revision 1 " $T/s3
check "  (generation ${g3:-none} > $high)" [ "${g3:-0}" -gt "$high" ]
high=$g3
sub $T/s4
"$NSCTL" commit -c $Bc >/dev/null || fail "commit after the restart"
wait $SUB
g4=$(gen $T/s4)
check "and the next commit goes on above it (${g4:-none} > $high)" [ "${g4:-0}" -gt "$high" ]
finish
