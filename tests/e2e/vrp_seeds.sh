#!/usr/bin/env bash
# nsctl vrp import on the vendor documents' own procedures (seeds/:
# "Configuring NetStream Monitoring Services" and "Outputting Flexible
# Flow Packets"), typed as an operator types them: each command of the
# seeds' syntax lines, with every option. The result is validated, then
# committed to a real cfgd, and each setting is checked in `nsctl show
# effective` (what runs) against what the seed says the command means:
# the monitor's hosts and source win over the system's for the
# interfaces bound to it, a slot's hosts over the system's, a binding
# without `ipv6 netstream DIRECTION` is not effective, nor a system
# record with version ipfix; undo takes a setting back.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1

# A record for both procedures (the seeds apply "record-name" without
# defining it): the record view's commands.
cat >$T/seed.vrp <<'EOF'
system-view
ipv6 netstream record web
 match ipv6 source-address
 match ipv6 destination-address
 match ipv6 next-header
 match transport source-port
 match transport destination-port
 match ipv6 traffic-class
 match ipv6 flow-label
 collect counter packets
 collect counter bytes
 collect timestamp sys-uptime first
 collect timestamp sys-uptime last
 collect tcp-flags
 collect interface input
 collect interface output
quit
# Outputting Flexible Flow Packets
ipv6 netstream export version 9 origin-as bgp-nexthop
slot 1
 ip netstream export sequence-mode flow
 quit
ipv6 netstream apply record web
ipv6 netstream export template timeout-rate 10
ipv6 netstream export source ipv6 2001:db8::1 40000
ipv6 netstream export source 192.0.2.1 40002
ipv6 netstream export host ipv6 2001:db8::100 9995 vpn-instance blue version 9 dscp 10
ipv6 netstream export host 192.0.2.100 9997
slot 2
 ipv6 netstream export host ipv6 2001:db8::200 9996 dscp 46
 quit
ipv6 netstream aggregation timeout active 20
ipv6 netstream aggregation timeout inactive 60
commit
# (Optional) Configuring NetStream Monitoring Services
system-view
ipv6 netstream monitor m1
 ipv6 netstream export host ipv6 2001:db8::50 2055 vpn-instance red version 9 dscp 8
 ipv6 netstream export source ipv6 2001:db8::2 40001
 apply record web
 quit
interface GigabitEthernet1/0/0
 ipv6 netstream inbound
 ipv6 netstream outbound
 ipv6 netstream monitor m1 inbound
 quit
interface GigabitEthernet2/0/0
 ipv6 netstream inbound
 ipv6 netstream monitor m1 outbound
 ipv6 netstream sampler random-packets 100 inbound
commit
return
EOF

out=$("$NSCTL" vrp import --no-host-checks --device GigabitEthernet1/0/0=nsv0 \
	--device GigabitEthernet2/0/0=nsv1 $T/seed.vrp 2>$T/err)
rc=$?
check "import: exit 0 ($rc): $(head -3 $T/err)" [ $rc -eq 0 ]
printf '%s\n' "$out" >$T/seed.conf
v=$("$NSCTL" validate --no-host-checks -c $T/seed.conf)
check "the imported config validates (no error)" \
	bash -c "! grep -q ': error: ' <<<'$v'"

# the seed's note: "ipv6 netstream monitor NAME outbound" without
# "ipv6 netstream outbound" does not take effect, named at its line
l=$(grep -n 'ipv6 netstream monitor m1 outbound' $T/seed.vrp | cut -d: -f1)
check "not effective named at its vendor line $l: $(cat $T/err)" \
	grep -q "^$T/seed.vrp:$l: not effective: monitor m1 on GigabitEthernet2/0/0 outbound" $T/err

start_cfgd
"$NSCTL" commit -c $T/seed.conf >/dev/null 2>&1 || fail "commit"
eff=$("$NSCTL" show effective)
printf '%s\n' "$eff" >$T/effective
has() { # has DESCRIPTION FIXED-STRING
	if grep -qF -- "$2" $T/effective; then ok "$1"; else
		fail "$1: no line with \"$2\""; fi
}
has "export version 9 origin-as: AS fields from origin AS" "as origin"
has "export version 9 bgp-nexthop" "bgp-nexthop yes"
has "template timeout-rate 10: refreshed every 10 minutes" "template refresh 10 min"
has "aggregation timeout active 20 (minutes): 1200 s" "aging active 1200s"
has "aggregation timeout inactive 60 (seconds)" "inactive 60s"
has "slot 1: sequence-mode flow" "slot 1 sequence-mode flow"
has "record web: every match and collect, in order" \
	"match source-address,destination-address,protocol,source-port,destination-port,traffic-class,flow-label collect packets,bytes,first-switched,last-switched,tcp-flags,input-interface,output-interface"
