#!/usr/bin/env bash
# nsctl up, and a commit while traffic flows (real-time replays): a new
# monitor with a changed record on one interface, and a removed slot. The
# monitor's collector sees the new record; the removed slot's sampled is
# stopped; the interface whose record did not change loses no flow (its
# packets and bytes per 5-tuple equal tshark's count of its capture); the
# changed interface's packets all arrive, before the change to the system
# host and after it to the monitor's host.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
P1=$((20000 + RANDOM % 20000)); P2=$((P1 + 1))
# 8 s each in real time; seeds 1, 2, 3 give sources 2001:db8:1::/48 ...
"$BIN/pcapgen" --flows 40 --packets 4000 --pps 500 --seed 1 -o $T/a.pcap >/dev/null
"$BIN/pcapgen" --flows 30 --packets 3000 --pps 375 --seed 2 -o $T/c.pcap >/dev/null
"$BIN/pcapgen" --flows 30 --packets 3000 --pps 375 --seed 3 -o $T/b.pcap >/dev/null
common() {
	cat <<CONF
system = { export = { source = { address = "127.0.0.1"; };
                      hosts = ( { address = "127.0.0.1"; port = $P1; } ); };
           apply_record = "r"; };
records = (
  { name = "r"; match = [ "source-address", "destination-address",
      "protocol", "source-port", "destination-port" ];
    collect = [ "packets", "bytes", "flow-end-reason" ]; },
  { name = "r2"; match = [ "source-address", "destination-address",
      "protocol" ]; collect = [ "packets", "bytes" ]; } );
CONF
}
{ common; cat <<CONF
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; replay = "realtime"; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/1"; file = "$T/c.pcap"; replay = "realtime"; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet2/0/0"; file = "$T/b.pcap"; replay = "realtime"; netstream = [ "inbound" ]; } );
CONF
} >$T/one.conf
{ common; cat <<CONF
monitors = ( { name = "m1"; apply_record = "r2";
               hosts = ( { address = "127.0.0.1"; port = $P2; } ); } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; replay = "realtime"; netstream = [ "inbound" ];
    monitors = ( { name = "m1"; direction = "inbound"; } ); },
  { name = "GigabitEthernet1/0/1"; file = "$T/c.pcap"; replay = "realtime"; netstream = [ "inbound" ]; } );
CONF
} >$T/two.conf
"$NSCTL" collect -p $P1 -b 127.0.0.1 -t 60 >$T/c1.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" collect -p $P2 -b 127.0.0.1 -t 60 >$T/c2.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" up -c $T/one.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'started sampled --slot 2' $T/up.log" 100 || fail "group did not start"
sleep 3
"$NSCTL" commit -c $T/two.conf -m "monitor m1, slot 2 removed" >/dev/null ||
	fail "commit while traffic flows"
sleep 7 # the rest of the 8 s replays
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
sleep 0.5
check "the removed slot's sampled was stopped" grep -q 'stopping sampled slot 2' $T/up.log
check "the monitor's collector receives the new record (no ports)" \
	grep -q '^data .*template=259 source-address=2001:db8:1:.* protocol=[0-9]* packets=' $T/c2.txt
check "the monitor's collector receives only GigabitEthernet1/0/0's flows" \
	bash -c "! grep '^data ' $T/c2.txt | grep -qv 'source-address=2001:db8:1:'"
tshark_flows $T/c.pcap >$T/want_c
collect_flows $T/c1.txt | grep '^2001:db8:2:' >$T/got_c
check "unchanged record: every flow of GigabitEthernet1/0/1, exactly" diff -u $T/want_c $T/got_c
want_a=$(tshark_flows $T/a.pcap | awk '{ p += $6 } END { print p }')
got_a=$(cat $T/c1.txt $T/c2.txt | grep '^data .*source-address=2001:db8:1:' |
	sed 's/.* packets=\([0-9]*\).*/\1/' | awk '{ p += $1 } END { print p }')
check "changed record: all $want_a packets of GigabitEthernet1/0/0 arrive ($got_a)" [ "$got_a" = "$want_a" ]
check "flows aged by the plan change carry reason forced (4)" \
	grep -q 'source-address=2001:db8:1:.*flow-end-reason=4' $T/c1.txt
finish
