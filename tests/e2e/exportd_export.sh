#!/usr/bin/env bash
# flowgen -> exportd -> nfcapd on loopback, v9 (packet and flow sequence
# mode) and IPFIX: every record arrives with the totals flowgen sent, no
# sequence gap, and tshark decodes every captured packet without error,
# with the batch's template and no packet over the MTU.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/exportd_lib.sh"
cd "$ROOT" || exit 1

P1=$(free_port) # v9, packet sequence, slot 1
P2=$(free_port) # IPFIX, slot 3
P3=$(free_port) # v9, flow sequence, slot 2
start_cfgd
start_exportd
for p in $P1 $P2 $P3; do start_nfcapd $p "$T/nf$p"; done
timeout 60 tshark -i lo -f "udp and (port $P1 or port $P2 or port $P3)" \
	-w "$T/export.pcap" >"$T/tshark-capture.out" 2>&1 &
TS_PID=$!
PIDS="$PIDS $TS_PID"
wait_for "grep -q 'Capturing on' $T/tshark-capture.out" 50 || fail "tshark did not start"
sleep 0.5

# paced (100 batches of 1000 records a second): the check is exportd's
# accounting, not whether nfcapd's socket buffer survives a burst
G1=$(timeout 60 "$FLOWGEN" -n 100000 -b 1000 --rate 100 --slot 1 --final -H 127.0.0.1:$P1)
G2=$(timeout 60 "$FLOWGEN" -n 50000 -b 1000 --rate 100 --slot 3 --final --ipfix -H 127.0.0.1:$P2)
G3=$(timeout 60 "$FLOWGEN" -n 50000 -b 500 --rate 100 --slot 2 --final --seq-flow -H 127.0.0.1:$P3)
check "exportd exported the final batch of slot 1" wait_finals 1 1
check "exportd exported the final batch of slot 3" wait_finals 3 1
check "exportd exported the final batch of slot 2" wait_finals 2 1
sleep 0.5
kill -INT $TS_PID 2>/dev/null
wait $TS_PID 2>/dev/null
for p in $P1 $P2 $P3; do stop_nfcapd $p; done

# (a) nfdump sees every record, the totals and no sequence failure
for run in "$P1 $G1" "$P2 $G2" "$P3 $G3"; do
	set -- $run
	port=$1
	shift
	g="$*"
	dir=$T/nf$port
	check "port $port: flows = $(flowgen_field "$g" records)" \
		[ "$(nf_stat $dir Flows)" = "$(flowgen_field "$g" records)" ]
	check "port $port: packets = $(flowgen_field "$g" packets)" \
		[ "$(nf_stat $dir Packets)" = "$(flowgen_field "$g" packets)" ]
	check "port $port: bytes = $(flowgen_field "$g" bytes)" \
		[ "$(nf_stat $dir Bytes)" = "$(flowgen_field "$g" bytes)" ]
done
# nfdump checks v9 sequences per packet and IPFIX ones per data record
check "v9 packet mode: no sequence failure (nfdump)" [ "$(nf_stat $T/nf$P1 'Sequence failures')" = 0 ]

# (b) tshark: every packet decodes, sequences, templates, MTU
TSR="tshark -r $T/export.pcap -d udp.port==$P1,cflow -d udp.port==$P2,cflow -d udp.port==$P3,cflow"
$TSR -T fields -e frame.number >/dev/null 2>"$T/tshark-read.out"
npk=$($TSR -T fields -e frame.number 2>/dev/null | wc -l)
check "tshark read $npk packets" [ "$npk" -gt 100 ]
bad=$($TSR -Y "udp.dstport != $P3 && (_ws.malformed || _ws.expert.severity >= \"warning\")" 2>/dev/null | wc -l)
check "no malformed packet and no expert warning, v9 packet mode + IPFIX ($bad)" [ "$bad" = 0 ]
# Wireshark expects v9 sequences to count packets: flow mode only warns so
bad=$($TSR -Y "udp.dstport == $P3 && (_ws.malformed || (_ws.expert.severity >= \"warning\" && !(_ws.expert.group == \"Sequence\")))" 2>/dev/null | wc -l)
check "flow mode: no malformed packet, only sequence warnings ($bad)" [ "$bad" = 0 ]
big=$($TSR -T fields -e udp.length 2>/dev/null | awk '$1 - 8 > 1400' | wc -l)
check "no packet over the 1400 byte MTU ($big)" [ "$big" = 0 ]
fields=$($TSR -Y "udp.dstport == $P1 && cflow.template_id == 258" -T fields \
	-e cflow.template_field_type -E occurrence=a 2>/dev/null | head -1)
