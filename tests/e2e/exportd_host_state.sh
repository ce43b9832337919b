#!/usr/bin/env bash
# A host whose sends fail is shown failing, never as exported (issue 22,
# finding 2). Two hosts get the same 1000 flows: one with nfcapd
# listening, one on a loopback port nobody listens on (each packet comes
# back as ICMP port unreachable: ECONNREFUSED from the error queue).
# exportd's stats, `display statistics` (text and --json) and `nsctl
# stats --prometheus` show the listening host ok, its packets equal to
# nfcapd's and its 1000 records sent, nothing failed; the other failing
# since a time, with ECONNREFUSED, no packet and no record sent, all its
# packets and 1000 records failed. The log says once that it fails. Then
# a listener starts on its port and 500 more flows go out: it is ok
# again, logged once, its 500 records sent and its failed counts as
# they were.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/exportd_lib.sh"
cd "$ROOT" || exit 1
watchdog 120
P1=$(free_port) # nfcapd
P2=$(free_port) # nobody, later nfcapd
[ "$P1" != "$P2" ] || P2=$((P1 + 1))
cat >$T/g.conf <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P1; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address",
                "protocol", "source-port", "destination-port" ];
              collect = [ "packets", "bytes" ]; } );
stats_interval_ms = 200;
CONF
start_cfgd
"$NSCTL" commit -c $T/g.conf -m t >/dev/null 2>>$T/nsctl.log || fail "commit"
start_exportd
start_nfcapd $P1 "$T/nf1"
H1="[127.0.0.1]:$P1"
H2="[127.0.0.1]:$P2"
R1="\\[127\\.0\\.0\\.1\\]:$P1" # as grep patterns
R2="\\[127\\.0\\.0\\.1\\]:$P2"
timeout 30 "$FLOWGEN" -n 1000 -b 100 --slot 1 --final \
	-H 127.0.0.1:$P1,127.0.0.1:$P2 >/dev/null
check "exportd exported the final batch of slot 1" wait_finals 1 1
sleep 0.5
stop_nfcapd $P1
check "stats: no export packet in flight any more (5 s for an error)" wait_sent
got1=$(nf_stat $T/nf1 Flows)
check "nfcapd on the good host got the 1000 flows ($got1)" [ "$got1" = 1000 ]
pk1=$(xd_counter packets "host=$H1")
check "stats: the good host sent packets ($pk1)" [ "${pk1:-0}" -gt 0 ]
v=$(xd_counter records "host=$H1")
check "stats: good host records = 1000 ($v)" [ "$v" = 1000 ]
v=$(xd_counter failed_records "host=$H1")
check "stats: good host failed_records = 0 ($v)" [ "$v" = 0 ]
v=$(xd_counter packets "host=$H2")
check "stats: failing host packets = 0 ($v)" [ "$v" = 0 ]
v=$(xd_counter records "host=$H2")
check "stats: failing host records = 0 ($v)" [ "$v" = 0 ]
v=$(xd_counter failed_records "host=$H2")
check "stats: failing host failed_records = 1000 ($v)" [ "$v" = 1000 ]
v=$(xd_counter failed_packets "host=$H2")
check "stats: failing host failed_packets = the good host's packets ($v = $pk1)" \
	[ "$v" = "$pk1" ]
v=$(xd_counter template_sends "host=$H2")
check "stats: failing host template_sends = 0: none reached it ($v)" [ "$v" = 0 ]
v=$(xd_counter template_sends "host=$H1")
check "stats: good host template_sends > 0 ($v)" [ "${v:-0}" -gt 0 ]
v=$(xd_counter host_failing "host=$H2 error=ECONNREFUSED")
check "stats: host_failing{error=ECONNREFUSED} = 1 for the failing host ($v)" [ "$v" = 1 ]
v=$(xd_counter host_failing "host=$H1")
check "stats: host_failing = 0 for the good host ($v)" [ "$v" = 0 ]
since=$(xd_counter host_state_since_seconds "host=$H2")
now=$(date +%s)
check "stats: the failing host's state is since a time of this test ($since, now $now)" \
	[ "${since:-0}" -gt $((now - 120)) ] && [ "${since:-0}" -le "$now" ]

# display statistics, text
"$NSCTL" display statistics >$T/stats.txt 2>>$T/nsctl.log
row() { awk -v h="$1" '$1 == h' $T/stats.txt; }
check "display: good host row: ok, $pk1 packets, 1000 flows, 0 failed" \
	[ "$(row "$H1" | awk '{ print $2, $3, $6, $7, $8, $9 }')" = "$pk1 1000 0 0 0 ok" ]
check "display: failing host row: 0 packets, 0 flows, $pk1 and 1000 failed, failing" \
	[ "$(row "$H2" | awk '{ print $2, $3, $6, $7, $8, $9 }')" = "0 0 $pk1 1000 0 failing" ]
