#!/usr/bin/env bash
# A damaged database is an error naming it, never an empty history:
# bytes 4096-12288 of the SQLite file overwritten, cfgd refuses to start
# (exit 1) naming the file, SQLite's message and the way out; damaged
# under a running cfgd, every verb that reads it is an error (non-zero
# exit, SQLite's message), and nothing is committed into it.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
A=tests/config/valid_base.conf
DB=$T/config.db
damage() { # pages 2 and 3 (bytes 4096-12288) overwritten, as a bad disk would
	yes 'damaged' | head -c 8192 | dd of="$1" bs=4096 seek=1 count=2 conv=notrunc 2>/dev/null
}
start_cfgd
for i in 1 2 3; do
	"$NSCTL" commit -c $A -m "c$i" >/dev/null 2>&1 || fail "commit $i"
done
stop_cfgd
cp "$DB" $T/good.db
damage "$DB"
check "the file is damaged (sqlite3's quick_check says so)" \
	sh -c "! sqlite3 '$DB' 'PRAGMA quick_check' 2>/dev/null | grep -qx ok"

# at start: refused, exit 1, and the message says what and what to do
timeout 10 "$BIN/cfgd" -d "$DB" >$T/start.out 2>&1 &
p=$!
PIDS="$PIDS $p"
wait $p
rc=$?
cat $T/start.out
check "cfgd on a damaged database exits 1 (exit $rc)" [ $rc -eq 1 ]
check "... naming the file" grep -q "$DB" $T/start.out
check "... with SQLite's message" grep -qi 'malformed\|corrupt\|not a database' $T/start.out
check "... and the way out (move it aside, restore a backup)" \
	grep -q 'move it aside.*backup\|backup.*move it aside' $T/start.out
check "... and it never says there is no revision" \
	sh -c "! grep -q 'no revision committed yet' $T/start.out"
out=$(timeout 10 "$NSCTL" history 2>&1)
rc=$?
check "nsctl history without a cfgd: an error (exit $rc), no empty table" \
	test $rc -ne 0 -a -z "$(grep '^rev' <<<"$out")"

# damaged under a running cfgd: SQLite sees it once another writer
# touches the file (its page cache is then dropped)
cp $T/good.db "$DB"
start_cfgd
check "the good copy serves revision 3" \
	sh -c "'$NSCTL' show effective | grep -q '^revision 3 '"
damage "$DB"
sqlite3 "$DB" 'PRAGMA user_version = 7' 2>/dev/null
for v in "history" "show" "show effective" "show --revision 2" "diff 1 2" \
	"rollback 1" "commit -c $A"; do
	# shellcheck disable=SC2086
	out=$(timeout 10 "$NSCTL" $v 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -qi 'malformed\|corrupt' <<<"$out" &&
		grep -q "$DB" <<<"$out"; then
		ok "running cfgd, damaged file: nsctl $v: exit $rc, names the file and the damage"
	else
		fail "running cfgd, damaged file: nsctl $v: exit $rc: $(head -3 <<<"$out")"
	fi
done
check "cfgd still runs (its running plan stays)" kill -0 "$CFGD_PID"
check "cfgd logged the damage" grep -qi 'malformed\|corrupt' $T/cfgd.log
stop_cfgd
finish