# GigabitEthernet1/0/0 inbound: the monitor's host and source (seed note)
awk '/GigabitEthernet1\/0\/0 inbound/{p=1;print;next} /^  [A-Z]/{p=0} p' $T/effective >$T/ge1in
check "GE1/0/0 inbound: record web via monitor m1" grep -q "record web via monitor m1" $T/ge1in
check "GE1/0/0 inbound: monitor host, version 9, dscp 8, from the monitor's source" \
	grep -q -- "-> 2001:db8::50 port 2055 v9 dscp 8 .*from 2001:db8::2 port 40001  \[monitor m1\]" $T/ge1in
check "GE1/0/0 inbound: the monitor's host, vpn-instance red" grep -q "red" $T/ge1in
check "GE1/0/0 inbound: not the system's hosts" bash -c "! grep -q '2001:db8::100' $T/ge1in"
# GigabitEthernet1/0/0 outbound: system view, both hosts, each from its family's source
awk '/GigabitEthernet1\/0\/0 outbound/{p=1;print;next} /^  [A-Z]/{p=0} p' $T/effective >$T/ge1out
check "GE1/0/0 outbound: system host ipv6 ... vpn-instance blue dscp 10, from the IPv6 source" \
	grep -q -- "-> 2001:db8::100 port 9995 v9 dscp 10 .*from 2001:db8::1 port 40000  \[system\]" $T/ge1out
check "GE1/0/0 outbound: vpn-instance blue" grep -q "blue" $T/ge1out
check "GE1/0/0 outbound: system IPv4 host from the IPv4 source" \
	grep -q -- "-> 192.0.2.100 port 9997 v9 dscp 0 .*from 192.0.2.1 port 40002  \[system\]" $T/ge1out
# GigabitEthernet2/0/0 inbound: slot 2's host wins over the system's
awk '/GigabitEthernet2\/0\/0 inbound/{p=1;print;next} /^  [A-Z]/{p=0} p' $T/effective >$T/ge2in
check "GE2/0/0: slot 2 from its number" grep -q "(slot 2," $T/ge2in
check "GE2/0/0 inbound: slot 2's host, dscp 46" \
	grep -q -- "-> 2001:db8::200 port 9996 v9 dscp 46 .*\[slot 2\]" $T/ge2in
check "GE2/0/0 inbound: not the system's hosts" bash -c "! grep -q '2001:db8::100' $T/ge2in"
check "GE2/0/0 inbound: sampler random-packets 100" grep -q "sampler random-packets 100" $T/ge2in
check "GE2/0/0 outbound (monitor without ipv6 netstream outbound): no binding" \
	bash -c "! grep -q '^  GigabitEthernet2/0/0 outbound (' $T/effective"
stop_cfgd

# version ipfix: the system's apply record is not effective (seed note)
cat >$T/ipfix.vrp <<'EOF'
ipv6 netstream record r
 match ipv6 source-address
 quit
ipv6 netstream export version ipfix
ipv6 netstream apply record r
ipv6 netstream export host 192.0.2.1 9995
interface GigabitEthernet1/0/0
 ipv6 netstream inbound
EOF
"$NSCTL" vrp import --no-host-checks --device GigabitEthernet1/0/0=nsv0 \
	$T/ipfix.vrp >$T/ipfix.conf 2>$T/err
check "version ipfix: apply record not effective at line 5" \
	grep -q "^$T/ipfix.vrp:5: not effective: system apply_record r: the system export version is ipfix" $T/err
check "version ipfix: version = \"ipfix\"" grep -q 'version = "ipfix";' $T/ipfix.conf

# undo takes each setting back; a setting given again replaces it
cat >$T/undo.vrp <<'EOF'
ipv6 netstream record r
 match ipv6 source-address
 match ipv6 flow-label
 undo match ipv6 flow-label
 collect counter bytes
 quit
ipv6 netstream export version 9 peer-as
undo ipv6 netstream export version
ipv6 netstream export template timeout-rate 5
undo ipv6 netstream export template timeout-rate
ipv6 netstream aggregation timeout active interval-second 30
ipv6 netstream aggregation timeout inactive 100
undo ipv6 netstream aggregation timeout inactive
ipv6 netstream export host 192.0.2.1 9995 dscp 3
ipv6 netstream export host 192.0.2.1 9995 dscp 4
ipv6 netstream export host 192.0.2.2 9995
undo ipv6 netstream export host 192.0.2.2 9995
ipv6 netstream export source 192.0.2.9
undo ipv6 netstream export source
ipv6 netstream apply record r
ipv6 netstream monitor gone
 quit
