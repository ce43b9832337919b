#!/usr/bin/env bash
# kill -9 of cfgd in the middle of commits leaves a database that opens
# and holds only whole revisions, numbered without holes.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
A=tests/config/valid_base.conf
Bc=tests/config/rule5_slot_hosts.conf
export NETSTREAMD_TIMEOUT_MS=1000
for round in 1 2 3 4 5 6; do
	start_cfgd
	# its own process group, so the nsctl in flight dies with the loop
	setsid bash -c "for i in \$(seq 1 200); do
		'$NSCTL' commit -c $A >/dev/null 2>&1
		'$NSCTL' commit -c $Bc >/dev/null 2>&1
	done" &
	LOOP=$!
	sleep 0.$((RANDOM % 9 + 1))
	kill -9 "$CFGD_PID"
	wait "$CFGD_PID" 2>/dev/null
	kill -9 -- -"$LOOP" 2>/dev/null
	wait "$LOOP" 2>/dev/null
	rm -f "$NETSTREAMD_RUN_DIR/control"
done
db=$T/config.db
check "database passes integrity_check" [ "$(sqlite3 $db 'PRAGMA integrity_check')" = ok ]
n=$(sqlite3 $db 'select count(*) from revisions')
max=$(sqlite3 $db 'select max(id) from revisions')
check "some revisions were committed ($n)" [ "$n" -gt 0 ]
check "revisions numbered 1..$max without holes" [ "$n" = "$max" ]
check "every revision has its template rows" \
	[ "$(sqlite3 $db 'select count(*) from revisions r where (select count(*) from revision_templates t where t.revision = r.id) != 1')" = 0 ]
start_cfgd
bad=0
for r in $(seq 1 "$max"); do
	"$NSCTL" show effective --revision $r >/dev/null 2>&1 || bad=$((bad + 1))
done
check "every stored plan decodes ($max revisions)" [ $bad -eq 0 ]
check "restarted cfgd runs the latest revision" \
	sh -c "'$NSCTL' show effective | grep -q '^revision $max '"
finish
