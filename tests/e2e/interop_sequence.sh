#!/usr/bin/env bash
# Interoperability of the export stream: two slots (observation domains 1
# and 2) replay a capture each to the same four collectors (nfcapd and
# nfacctd, v9 and IPFIX; tshark captures it all on loopback).
#   - sequence numbers per (host, domain), read by tshark: v9 counts
#     export packets (+1 a packet, RFC 3954 section 5.1), IPFIX counts the
#     data records sent before the message (RFC 7011 section 3.1); the v9
#     Count is the number of records in the packet;
#   - nfcapd (v9) reports no sequence failure for either domain;
#   - packets and bytes per 5-tuple, summed over both domains, read back
#     from each collector, equal tshark's count of the two captures.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/interop_lib.sh"
il_skip_unless nfcapd nfdump nfacctd tshark
watchdog 120
cd "$ROOT" || exit 1

"$BIN/pcapgen" --flows 400 --packets 4000 --pps 2000 --seed 11 -o $T/a.pcap >/dev/null ||
	fail "pcapgen a"
"$BIN/pcapgen" --flows 300 --packets 3000 --pps 2000 --seed 12 -o $T/b.pcap >/dev/null ||
	fail "pcapgen b"
NF9=$(il_port) PM9=$(il_port) NF10=$(il_port) PM10=$(il_port)
cat >$T/a.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; }; compat = "extended";
             hosts = ( { address = "127.0.0.1"; port = $NF9; },
                       { address = "127.0.0.1"; port = $PM9; },
                       { address = "127.0.0.1"; port = $NF10; version = "ipfix"; },
                       { address = "127.0.0.1"; port = $PM10; version = "ipfix"; } ); };
  apply_record = "five";
  aging = { active_minutes = 30; inactive_seconds = 30; };
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet2/0/0"; file = "$T/b.pcap"; netstream = [ "inbound" ]; } );
CONF
AGG=src_host,dst_host,src_port,dst_port,proto
il_nfcapd nf9 $NF9
il_nfcapd nf10 $NF10
il_nfacctd pm9 $PM9 $AGG "nfacctd_disable_checks: false"
il_nfacctd pm10 $PM10 $AGG "nfacctd_disable_checks: false"
il_tshark wire $NF9 $PM9 $NF10 $PM10
il_wait_ready $NF9 $PM9 $NF10 $PM10
"$NSCTL" run -c $T/a.conf >$T/run.out 2>$T/run.log
check "nsctl run exits 0 (nothing lost)" [ $? -eq 0 ]
sleep 0.5
il_stop nf9 nf10 pm9 pm10 wire
# the IPFIX export, read by a strict reader too
il_ipfixdump "IPFIX to nfcapd" $T/wire.pcapng $NF10
il_ipfixdump "IPFIX to nfacctd" $T/wire.pcapng $PM10

for port in $NF9 $PM9 $NF10 $PM10; do
	il_py packets $T/wire.pcapng $port >$T/packets.$port
	v=$(awk 'NR == 1 {print $1}' $T/packets.$port)
	for dom in 1 2; do
		grep " domain=$dom " $T/packets.$port >$T/seq.$port.$dom
		n=$(wc -l <$T/seq.$port.$dom)
		check "$v to port $port: export packets of domain $dom captured ($n)" [ "$n" -gt 1 ]
		if [ "$v" = v=9 ]; then
			check "$v to port $port, domain $dom: sequence +1 every packet" \
				awk '{ split($3, s, "="); if (NR > 1 && s[2] != prev + 1) bad = 1; prev = s[2] }
					END { exit bad || NR == 0 }' $T/seq.$port.$dom
			check "$v to port $port, domain $dom: Count = records in the packet" \
				awk '{ split($4, c, "="); split($5, d, "="); split($6, t, "=");
					if (c[2] != d[2] + t[2]) bad = 1 } END { exit bad || NR == 0 }' $T/seq.$port.$dom
		else
			check "$v to port $port, domain $dom: sequence = data records before" \
				awk '{ split($3, s, "="); split($5, d, "=");
					if (NR > 1 && s[2] != next_) bad = 1; next_ = s[2] + d[2] }
					END { exit bad || NR == 0 }' $T/seq.$port.$dom
		fi
	done
done

# the collectors' own sequence checks
for dom in 1 2; do
	check "nfcapd v9: exporter domain $dom seen, 0 sequence failures" \
		bash -c "nfdump -E $T/nf9/nfcapd.* 2>&1 | grep -q 'version: 9, ID: *$dom, Sequence failures: 0,'"
done
echo "note: nfcapd IPFIX: $(nfdump -E $T/nf10/nfcapd.* 2>&1 | grep -o 'ID: *[0-9]*, Sequence failures: [0-9]*' | tr '\n' ';') (nfdump 1.7.1 counts only flow records, RFC 7011 all data records)"
# nfacctd's own sequence check (nfacctd_disable_checks: false) only logs;
# what it logged is shown, the RFC checks above are the tshark ones
for pm in pm9 pm10; do
	echo "note: nfacctd $pm log: $(grep -v -e "'--" -e 'Purging' -e 'p/print' $T/$pm.log | grep -iE 'expect|sequence|malformed' | sort | uniq -c | tr '\n' ';')"
done

# counts, both domains together, against tshark's reading of the captures
{ tshark_flows $T/a.pcap; tshark_flows $T/b.pcap; } | sort >$T/want
check "tshark sees 700 flows" [ "$(wc -l <$T/want)" -eq 700 ]
nfdump_flows $T/nf9 >$T/nfdump.v9
nfdump_flows $T/nf10 >$T/nfdump.ipfix
for v in v9 ipfix; do
	check "nfdump $v: packets and bytes per 5-tuple equal tshark's" same $T/want $T/nfdump.$v
	pm=pm$([ $v = v9 ] && echo 9 || echo 10)
	il_py nfacctd $T/$pm.json | awk '{
		split($1, k, "="); split(k[2], f, "/")
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print f[1], f[2], f[3], f[4], f[5], v["packets"], v["bytes"] }' | sort >$T/nfacctd.$v
	check "nfacctd $v: packets and bytes per 5-tuple equal tshark's ($(wc -l <$T/nfacctd.$v) flows)" \
		same $T/want $T/nfacctd.$v
done
finish
