#!/usr/bin/env bash
# Template ids are taken back, safely (issue 14, item 9). Every new record
# (a new name, a changed field list) took a new id for good: after ~4350
# commits of new records all 65022 ids (258..65279; exportd has the rest)
# were given and every
# commit with a new record failed, for ever. Now, once all are given, a
# new record takes back the least recently used id that no revision of
# the last 16 used (the running one among them), nor a record of its own
# plan; the record that had it, back one day, gets another id.
# The 65000-odd earlier records are written into the database here (as
# if 4350 commits had made them, all running at revision 1).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
K=16
DB=$T/config.db
mkconf() { # mkconf NAME OUT: records web (system) and NAME (monitor m1)
	cat >"$2" <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = 9995; } ); };
           apply_record = "web"; };
records = ( { name = "web"; match = [ "source-address" ]; collect = [ "packets" ]; },
            { name = "$1"; match = [ "destination-address" ]; collect = [ "packets" ]; } );
monitors = ( { name = "m1"; apply_record = "$1";
               hosts = ( { address = "127.0.0.1"; port = 9996; } ); } );
interfaces = ( { name = "GE1/0/0"; device = "nsdev0"; netstream = [ "inbound" ];
                 monitors = ( { name = "m1"; direction = "inbound"; } ); },
               { name = "GE1/0/1"; device = "nsdev1"; netstream = [ "inbound" ]; } );
CONF
}
tid() { # tid REV RECORD: the template id stored for it
	sqlite3 $DB "SELECT template_id FROM revision_templates WHERE revision = $1 AND record = '$2'"
}
rev() { sqlite3 $DB 'SELECT max(id) FROM revisions'; }

start_cfgd
mkconf first $T/c.conf
"$NSCTL" commit -c $T/c.conf >/dev/null || fail "commit 1"
web=$(tid 1 web)
first=$(tid 1 first)
check "revision 1: web and first have ids ($web, $first)" [ -n "$web" -a -n "$first" ]
# every other id given to a record that ran at revision 1
sqlite3 $DB "WITH RECURSIVE c(x) AS (SELECT 258 UNION ALL SELECT x + 1 FROM c WHERE x < 65279)
	INSERT INTO templates SELECT 'gone-' || x, x, 1 FROM c WHERE x NOT IN ($web, $first);
	WITH RECURSIVE c(x) AS (SELECT 258 UNION ALL SELECT x + 1 FROM c WHERE x < 65279)
	INSERT INTO revision_templates SELECT 1, 'gone-' || x, x FROM c WHERE x NOT IN ($web, $first);"
check "all 65022 ids are given" [ "$(sqlite3 $DB 'SELECT count(*) FROM templates')" = 65022 ]

# within the window: no id may be taken back yet, and the error says so
mkconf new1 $T/n1.conf
out=$("$NSCTL" commit -c $T/n1.conf 2>&1)
rc=$?
echo "  $out"
check "a new record at revision 2 fails (exit $rc): every id ran within $K revisions" [ $rc -ne 0 ]
check "the error says no template id is left" grep -q 'no template id left' <<<"$out"
check "revision 1 stays the latest" [ "$(rev)" = 1 ]
# commits of the running records need no new id
for i in $(seq 1 $K); do
	"$NSCTL" commit -c $T/c.conf >/dev/null || fail "commit of the same records ($i)"
done
check "revisions 2..$((K + 1)) committed, with the same ids" \
	[ "$(rev)" = $((K + 1)) -a "$(tid $((K + 1)) web)" = "$web" -a "$(tid $((K + 1)) first)" = "$first" ]

# past the window: a new record takes back an id
"$NSCTL" commit -c $T/n1.conf >$T/out1 2>&1
rc=$?
check "a new record commits now (exit $rc)" [ $rc -eq 0 ]
r1=$(rev)
n1=$(tid $r1 new1)
check "it has an id ($n1), not web's ($web)" [ -n "$n1" -a "$n1" != "$web" ]
recent() { # ids used by revisions (R-K, R)
	sqlite3 $DB "SELECT DISTINCT template_id FROM revision_templates WHERE revision > $1 - $K AND revision < $1"
}
not_recent() { ! recent "$1" | grep -qx "$2"; }
check "no revision of the $K before it used id $n1" not_recent $r1 "$n1"
check "the record that had id $n1 no longer holds it" \
	[ "$(sqlite3 $DB "SELECT count(*) FROM templates WHERE template_id = $n1")" = 1 -a "$(sqlite3 $DB "SELECT key FROM templates WHERE template_id = $n1" | grep -c '^gone-')" = 0 ]
mkconf new2 $T/n2.conf
"$NSCTL" commit -c $T/n2.conf >/dev/null || fail "commit new2"
r2=$(rev)
n2=$(tid $r2 new2)
check "the next new record gets another id ($n2 != $n1)" [ -n "$n2" -a "$n2" != "$n1" ]
check "no revision of the $K before it used id $n2" not_recent $r2 "$n2"
check "ids are distinct within each plan" \
	[ "$(sqlite3 $DB "SELECT count(*) FROM (SELECT revision, template_id FROM revision_templates WHERE revision >= $r1 GROUP BY 1, 2 HAVING count(*) > 1)")" = 0 ]
# new1 again: it kept its id (its key still holds it)
"$NSCTL" commit -c $T/n1.conf >/dev/null || fail "commit new1 again"
check "new1 back: the same id $n1" [ -n "$n1" -a "$(tid $(rev) new1)" = "$n1" ]
# a rollback to a revision whose record lost its id since
"$NSCTL" rollback 1 >$T/rb.out 2>&1
rc=$?
check "rollback to revision 1 (record first) works (exit $rc)" [ $rc -eq 0 ]
rb=$(rev)
check "rolled back: first has an id no other record of that plan has" \
	[ -n "$(tid $rb first)" -a "$(tid $rb first)" != "$(tid $rb web)" ]
check "the templates table names one key per id" \
	[ "$(sqlite3 $DB 'SELECT count(*) FROM (SELECT template_id FROM templates GROUP BY 1 HAVING count(*) > 1)')" = 0 ]
finish