check "display: failing host row names ECONNREFUSED and since when" \
	eval "row '$H2' | grep -E 'failing +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +ECONNREFUSED'"

# display statistics --json
"$NSCTL" display statistics --json >$T/stats.json 2>>$T/nsctl.log
jq_host() { # HOST KEY
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for h in d["hosts"]:
    if h["host"] == sys.argv[2]:
        print(h[sys.argv[3]])' $T/stats.json "$1" "$2"
}
check "json: good host state ok" [ "$(jq_host "$H1" state)" = ok ]
check "json: good host packets $pk1, records 1000" \
	[ "$(jq_host "$H1" packets) $(jq_host "$H1" records)" = "$pk1 1000" ]
check "json: failing host state failing, error ECONNREFUSED" \
	[ "$(jq_host "$H2" state) $(jq_host "$H2" error)" = "failing ECONNREFUSED" ]
check "json: failing host since = the stats' ($since)" [ "$(jq_host "$H2" since)" = "$since" ]
check "json: failing host 0 packets, 0 records, $pk1 and 1000 failed" \
	[ "$(jq_host "$H2" packets) $(jq_host "$H2" records) $(jq_host "$H2" failed_packets) $(jq_host "$H2" failed_records)" = "0 0 $pk1 1000" ]

# Prometheus
timeout 10 "$NSCTL" stats --prometheus >$T/prom.txt 2>>$T/nsctl.log
pm() { # FAMILY HOST [MORE]: the value of that series
	awk -v f="$1" -v h="host=\"$2\"" -v m="${3:-}" '
		index($0, f "{") == 1 && index($0, h) && (m == "" || index($0, m)) { print $NF }' $T/prom.txt
}
check "prometheus: failing host records_total 0, failed_records_total 1000" \
	[ "$(pm netstreamd_exportd_records_total "$H2") $(pm netstreamd_exportd_failed_records_total "$H2")" = "0 1000" ]
check "prometheus: failing host host_failing 1 with error ECONNREFUSED" \
	[ "$(pm netstreamd_exportd_host_failing "$H2" 'error="ECONNREFUSED"')" = 1 ]
check "prometheus: good host host_failing 0, records_total 1000" \
	[ "$(pm netstreamd_exportd_host_failing "$H1") $(pm netstreamd_exportd_records_total "$H1")" = "0 1000" ]
check "prometheus: host_failing is a gauge with its help" \
	grep -q '^# TYPE netstreamd_exportd_host_failing gauge' $T/prom.txt
check "prometheus: failed_records has its help" \
	grep -q '^# HELP netstreamd_exportd_failed_records_total .' $T/prom.txt

n=$(grep -c "$R2.*failing" $T/exportd.log)
check "log: one line says the host fails ($n)" [ "$n" = 1 ]
check "log: that line names the error" grep -q "$R2.*failing.*ECONNREFUSED" $T/exportd.log
n=$(grep -c "$R1.*failing" $T/exportd.log)
check "log: nothing about the good host failing ($n)" [ "$n" = 0 ]

check "prometheus: packets_in_flight is a gauge" \
	grep -q '^# TYPE netstreamd_exportd_packets_in_flight gauge' $T/prom.txt
# the collector comes: the host recovers once its packets go on with no
# error for 5 s
start_nfcapd $P2 "$T/nf2"
timeout 30 "$FLOWGEN" -n 500 -b 50 --rate 20 --slot 2 --final \
	-H 127.0.0.1:$P2 >/dev/null
check "exportd exported the final batch of slot 2" wait_finals 2 1
check "the host is ok again (stats)" \
	wait_for '[ "$(xd_counter host_failing "host=$H2" 2>/dev/null)" = 0 ]' 150
check "stats: no export packet in flight any more" wait_sent
stop_nfcapd $P2
check "nfcapd on the recovered host got the 500 flows" [ "$(nf_stat $T/nf2 Flows)" = 500 ]
v=$(xd_counter records "host=$H2")
check "stats: recovered host records = 500 ($v)" [ "$v" = 500 ]
v=$(xd_counter failed_records "host=$H2")
check "stats: recovered host failed_records still 1000 ($v)" [ "$v" = 1000 ]
"$NSCTL" display statistics >$T/stats2.txt 2>>$T/nsctl.log
check "display: the recovered host is ok" \
	eval "awk -v h='$H2' '\$1 == h && \$9 == \"ok\"' $T/stats2.txt | grep -q ."
n=$(grep -c "$R2.*ok again" $T/exportd.log)
check "log: one line says the host is ok again ($n)" [ "$n" = 1 ]
check "log: it counts the $pk1 packets and 1000 records lost meanwhile" \
	grep -q "$R2.*ok again.* $pk1 packets (1000 flow records) were lost to ECONNREFUSED" $T/exportd.log
n=$(grep -c "$R2.*failing" $T/exportd.log)
check "log: still one line about failing ($n)" [ "$n" = 1 ]
finish
