#!/usr/bin/env bash
# An invalid commit commits nothing: the database, the running plan and the
# published generation stay as they were.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
start_cfgd
"$NSCTL" commit -c tests/config/valid_base.conf >/dev/null || fail "first commit"
before_db=$(sqlite3 "$T/config.db" .dump | md5sum)
before_plan=$("$NSCTL" show effective)

"$NSCTL" subscribe plan -t 3000 >$T/sub &
SUB=$!
for bad in many_errors syntax_error records_16 ref_monitor_record hosts_9; do
	out=$("$NSCTL" commit -c tests/config/$bad.conf 2>&1)
	rc=$?
	check "$bad: commit refused with exit 1" [ $rc -eq 1 ]
	check "$bad: the refusal names file:line" \
		sh -c "printf '%s' \"\$1\" | grep -q '^tests/config/$bad.conf:[0-9]*: error: '" _ "$out"
	check "$bad: says nothing was committed" \
		sh -c "printf '%s' \"\$1\" | grep -q 'nothing committed'" _ "$out"
done
wait $SUB
check "database unchanged" [ "$(sqlite3 "$T/config.db" .dump | md5sum)" = "$before_db" ]
check "running plan unchanged" [ "$("$NSCTL" show effective)" = "$before_plan" ]
check "no generation other than 1 published" \
	sh -c "! grep -v '^plan generation 1 ' $T/sub | grep -q ."
check "revision count is 1" [ "$(sqlite3 "$T/config.db" 'select count(*) from revisions')" = 1 ]
finish