undo ipv6 netstream monitor gone
slot 3
 ip netstream export sequence-mode flow
 undo ip netstream export sequence-mode flow
 quit
interface GigabitEthernet3/0/0
 ipv6 netstream inbound
 ipv6 netstream outbound
 undo ipv6 netstream outbound
 ipv6 netstream sampler fix-packets 10 outbound
 undo ipv6 netstream sampler outbound
 ipv6 netstream sampler fix-time 50 inbound
EOF
: >$T/g3.pcap # validation wants a readable regular file, nothing more
"$NSCTL" vrp import --no-host-checks --file GigabitEthernet3/0/0=$T/g3.pcap \
	$T/undo.vrp >$T/undo.conf 2>$T/err
check "undo: import ok ($(head -2 $T/err))" [ -s $T/undo.conf ]
check "undo match: flow-label gone" grep -q 'match = \[ "source-address" \];' $T/undo.conf
check "undo version: no as, version 9" bash -c "! grep -qE 'as = |version = ' $T/undo.conf"
check "undo timeout-rate: the default" bash -c "! grep -q template_timeout_rate $T/undo.conf"
check "active interval-second 30: active_seconds = 30" grep -q 'active_seconds = 30;' $T/undo.conf
check "undo inactive: the default" bash -c "! grep -q inactive_seconds $T/undo.conf"
check "a host given again replaces its options (dscp 4)" \
	grep -q '{ address = "192.0.2.1"; port = 9995; dscp = 4; }' $T/undo.conf
check "undo host: 192.0.2.2 gone" bash -c "! grep -q 192.0.2.2 $T/undo.conf"
check "undo source: no source" bash -c "! grep -q 'source = ' $T/undo.conf"
check "undo monitor: no monitors" bash -c "! grep -q 'monitors = ' $T/undo.conf"
check "undo sequence-mode: slot 3 packet" bash -c "grep -q 'id = 3;' $T/undo.conf && ! grep -q sequence_mode $T/undo.conf"
check "undo ipv6 netstream outbound" grep -q 'netstream = \[ "inbound" \];' $T/undo.conf
check "undo sampler outbound; fix-time 50 inbound" \
	bash -c "grep -q 'inbound = { mode = \"fix-time\"; value = 50; };' $T/undo.conf && ! grep -q 'outbound = {' $T/undo.conf"
# nsctl.8, section VRP: the whole site example imports and validates,
# and every field of its record view table is a match or collect that
# imports (the man page and the importer say the same)
man -l -Tutf8 man/nsctl.8 2>/dev/null | col -bx >$T/man.txt
sed -n '/^ *\$ cat site.vrp/,/^ *\$ nsctl vrp import/p' $T/man.txt |
	sed -e '1d' -e '$d' -e 's/^       //' \
		-e "s|/etc/netstreamd/routes.txt|$ROOT/etc/routes.txt|" >$T/site.vrp
: >$T/uplink.pcap
"$NSCTL" vrp import --no-host-checks --device GigabitEthernet1/0/0=eth0 \
	--file GigabitEthernet2/0/0=$T/uplink.pcap $T/site.vrp >$T/site.conf 2>$T/err
check "nsctl.8 site example ($(wc -l <$T/site.vrp) lines) imports: $(head -2 $T/err)" \
	bash -c "[ -s $T/site.conf ] && [ \$(wc -l <$T/site.vrp) -gt 30 ]"
awk '/Record view: match FIELD/{p=1;next} /# netstreamd: KEY VALUE/{p=0} p' $T/man.txt |
	sed -n 's/^ *\([a-z].*[a-z]\)  \+\([a-z].*[a-z)]\)  \+\(match\|collect\|both\)$/\1|\3/p' >$T/fields
check "the man page lists the record view's fields ($(wc -l <$T/fields))" [ "$(wc -l <$T/fields)" -ge 25 ]
{
	echo "ipv6 netstream record all"
	while IFS='|' read -r words where; do
		words=${words%%,*} # "icmp type, icmp code": the first
		[ "$where" = collect ] && echo " collect $words" || echo " match $words"
	done <$T/fields
	echo " match icmp code"
} >$T/fields.vrp
"$NSCTL" vrp import --no-host-checks $T/fields.vrp >$T/fields.conf 2>$T/err
check "every field of the man page imports: $(head -3 $T/err)" [ -s $T/fields.conf ]
finish
