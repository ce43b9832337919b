#!/usr/bin/env bash
# Template refresh (seed rule 6) on the export clock: a replay spanning 5
# minutes of pcap time with template_timeout_rate = 1 (and no per-packet
# refresh): the export, captured by tshark on loopback, carries templates
# first and then again every 60 s of export time; a collector that starts
# late (the capture cut after 90 s) gets a template within one refresh
# and decodes every data record after it.
#
# Then the per-packet refresh: template_refresh_packets = 7 (the timer
# out of reach): tshark finds the data template in export packets 0, 7,
# 14, ... of each (host, domain) and in no other (tests/pcap/oracle.py
# wirecheck), with the exported flows equal to tshark's reading of the
# capture.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/tshark_lib.sh"
cd "$ROOT" || exit 1
watchdog 300
P=$((20000 + RANDOM % 20000))
"$BIN/pcapgen" --flows 30 --packets 3000 --pps 10 -o $T/a.pcap >/dev/null
cat >$T/t.conf <<CONF
system = { export = { source = { address = "127.0.0.1"; };
                      hosts = ( { address = "127.0.0.1"; port = $P; } );
                      template_timeout_rate = 1;
                      template_refresh_packets = 0; };
           apply_record = "r";
           aging = { active_seconds = 15; inactive_seconds = 5; }; };
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 netstream = [ "inbound" ]; } );
CONF
"$NSCTL" collect -p $P -b 127.0.0.1 -t 60 >$T/c.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
tshark -i lo -f "udp dst port $P" -w $T/x.pcap >$T/tshark.log 2>&1 &
TS=$!
PIDS="$PIDS $TS"
wait_for "grep -q Capturing $T/tshark.log" 100 || fail "tshark did not start"
sleep 0.5
"$NSCTL" run -c $T/t.conf >$T/run.out 2>$T/run.log || fail "nsctl run"
sleep 1
kill -INT $TS
wait $TS 2>/dev/null
# per export packet: its export time, 258 if it carries the data template
# (a template flowset, id 0, defining 258), and a decoded source address
fields() {
	tshark -r "$1" -d udp.port==$P,cflow -T fields -E occurrence=a \
		-E aggregator=, -e cflow.unix_secs -e cflow.flowset_id \
		-e cflow.template_id -e cflow.srcaddrv6 2>/dev/null |
	awk -F'\t' '{ t = ($2 ~ /(^|,)0(,|$)/ && $3 ~ /(^|,)258(,|$)/) ? 258 : ""
		split($4, a, ","); print $1 "\t" t "\t" a[1] }'
}
fields $T/x.pcap >$T/all
n=$(wc -l <$T/all)
check "the export spans 5 minutes of export time ($n packets)" \
	awk 'NR == 1 { a = $1 } { b = $1 } END { exit !(b - a >= 290) }' $T/all
check "the first packet carries the templates" \
	awk -F'\t' 'NR == 1 { exit !($2 == 258) }' $T/all
awk -F'\t' '$2 == 258 { print $1 }' $T/all >$T/tmpl_times
check "templates resent every 60 s of export time: $(tr '\n' ' ' <$T/tmpl_times)" \
	awk 'NR > 1 { d = $1 - p; if (d < 60 || d > 62) bad = 1 } { p = $1; n++ }
	     END { exit !(n >= 5 && !bad) }' $T/tmpl_times
# a collector started late: the export from 90 s on
start=$(awk 'NR == 1 { print $1 + 90 }' $T/all)
first=$(awk -v s="$start" '$1 >= s { print NR; exit }' $T/all)
editcap -r $T/x.pcap $T/late.pcap "$first-$n" >/dev/null
fields $T/late.pcap >$T/late
check "a late collector gets a template within one refresh" \
	awk -F'\t' 'NR == 1 { a = $1 } $2 == 258 { exit !($1 - a <= 61) } END { }' $T/late
check "... and decodes every data record after it" \
	awk -F'\t' '$2 == 258 { seen = 1 } seen && $3 == "" && $2 == "" { bad = 1 } END { exit !(seen && !bad) }' $T/late

# every N packets, exactly
P2=$((P + 1))
"$BIN/pcapgen" --flows 2000 --packets 2000 --pps 1000 -o $T/b.pcap >/dev/null
sed -e "s|port = $P;|port = $P2;|" -e 's|template_timeout_rate = 1;|template_timeout_rate = 30;|' \
	-e 's|template_refresh_packets = 0;|template_refresh_packets = 7;|' \
	-e "s|$T/a.pcap|$T/b.pcap|" $T/t.conf >$T/n.conf
grep -q 'template_refresh_packets = 7;' $T/n.conf || fail "config of the second run"
"$NSCTL" collect -p $P2 -b 127.0.0.1 -t 60 >$T/c2.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
capture_start $T/n.pcap $P2
"$NSCTL" run -c $T/n.conf >$T/run2.out 2>$T/run2.log || fail "nsctl run (refresh every 7)"
capture_stop $T/n.pcap
n2=$(tshark -r $T/n.pcap 2>/dev/null | wc -l)
check "the second export has over 3 x 7 packets ($n2)" [ "$n2" -gt 21 ]
WIRE_LABEL="every 7 packets: " wire_check $T/n.conf $T/n.pcap $P2 --domains='[1]'
oracle expect $T/n.conf >$T/want2
oracle wire $T/n.pcap $T/n.conf $P2 >$T/got2
check "every 7 packets: the flows tshark decodes = tshark's reading of the capture" \
	same $T/want2 $T/got2
finish
