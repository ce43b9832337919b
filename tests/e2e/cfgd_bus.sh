#!/usr/bin/env bash
# A commit round trip over the real bus: a subscriber sees generation N+1
# after nsctl commit; rollback republishes the old plan as a new revision;
# a restarted cfgd publishes the latest revision; template ids stay.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
C1=tests/config/valid_base.conf
C2=$T/changed.conf
# the same records, another inactive timeout; then a changed record
sed 's/inactive_seconds = 30/inactive_seconds = 45/' $C1 >$C2
sed 's/"destination-port" ]/"destination-port", "traffic-class" ]/' $C1 >$T/rec.conf

start_cfgd
sub() { # sub OUT: a subscriber for one plan, in the background
	"$NSCTL" subscribe plan -n 1 -t 8000 >"$1" &
	SUB=$!
	sleep 0.3 # let it connect before the publish it waits for
}

sub $T/s1
"$NSCTL" commit -c $C1 -m one >/dev/null || fail "commit 1"
wait $SUB
check "subscriber receives generation 1" grep -q '^plan generation 1 revision 1 ' $T/s1

sub $T/s2
"$NSCTL" commit -c $C2 -m two >/dev/null || fail "commit 2"
wait $SUB
check "subscriber receives generation 2 after the second commit" \
	grep -q '^plan generation 2 revision 2 ' $T/s2
check "inactive timeout of revision 2 runs" \
	sh -c "'$NSCTL' show effective | grep -q 'inactive 45s'"

sub $T/s3
out=$("$NSCTL" rollback 1)
wait $SUB
check "rollback answers with the new revision" [ "$out" = "rolled back to revision 1 as revision 3" ]
check "rollback publishes generation 3" grep -q '^plan generation 3 revision 3 ' $T/s3
check "revision 3 runs revision 1's settings" \
	sh -c "'$NSCTL' show effective | grep -q 'inactive 30s'"
check "revision 3's source is revision 1's" \
	bash -c "diff <('$NSCTL' show running --revision 1) <('$NSCTL' show running --revision 3) >/dev/null"
check "history lists 3 revisions, the rollback last" \
	sh -c "'$NSCTL' history | tail -1 | grep -q '^3 .*rollback to revision 1  (running)'"

# template ids: an unchanged record keeps its id, a changed one gets a new one
tid() { "$NSCTL" show effective | sed -n 's/^  web template \([0-9]*\) .*/\1/p'; }
t1=$(tid)
"$NSCTL" commit -c $T/rec.conf >/dev/null || fail "commit 4"
t2=$(tid)
"$NSCTL" commit -c $C1 >/dev/null || fail "commit 5"
t3=$(tid)
check "template id >= 256 ($t1)" [ "${t1:-0}" -ge 256 ]
check "a changed record gets a new template id ($t1 -> $t2)" [ "$t2" != "$t1" ]
check "the unchanged record keeps its template id across commits ($t3)" [ "$t3" = "$t1" ]

# restart: the latest revision (5) is published again, ids unchanged
stop_cfgd
sub $T/s4
start_cfgd
wait $SUB
check "restarted cfgd publishes the latest revision" grep -q '^plan generation 5 revision 5 ' $T/s4
check "template id survives a restart" [ "$(tid)" = "$t1" ]

# late joiners: get-plan answers with the running plan
check "diff between revisions shows the change" \
	sh -c "'$NSCTL' diff 1 2 | grep -q '^+.*inactive_seconds = 45'"
finish
