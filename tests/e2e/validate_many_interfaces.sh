#!/usr/bin/env bash
# Duplicate checks are linear, one error per duplicate (issue 14, item 7).
# Each interface was compared with every one before it and every equal
# pair reported: 2000 interfaces on one device gave 2 million errors and
# cfgd took 879 MB; 10k never finished. Here 10000 interfaces capture one
# device: `nsctl validate` and cfgd (a commit) must stay within a memory
# bound (a resource bound, generous: 200 MB of max RSS, not a time limit)
# and report exactly one error per duplicate: 9999 for the device, and
# for a name given three times, two. The same for 10000 monitors, records
# or slots of one name.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 300
N=${N:-10000}
LIMIT_KB=$((200 * 1024))
{
	echo 'system = { export = { hosts = ( { address = "127.0.0.1"; port = 9995; } ); };'
	echo '  apply_record = "r"; };'
	echo 'records = ( { name = "r"; match = [ "source-address" ]; collect = [ "packets" ]; } );'
	echo 'interfaces = ('
	for i in $(seq 1 $N); do
		[ $i -gt 1 ] && echo ','
		echo "{ name = \"GE1/0/$i\"; device = \"nsdup0\"; netstream = [ \"inbound\" ]; }"
	done
	# a name given three times (each on a device of its own)
	for i in 1 2; do
		echo ", { name = \"GE1/0/7\"; device = \"nsdup$i\"; netstream = [ \"inbound\" ]; }"
	done
	echo ');'
} >$T/dup.conf
echo "config: $(wc -c <$T/dup.conf) bytes"

# max RSS of a child, as the kernel counts it (getrusage), in KiB
maxrss() {
	/usr/bin/python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "w") as out:
    rc = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
read -r rc kb < <(maxrss $T/validate.out "$NSCTL" validate -c $T/dup.conf)
check "nsctl validate refuses the config (exit ${rc:-none})" [ "${rc:-0}" -eq 1 ]
check "nsctl validate stays under $LIMIT_KB KiB (max RSS ${kb:-none} KiB)" \
	[ "${kb:-999999999}" -lt $LIMIT_KB ]
dev=$(grep -c ': error: interface GE1/0/[0-9]*: device nsdup0 already captured by GE1/0/1$' $T/validate.out)
check "one error per duplicate device: $((N - 1)) ($dev)" [ "$dev" -eq $((N - 1)) ]
name=$(grep -c ': error: duplicate interface GE1/0/7 (first at line ' $T/validate.out)
check "one error per duplicate name: 2 ($name)" [ "$name" -eq 2 ]
check "no other error" \
	[ "$(grep -c ': error: ' $T/validate.out)" -eq $((N - 1 + 2)) ]

# the other lists without a bound on their length: monitors, records
# (more than 15 is an error, but all are read) and slots; N entries with
# one name (id) each: one error per duplicate, within the same bound
other() { # other LIST ENTRY OUT
	{
		echo 'system = { export = { hosts = ( { address = "127.0.0.1"; port = 9995; } ); }; };'
		[ "$1" = records ] || echo 'records = ( { name = "r"; match = [ "source-address" ]; collect = [ "packets" ]; } );'
		echo "$1 = ("
		for i in $(seq 1 $N); do
			[ $i -gt 1 ] && echo ','
			echo "$2"
		done
		echo ');'
	} >"$3"
}
other monitors '{ name = "m"; apply_record = "r"; }' $T/mon.conf
other records '{ name = "d"; match = [ "source-address" ]; collect = [ "packets" ]; }' $T/rec.conf
other slots '{ id = 7; }' $T/slot.conf
for t in "mon:duplicate monitor m (first at line " "rec:duplicate record d (first at line " "slot:duplicate slot 7 (first at line "; do
	f=${t%%:*} want=${t#*:}
	read -r rc kb < <(maxrss $T/$f.out "$NSCTL" validate -c $T/$f.conf)
	check "$f: refused (exit ${rc:-none}), under $LIMIT_KB KiB (max RSS ${kb:-none} KiB)" \
		[ "${rc:-0}" -eq 1 -a "${kb:-999999999}" -lt $LIMIT_KB ]
	got=$(grep -c ": error: $want" $T/$f.out)
	check "$f: one error per duplicate: $((N - 1)) ($got)" [ "$got" -eq $((N - 1)) ]
done
check "rec: and one for the count of records" \
	grep -q ": error: $N records: a device holds at most 15 records" $T/rec.out
check "rec: no other error" [ "$(grep -c ': error: ' $T/rec.out)" -eq $N ]

# cfgd: the same config committed (and refused), its peak memory after
start_cfgd
"$NSCTL" commit -c $T/dup.conf >$T/commit.out 2>&1
rc=$?
check "cfgd refuses the commit (exit $rc)" [ $rc -eq 1 ]
check "cfgd's answer holds the same $((N - 1 + 2)) errors" \
	[ "$(grep -c ': error: ' $T/commit.out)" -eq $((N - 1 + 2)) ]
hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/$CFGD_PID/status)
check "cfgd stays under $LIMIT_KB KiB (VmHWM ${hwm:-none} KiB)" [ "${hwm:-999999999}" -lt $LIMIT_KB ]
check "cfgd still serves" "$NSCTL" history
# a failure keeps the logs: with the quadratic bug back, the outputs hold
# 50M lines (GBs); what stays is enough to read
for f in $T/*.out; do truncate -s '<16M' "$f"; done
finish
