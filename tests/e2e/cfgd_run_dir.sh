#!/usr/bin/env bash
# Who may serve a run directory (issue 14, items 2 and 4).
# One cfgd per run directory: a second one on the same RUN_DIR used to
# bind over the first one's ipc paths without an error, and commits went
# to whichever bound last. It must exit non-zero, naming the holder's pid.
# A run directory that is not ours (another user's, open to group or
# others, a symlink, a socket of another user in it) is refused by cfgd,
# and nsctl sends nothing to a socket of another user: otherwise that
# user answers root's `nsctl commit`.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
A=tests/config/valid_base.conf
Bc=tests/config/rule5_slot_hosts.conf
RUN=$NETSTREAMD_RUN_DIR

# exit status of a cfgd that must refuse to run (killed after 5 s if not),
# in $rc (no command substitution: a subshell would run the EXIT trap)
refused() { # refused LOG ARGS...
	local log=$1 pid i=0
	shift
	"$@" 2>"$log" &
	pid=$!
	PIDS="$PIDS $pid"
	while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 $pid 2>/dev/null; then
		kill $pid; wait $pid 2>/dev/null; rc=running
	else
		wait $pid; rc=$?
	fi
}

# --- item 2: a second cfgd on the same run directory
start_cfgd
"$NSCTL" commit -c $A -m first >/dev/null || fail "first commit"
refused $T/second.log "$BIN/cfgd" -d $T/second.db
check "a second cfgd on the same run directory exits non-zero ($rc)" \
	[ "$rc" != running -a "$rc" != 0 ]
sed 's/^/  /' $T/second.log
check "its error names the holder's pid ($CFGD_PID)" \
	grep -q "another cfgd (pid $CFGD_PID)" $T/second.log
"$NSCTL" commit -c $Bc -m second >/dev/null || fail "second commit"
# the database of the first cfgd, read with sqlite3, holds the commit
check "the commit after it reached the first cfgd (its database has 2 revisions)" \
	[ "$(sqlite3 $T/config.db 'SELECT count(*) FROM revisions')" = 2 ]
check "the refused cfgd stored nothing" \
	[ "$(sqlite3 $T/second.db 'SELECT count(*) FROM revisions' 2>/dev/null || echo 0)" = 0 ]
check "the first cfgd still runs" kill -0 $CFGD_PID
stop_cfgd
rm -f $RUN/control# the lock goes with the process, even a killed one
"$BIN/cfgd" -d $T/config.db 2>>$T/cfgd.log &
P=$!
PIDS="$PIDS $P"
wait_for "grep -qx $P $RUN/cfgd.lock 2>/dev/null" || fail "cfgd $P did not take the lock"
sleep 0.3
kill -9 $P
wait $P 2>/dev/null
rm -f $RUN/control # so that start_cfgd waits for the new one
start_cfgd
check "after kill -9 of the holder, a new cfgd takes the run directory" kill -0 $CFGD_PID
stop_cfgd

# --- item 4: a run directory of another user
[ "$EUID" -eq 0 ] || skip "the other-user cases need root (chown, setpriv)"
chmod 711 $T # let nobody reach its own directory below
EVIL=$T/evil
mkdir -m 0700 $EVIL
chown nobody:nogroup $EVIL
refused $T/evil.log "$BIN/cfgd" -r $EVIL -d $T/evil-root.db
check "cfgd refuses a run directory owned by nobody ($rc)" \
	[ "$rc" != running -a "$rc" != 0 ]
sed 's/^/  /' $T/evil.log
check "the error names the directory and the fix" \
	grep -q "$EVIL: owned by uid 65534.*remove it, or chown" $T/evil.log
check "it created no socket in it" [ ! -e $EVIL/control ]

# nobody runs a cfgd of its own there: root's nsctl must not talk to it
rm -rf "${EVIL:?}"/* # what a cfgd of root's may have left there
chmod 711 $T        # (a cfgd of root's with its database in $T made it 0700)
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$BIN/cfgd" -r $EVIL -d $EVIL/config.db 2>>$T/nobody-cfgd.log &
NP=$!
PIDS="$PIDS $NP"
if wait_for "[ -S $EVIL/control ]"; then
	out=$("$NSCTL" -r $EVIL commit -c $A -m "root's commit" 2>&1)
	rc=$?
	echo "  $out"
	check "root's nsctl commit to nobody's socket fails ($rc)" [ $rc -ne 0 ]
	check "and says why" grep -q "not sent to ipc://$EVIL/control: .*owned by uid 65534" <<<"$out"
	check "nobody's cfgd received no revision" \
		[ "$(sqlite3 $EVIL/config.db 'SELECT count(*) FROM revisions')" = 0 ]
else
	fail "nobody's cfgd did not start (log: $(cat $T/nobody-cfgd.log))"
fi
kill $NP 2>/dev/null
wait $NP 2>/dev/null

# open to group, a symlink, and another user's socket in our own directory
mkdir -m 0770 $T/open
refused $T/open.log "$BIN/cfgd" -r $T/open -d $T/open.db
check "cfgd refuses a run directory open to group ($rc)" \
	[ "$rc" != running -a "$rc" != 0 ]
check "the error says chmod 700" grep -q "$T/open: open to group or others (mode 0770).*chmod 700" $T/open.log
mkdir -m 0700 $T/real
ln -s $T/real $T/link
refused $T/link.log "$BIN/cfgd" -r $T/link -d $T/link.db
check "cfgd refuses a run directory that is a symlink ($rc)" \
	[ "$rc" != running -a "$rc" != 0 ]
check "the error says symbolic link" grep -q "$T/link: a symbolic link" $T/link.log
mkdir -m 0700 $T/mine
/usr/bin/python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" $T/mine/plan
chown nobody $T/mine/plan
refused $T/sock.log "$BIN/cfgd" -r $T/mine -d $T/mine.db
check "cfgd refuses a socket of another user in its run directory ($rc)" \
	[ "$rc" != running -a "$rc" != 0 ]
check "the error names the socket" grep -q "$T/mine/plan: a socket owned by uid 65534" $T/sock.log
# the directory of the database is the operator's: its mode stays
mkdir -m 0755 $T/dbdir
NETSTREAMD_RUN_DIR=$T/dbrun start_cfgd -d $T/dbdir/config.db
check "cfgd leaves an existing database directory's mode alone ($(stat -c %a $T/dbdir))" \
	[ "$(stat -c %a $T/dbdir)" = 755 ]
stop_cfgd
rm -f $T/dbrun/control
NETSTREAMD_RUN_DIR=$T/dbrun start_cfgd -d $T/newdb/sub/config.db
check "a missing database directory is made 0700 ($(stat -c %a $T/newdb/sub))" \
	[ "$(stat -c %a $T/newdb/sub)" = 700 ]
stop_cfgd
# the normal case still works: a fresh directory, created 0700
NETSTREAMD_RUN_DIR=$T/fresh start_cfgd
check "a fresh run directory is created 0700" [ "$(stat -c %a $T/fresh)" = 700 ]
stop_cfgd
# nsctl up on a directory open to others (as /tmp is) refuses it, and
# leaves its mode alone: it used to chmod it 0700
mkdir -m 1777 $T/shared
out=$(NETSTREAMD_RUN_DIR=$T/shared timeout 10 "$NSCTL" up -c tests/config/valid_base.conf 2>&1)
rc=$?
check "nsctl up in a directory open to others: exit 1 (got $rc)" [ $rc -eq 1 ]
check "... naming it" grep -q "shared is open to group or others" <<<"$out"
check "... and its mode is left 1777" [ "$(stat -c %a $T/shared)" = 1777 ]
finish
