#!/usr/bin/env bash
# nsctl vrp import refuses what it cannot map: each line is an error at
# FILE:LINE saying what is allowed there (an unknown command, a command
# of another view, a value out of the seeds' range, an option twice, an
# IPv6 address without the ipv6 keyword...), exit 1 and nothing on
# stdout. An interface without a capture source is an error naming
# --device/--file; so is a flag for an interface the file does not have.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1

# refused LINE-TEXT WANT-RE [VIEW-LINES...]: the line alone (after the
# lines that enter its view) is an error at its line matching WANT-RE
refused() {
	local text=$1 want=$2
	shift 2
	printf '%s\n' "$@" "$text" >$T/in.vrp
	local n=$(($# + 1))
	"$NSCTL" vrp import --no-host-checks $T/in.vrp >$T/out 2>$T/err
	local rc=$?
	if [ $rc -eq 1 ] && [ ! -s $T/out ] &&
		grep -qE "^$T/in.vrp:$n: error: (.* )?$want" $T/err; then
		ok "\"$text\": error at line $n"
	else
		fail "\"$text\": rc $rc, stdout $(wc -c <$T/out) bytes, want line $n: $want; got: $(cat $T/err)"
	fi
}

# values out of the ranges of the command reference
refused "ipv6 netstream export host 192.0.2.1 0" "port 0 is out of range 1..65535"
refused "ipv6 netstream export host 192.0.2.1 65536" "port 65536 is out of range 1..65535"
refused "ipv6 netstream export host 192.0.2.1 9995 dscp 64" "dscp 64 is out of range 0..63"
refused "ipv6 netstream export host 192.0.2.1 9995 version 10" '"10" after .*: expected 9, ipfix'
refused "ipv6 netstream export host 192.0.2.1 9995 dscp 1 dscp 2" "dscp given twice"
refused "ipv6 netstream export host 2001:db8::1 9995" '"2001:db8::1" is an IPv6 address: write ipv6 2001:db8::1'
refused "ipv6 netstream export host ipv6 192.0.2.1 9995" '"192.0.2.1" is not an IPv6 address'
refused "ipv6 netstream export source 192.0.2.1 70000" "source port 70000 is out of range 1..65535"
refused "ipv6 netstream export template timeout-rate 0" "template timeout-rate \(minutes\) 0 is out of range 1..3600"
refused "ipv6 netstream export template timeout-rate 3601" "out of range 1..3600"
refused "ipv6 netstream aggregation timeout active 0" "active aging time \(minutes\) 0 is out of range 1..60"
refused "ipv6 netstream aggregation timeout active 61" "out of range 1..60"
refused "ipv6 netstream aggregation timeout active interval-second 14" "interval-second 14 is out of range 15..59"
refused "ipv6 netstream aggregation timeout active interval-second 60" "out of range 15..59"
refused "ipv6 netstream aggregation timeout inactive 4" "inactive aging time \(seconds\) 4 is out of range 5..600"
refused "ipv6 netstream aggregation timeout inactive 601" "out of range 5..600"
refused "ipv6 netstream sampler fix-packets 0 inbound" "packet interval 0 is out of range 1..65535"
refused "ipv6 netstream sampler random-packets 65536 inbound" "out of range 1..65535"
refused "ipv6 netstream sampler fix-time 4 inbound" "fix-time interval \(ms\) 4 is out of range 5..30000"
refused "ipv6 netstream sampler fix-time 30001 outbound" "out of range 5..30000"
refused "ipv6 netstream export version 9 origin-as peer-as" "at most one of origin-as and peer-as"
refused "slot 256" "slot 256 is out of range 0..255"
refused "ipv6 netstream record $(printf 'r%.0s' {1..33})" "record name .*: 1..32 characters"
# unknown commands and words: what is allowed there
refused "ipv6 netstream export hots 192.0.2.1 1" '"hots" after "ipv6 netstream export": expected host, source, version, template'
refused "display current-configuration" 'unknown command "display" in the system view; allowed here: ipv6 netstream export'
refused "ipv6 netstream export" 'incomplete command "ipv6 netstream export": expected host, source, version, template'
refused "ipv6 netstream inbound extra" '"inbound" after "ipv6 netstream": expected export, apply, aggregation, sampler, monitor, record'
refused "ipv6 netstream a record r" '"a" is ambiguous after "ipv6 netstream": expected export, apply, aggregation, sampler, monitor, record'
# commands of another view
refused "ip netstream export sequence-mode flow" "this is a command of the slot view, not of the system view"
refused "ipv6 netstream inbound" "this is a command of the interface view, not of the system view"
refused "apply record r" "this is a command of the monitor view, not of the system view"
refused "match ipv6 source-address" "this is a command of the record view, not of the system view"
refused "ipv6 netstream export source 192.0.2.1" "this is a command of the system or monitor views, not of the slot 1 view \(quit to the system view first\)" "slot 1"
refused "ipv6 netstream apply record r" "this is a command of the system view, not of the monitor m view" "ipv6 netstream monitor m"
refused "ipv6 netstream export host 192.0.2.1 9995" "this is a command of the system, slot or monitor views, not of the interface GigabitEthernet1/0/0 view" "interface GigabitEthernet1/0/0"
refused "slot 1" "this is a command of the system view, not of the record r view" "ipv6 netstream record r"
refused "foo" 'unknown command "foo" in the interface GigabitEthernet1/0/0 view; allowed here: ipv6 netstream \{inbound\|outbound\}' "interface GigabitEthernet1/0/0"
refused "ipv6 netstream monitor m1" "this is a command of the system view, not of the interface GigabitEthernet1/0/0 view" "interface GigabitEthernet1/0/0"
# the record view: fields that cannot be keys or counters
refused "match counter packets" "packets cannot be a match field \(it can be collected\)" "ipv6 netstream record r"
refused "collect ipv6 source-address" "source-address cannot be a collect field \(it can be matched\)" "ipv6 netstream record r"
refused "match ipv6 packets" '"packets" after "match ipv6": expected source-address' "ipv6 netstream record r"
refused "collect counter bytes" "bytes is already a match field|cannot be a match" "ipv6 netstream record r" "match counter bytes"
refused "collect tcp-flags" "tcp-flags is already a match field of record r" "ipv6 netstream record r" "match tcp-flags"
# the user view, after return
refused "ipv6 netstream export host 192.0.2.1 1" '"ipv6": in the user view only system-view, return and quit are allowed' "return"
refused "ipv6 netstream apply record r" '"ipv6": in the user view' "slot 1" "quit" "quit"
# undo of what is not there, or still used
refused "undo ipv6 netstream monitor m9" "no monitor m9"
refused "undo ipv6 netstream export host 192.0.2.1 9995" "no export host 192.0.2.1 port 9995 in this view"
refused "undo ipv6 netstream record r" "record r is applied in the system view" \
	"ipv6 netstream record r" "match ipv6 source-address" "quit" "ipv6 netstream apply record r"
refused "undo ipv6 netstream monitor m" "monitor m is bound to interface GigabitEthernet1/0/0" \
	"ipv6 netstream monitor m" "quit" "interface GigabitEthernet1/0/0" "ipv6 netstream monitor m inbound" "quit"
# what the shared pieces of the parser and of the host lookup refuse
refused "ipv6 netstream apply record" "incomplete command: expected record name"
refused "ipv6 netstream apply record r extra" 'unexpected "extra" at the end of the command' \
	"ipv6 netstream record r" "match ipv6 source-address" "quit"
refused "apply record r extra" 'unexpected "extra" at the end of the command' \
	"ipv6 netstream record r" "match ipv6 source-address" "quit" "ipv6 netstream monitor m"
refused "ipv6 netstream export source" "incomplete command: expected an IPv4 address"
refused "# netstreamd: host-pace-pps 192.0.2.1 9996 500" "no export host 192.0.2.1 port 9996 in this view" \
	"ipv6 netstream export host 192.0.2.1 9995"
# at most 8 hosts a view
printf 'ipv6 netstream export host 192.0.2.%d 9995\n' 1 2 3 4 5 6 7 8 9 >$T/h.vrp
"$NSCTL" vrp import $T/h.vrp >$T/out 2>$T/err
check "a 9th host: error at line 9" grep -q "^$T/h.vrp:9: error: at most 8 export hosts per view" $T/err
# # netstreamd: lines are checked as the config's own settings
refused "# netstreamd: mtu 100" "mtu 100 is out of range 576..9000"
refused "# netstreamd: workers 2" "this is a command of the slot view, not of the system view"
refused "# netstreamd: colour blue" '"# netstreamd: colour": expected run-dir, database'

# several errors: each at its line, all reported
printf '%s\n' "slot 1" " bogus" "quit" "ipv6 netstream export host 192.0.2.1 0" >$T/m.vrp
"$NSCTL" vrp import $T/m.vrp >$T/out 2>$T/err
check "two errors, lines 2 and 4, and a count" \
	bash -c "grep -q '^$T/m.vrp:2: error: ' $T/err && grep -q '^$T/m.vrp:4: error: ' $T/err && grep -q '^$T/m.vrp: 2 errors, nothing imported' $T/err"

# interfaces need a capture source: from --device or --file
printf '%s\n' "interface GigabitEthernet1/0/0" " ipv6 netstream inbound" >$T/i.vrp
"$NSCTL" vrp import $T/i.vrp >$T/out 2>$T/err
rc=$?
check "no capture source: exit 1, nothing on stdout" bash -c "[ $rc -eq 1 ] && [ ! -s $T/out ]"
check "no capture source: names --device and --file" \
	grep -q "^$T/i.vrp:1: error: interface GigabitEthernet1/0/0 has no capture source: give --device GigabitEthernet1/0/0=DEV .* or --file GigabitEthernet1/0/0=PCAP" $T/err
"$NSCTL" vrp import --device GigabitEthernet9/0/0=eth0 $T/i.vrp >$T/out 2>$T/err
check "--device of an interface the file does not have" \
	grep -q "error: --device GigabitEthernet9/0/0=eth0: no interface GigabitEthernet9/0/0 in this file" $T/err
"$NSCTL" vrp import --file GigabitEthernet1/0/0=$T/nonexistent.pcap $T/i.vrp >$T/out 2>$T/err
check "--file that cannot be read: the validator's error at the interface line" \
	grep -q "^$T/i.vrp:1: error: interface GigabitEthernet1/0/0: cannot read capture file" $T/err
printf '%s\n' "interface GigabitEthernet300/0/0" >$T/s.vrp
"$NSCTL" vrp import --device GigabitEthernet300/0/0=eth0 $T/s.vrp >$T/out 2>$T/err
check "an interface number past slot 255 needs # netstreamd: slot" \
	grep -q "^$T/s.vrp:1: error: interface GigabitEthernet300/0/0: its number gives no slot" $T/err
printf '%s\n' "interface GigabitEthernet300/0/0" " # netstreamd: slot 3" >$T/s.vrp
"$NSCTL" vrp import --device GigabitEthernet300/0/0=eth0 $T/s.vrp >$T/out 2>$T/err
check "... and takes it" grep -q "slot = 3;" $T/out

# a usage error is exit 2
"$NSCTL" vrp import >$T/out 2>$T/err
check "vrp import without FILE: exit 2" [ $? -eq 2 ]
"$NSCTL" vrp frobnicate >$T/out 2>$T/err
check "vrp with an unknown verb: exit 2" [ $? -eq 2 ]
finish