check "template 258 carries the batch's fields ($fields)" \
	[ "${fields%%,48,*}" = "27,28,4,7,11,2,1,22,21" ]
# v9 packet mode: +1 per packet; flow mode: + the flow records before
$TSR -Y "udp.dstport == $P1" -T fields -e cflow.sequence 2>/dev/null >"$T/seq1"
check "v9 packet mode: sequence +1 per packet (tshark)" \
	awk 'NR > 1 && $1 != p + 1 { exit 1 } { p = $1 }' "$T/seq1"
$TSR -Y "udp.dstport == $P3" -T fields -e cflow.sequence -e cflow.srcaddrv6 \
	-E occurrence=a 2>/dev/null >"$T/seq3"
check "v9 flow mode: sequence + flow records of the packet before" \
	awk -F'\t' 'NR > 1 && $1 != p + n { exit 1 } { p = $1; n = ($2 == "" ? 0 : split($2, a, ",")) }' "$T/seq3"
check "flow mode: first sequence 0, last one + its records = 50000" \
	awk -F'\t' 'NR == 1 && $1 != 0 { exit 1 } { p = $1; n = split($2, a, ",") } END { exit p + n != 50000 }' "$T/seq3"
# IPFIX: + the data records (flows and options) of the message before;
# a sampler's options record is a selector report (RFC 5477), one 304 each
$TSR -Y "udp.dstport == $P2" -T fields -e cflow.sequence -e cflow.srcaddrv6 \
	-e cflow.selector_algorithm -e cflow.if_name -E occurrence=a 2>/dev/null >"$T/seq2"
check "IPFIX: sequence + data records of the message before (tshark)" \
	awk -F'\t' 'NR > 1 && $1 != p + n { exit 1 } { p = $1; n = 0; for (i = 2; i <= 4; i++) if ($i != "") n += split($i, a, ",") }' "$T/seq2"
# nfdump 1.7 leaves options data records out of the IPFIX sequence that
# RFC 7011 (3.1) counts them in: one "failure" per options refresh
o2=$($TSR -Y "udp.dstport == $P2 && cflow.selector_algorithm" 2>/dev/null | wc -l)
f2=$(nf_stat $T/nf$P2 'Sequence failures')
check "IPFIX: nfdump sequence failures ($f2) are the options refreshes ($o2)" \
	[ "$f2" -le "$o2" -a "$f2" -ge $((o2 - 1)) ]
# templates every 20 packets (the default) and options records
d1=$(wc -l <"$T/seq1")
t1=$($TSR -Y "udp.dstport == $P1 && cflow.flowset_id == 0" 2>/dev/null | wc -l)
check "templates in $t1 of $d1 packets (every 21st)" [ "$t1" -ge $((d1 / 21)) ]
opt=$($TSR -Y "udp.dstport == $P1 && cflow.sampler_id == 1" 2>/dev/null | wc -l)
check "options records of the sampler ($opt packets)" [ "$opt" -ge 1 ]

# stats
h="host=[127.0.0.1]:$P1"
check "stats: no export packet in flight any more" wait_sent
check "stats: nothing failed to $h" [ "$(xd_counter failed_packets "$h")" = 0 ]
check "stats: records $h = 100000" [ "$(xd_counter records "$h")" = 100000 ]
check "stats: packets $h = $d1" [ "$(xd_counter packets "$h")" = "$d1" ]
check "stats: template_sends $h > 0" [ "$(xd_counter template_sends "$h")" -gt 0 ]
check "stats: options_sends $h > 0" [ "$(xd_counter options_sends "$h")" -gt 0 ]
check "stats: packets_ok template=258 > 0" [ "$(xd_counter packets_ok template=258)" -gt 0 ]
check "stats: no send error" [ "$(xd_counter send_errors)" = 0 ]
check "stats: records_in = 200000" [ "$(xd_counter records_in)" = 200000 ]
check "exportd still running" kill -0 $XD_PID
kill -TERM $XD_PID
wait $XD_PID
check "exportd exits 0 on SIGTERM" [ $? = 0 ]
finish
