#!/usr/bin/env bash
# The database locked by another writer, or on a full disk, at commit: a
# clear error, nothing stored, and the previous revision stays the running
# one; once the lock is gone or space is back, commits work again.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
A=tests/config/valid_base.conf
Bc=tests/config/rule5_slot_hosts.conf
start_cfgd
"$NSCTL" commit -c $A -m first >/dev/null || fail "first commit"

# another writer holds the write lock for 4 s (cfgd waits 2 s, then says so)
sqlite3 "$T/config.db" "BEGIN IMMEDIATE; INSERT INTO templates VALUES ('lock', 1, 0); SELECT 1 FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40000000) SELECT count(*) FROM c); ROLLBACK;" >/dev/null 2>&1 &
LOCKER=$!
PIDS="$PIDS $LOCKER"
sleep 0.3
out=$("$NSCTL" commit -c $Bc -m locked 2>&1)
rc=$?
kill $LOCKER 2>/dev/null
wait $LOCKER 2>/dev/null
check "locked database: commit fails (exit $rc)" [ $rc -ne 0 ]
echo "  $out"
check "locked database: the error says so" grep -q 'database is locked' <<<"$out"
check "locked database: revision 1 stays the running one" \
	sh -c "'$NSCTL' show effective | grep -q '^revision 1 '"
check "after the lock: a commit works (revision 2)" \
	sh -c "'$NSCTL' commit -c $Bc >/dev/null && '$NSCTL' show effective | grep -q '^revision 2 '"
stop_cfgd

# a database on a small file system that fills up
if [ "$(id -u)" -eq 0 ] && mkdir -p $T/small && mount -t tmpfs -o size=1m tmpfs $T/small 2>/dev/null; then
	trap 'umount $T/small 2>/dev/null; cleanup' EXIT
	"$BIN/cfgd" -d $T/small/config.db 2>>$T/cfgd.log &
	CFGD_PID=$!
	PIDS="$PIDS $CFGD_PID"
	sleep 0.3
	wait_for "[ -S $NETSTREAMD_RUN_DIR/control ]" || fail "cfgd on tmpfs"
	"$NSCTL" commit -c $A >/dev/null || fail "commit on the small disk"
	dd if=/dev/zero of=$T/small/fill bs=4k 2>/dev/null
	out=$("$NSCTL" commit -c $Bc -m full 2>&1)
	rc=$?
	check "full disk: commit fails (exit $rc)" [ $rc -ne 0 ]
	echo "  $out"
	check "full disk: the error says so" grep -qi 'full' <<<"$out"
	check "full disk: the previous revision stays the running one" \
		sh -c "'$NSCTL' show effective | grep -q '^revision 1 '"
	rm -f $T/small/fill
	check "space back: a commit works" \
		sh -c "'$NSCTL' commit -c $Bc >/dev/null && '$NSCTL' show effective | grep -q '^revision 2 '"
	check "the database holds whole revisions" \
		[ "$(sqlite3 $T/small/config.db 'PRAGMA integrity_check')" = ok ]
	stop_cfgd
	umount $T/small
else
	echo "skip: full-disk case needs root and tmpfs"
fi
finish
