#!/usr/bin/env bash
# A host nobody listens on (ICMP port unreachable) and a host whose VPN
# instance does not exist, next to a listening one: the listening one still
# receives every record, the errors are counted per host and errno, bad
# batches are counted by reason, and exportd stays up.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/exportd_lib.sh"
cd "$ROOT" || exit 1

P1=$(free_port) # nfcapd
P2=$(free_port) # nobody
P3=$(free_port) # nobody, through a VRF device that does not exist
start_cfgd
start_exportd
start_nfcapd $P1 "$T/nf"
G=$(timeout 60 "$FLOWGEN" -n 50000 -b 1000 --rate 100 --slot 1 --final \
	-H 127.0.0.1:$P1,127.0.0.1:$P2)
timeout 30 "$FLOWGEN" -n 1000 --slot 5 --final --vpn nosuchvrf$$ -H 127.0.0.1:$P3 >/dev/null
# a batch exportd must refuse: 256 is its own options template
timeout 30 "$FLOWGEN" -n 10 --slot 6 --template 256 -H 127.0.0.1:$P1 >/dev/null
check "exportd exported the final batch of slot 1" wait_finals 1 1
check "exportd exported the final batch of slot 5" wait_finals 5 1
sleep 0.5
stop_nfcapd $P1

check "listening host: flows = 50000" [ "$(nf_stat $T/nf Flows)" = 50000 ]
check "listening host: packets = $(flowgen_field "$G" packets)" \
	[ "$(nf_stat $T/nf Packets)" = "$(flowgen_field "$G" packets)" ]
check "listening host: no sequence failure" [ "$(nf_stat $T/nf 'Sequence failures')" = 0 ]
check "stats: no export packet in flight any more" wait_sent
check "stats: records host=[127.0.0.1]:$P1 = 50000" \
	[ "$(xd_counter records "host=[127.0.0.1]:$P1")" = 50000 ]
n=$(xd_counter send_errors "host=[127.0.0.1]:$P2 errno=ECONNREFUSED")
check "stats: send_errors ECONNREFUSED for [127.0.0.1]:$P2 ($n)" [ "$n" -gt 0 ]
n=$(xd_counter send_errors "host=[127.0.0.1]:$P1")
check "stats: no send error for the listening host ($n)" [ "$n" = 0 ]
n=$(xd_counter send_errors "host=[127.0.0.1]:$P3 errno=ENODEV")
check "stats: send_errors ENODEV for the missing VPN instance ($n)" [ "$n" -gt 0 ]
check "exportd logged the VPN instance failure" grep -q "nosuchvrf" "$T/exportd.log"
n=$(xd_counter bad_batches "reason=template-id")
check "stats: bad_batches reason=template-id = 1 ($n)" [ "$n" = 1 ]
check "exportd still running" kill -0 $XD_PID
kill -TERM $XD_PID
wait $XD_PID
check "exportd exits 0 on SIGTERM" [ $? = 0 ]
finish
