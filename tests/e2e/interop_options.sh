#!/usr/bin/env bash
# Interoperability of the options records (DESIGN.md): the sampler of each
# interface direction and the interface names, in v9 and in IPFIX, read by
# tshark, pmacct's nfacctd 1.7 and nfcapd/nfdump 1.7. One live device
# samples its inbound traffic 1-in-2 and its outbound 1-in-4 (the same
# interface, so the same scope: only the sampler id in each data record
# tells them apart: the record has no direction field, as users' records
# often have not); its veth peer samples inbound by time (fix-time
# 100 ms), which is no packet interval. Everything runs in a network
# namespace of its own; tcpreplay puts generated captures on the wire.
# Checked, per protocol:
#   - every options template set holds one template (pmacct 1.7 discards
#     the rest of a packet after a set of two; nfdump reads the first);
#   - tshark: a sampler record per sampled direction, scope the ifindex,
#     deterministic, interval 2 and 4 as configured, distinct ids; none
#     gives the fix-time sampler a packet interval; every data record
#     carries the id of its direction's sampler (48); one name record per
#     interface with the configured name;
#   - nfacctd: sampling_rate 2 for the inbound flows, 4 for the outbound
#     ones, 0 (unknown, so not scaled) for the fix-time ones.
# What nfdump shows of the samplers is written in docs/interop.md.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/interop_lib.sh"
il_skip_unless nfcapd nfdump nfacctd tshark tcpreplay ip
cd "$ROOT" || exit 1
NS=ns-$$-iopt
CAP=nsi$$c # IFNAMSIZ: at most 15 characters
PEER=nsi$$p
ns() { ip netns exec "$NS" "$@"; }
ns_cleanup() {
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	il_cleanup
	ip netns del "$NS" 2>/dev/null
}
trap ns_cleanup EXIT
watchdog 90

ip netns add "$NS" || { fail "ip netns add"; finish; }
IL_EXEC="ip netns exec $NS"
ns ip link set lo up
ns ip link add "$CAP" type veth peer name "$PEER" || { fail "veth pair"; finish; }
ns ip link set "$CAP" up
ns ip link set "$PEER" up
IFX_CAP=$(ns cat /sys/class/net/$CAP/ifindex)
IFX_PEER=$(ns cat /sys/class/net/$PEER/ifindex)

# a.pcap goes into the peer, so it arrives on $CAP (inbound); b.pcap
# leaves from $CAP (outbound) and arrives on $PEER (inbound, by time)
"$BIN/pcapgen" --flows 40 --packets 2000 --pps 1000 --seed 1 --snaplen 1514 \
	-o $T/a.pcap >/dev/null || fail "pcapgen a"
"$BIN/pcapgen" --flows 30 --packets 1500 --pps 1000 --seed 2 --snaplen 1514 \
	-o $T/b.pcap >/dev/null || fail "pcapgen b"

NF9=$(il_port) PM9=$(il_port) NF10=$(il_port) PM10=$(il_port)
cat >$T/a.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; }; compat = "extended";
             hosts = ( { address = "127.0.0.1"; port = $NF9; },
                       { address = "127.0.0.1"; port = $PM9; },
                       { address = "127.0.0.1"; port = $NF10; version = "ipfix"; },
                       { address = "127.0.0.1"; port = $PM10; version = "ipfix"; } ); };
  apply_record = "r";
  aging = { active_minutes = 30; inactive_seconds = 30; };
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "input-interface", "output-interface" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "$CAP"; buffer_kb = 16384;
    netstream = [ "inbound", "outbound" ];
    sampler = { inbound = { mode = "fix-packets"; value = 2; };
                outbound = { mode = "fix-packets"; value = 4; }; }; },
  { name = "GigabitEthernet1/0/1"; device = "$PEER"; buffer_kb = 16384;
    netstream = [ "inbound" ];
    sampler = { inbound = { mode = "fix-time"; value = 100; }; }; } );
CONF

AGG=src_host,dst_host,src_port,dst_port,proto,in_iface,out_iface,sampling_rate,sampling_direction
il_nfcapd nf9 $NF9
il_nfcapd nf10 $NF10
il_nfacctd pm9 $PM9 $AGG
il_nfacctd pm10 $PM10 $AGG
il_tshark wire $NF9 $PM9 $NF10 $PM10
il_wait_ready $NF9 $PM9 $NF10 $PM10

ip netns exec "$NS" "$NSCTL" up -c $T/a.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: running generation 1: 3 bindings, 2 captures' $T/up.log" 100 ||
	fail "sampled did not open its 2 live captures (one per device)"
sleep 0.5
ns tcpreplay -q --pps 2000 -i "$PEER" $T/a.pcap >$T/replay_a.log 2>&1 ||
	fail "tcpreplay a.pcap into $PEER"
ns tcpreplay -q --pps 2000 -i "$CAP" $T/b.pcap >$T/replay_b.log 2>&1 ||
	fail "tcpreplay b.pcap out of $CAP"
sleep 0.5
kill -TERM $UP
wait $UP
rc=$?
check "nsctl up stops cleanly (exit $rc)" [ $rc -eq 0 ]
sleep 0.5
il_stop nf9 nf10 pm9 pm10 wire
# the IPFIX export, read by a strict reader too
il_ipfixdump "IPFIX to nfcapd" $T/wire.pcapng $NF10
il_ipfixdump "IPFIX to nfacctd" $T/wire.pcapng $PM10

# Which flows are whose: a.pcap's sources are 2001:db8:1::/48, b.pcap's
# 2001:db8:2::/48 (pcapgen --seed); the kernel's own packets are not.
for v in v9 ipfix; do
	case $v in v9) nf=$NF9 pm=$PM9 ;; ipfix) nf=$NF10 pm=$PM10 ;; esac
	il_py packets $T/wire.pcapng $nf >$T/packets.$v
	il_py options $T/wire.pcapng $nf | sort -u >$T/options.$v
	il_py tshark $T/wire.pcapng $nf >$T/tshark.$v
	check "$v: export packets captured" [ -s $T/packets.$v ]
	check "$v: every options template set holds one template" \
		awk '$7 != "opt_per_set=0" && $7 != "opt_per_set=1" {bad = 1} END {exit bad || NR == 0}' $T/packets.$v

	# the samplers, as tshark reads the options records
	sid() { # sid DIRECTION INTERVAL: the id of that sampler of $CAP
		awk -v s="scope=$IFX_CAP" -v d="direction=$1" -v i="interval=$2" '
			$1 == "sampler" && $2 == s {
				ok = 0; id = ""
				for (k = 3; k <= NF; k++) { if ($k == d || $k == i) ok++; if ($k ~ /^id=/) id = substr($k, 4) }
				if (ok == 2) print id
			}' $T/options.$v | sort -u
	}
	IN_ID=$(sid 0 2) OUT_ID=$(sid 1 4)
	check "$v tshark: one inbound sampler of $CAP, 1-in-2 (id '$IN_ID')" \
		[ -n "$IN_ID" -a "$(echo "$IN_ID" | wc -l)" -eq 1 ]
	check "$v tshark: one outbound sampler of $CAP, 1-in-4 (id '$OUT_ID')" \
		[ -n "$OUT_ID" -a "$(echo "$OUT_ID" | wc -l)" -eq 1 ]
	check "$v tshark: the two samplers of $CAP have distinct ids" \
		[ -n "$IN_ID" -a "$IN_ID" != "$OUT_ID" ]
	check "$v tshark: the packet samplers are deterministic (mode 1), if a mode is given" \
		bash -c "grep -q '^sampler scope=$IFX_CAP ' $T/options.$v &&
			! grep '^sampler scope=$IFX_CAP ' $T/options.$v | grep 'mode=' | grep -qv 'mode=1\\b'"
	check "$v tshark: no sampler record gives the fix-time sampler a packet interval" \
		bash -c "grep -q '^sampler ' $T/options.$v &&
			! grep '^sampler scope=$IFX_PEER ' $T/options.$v | grep -q ' interval='"
	check "$v tshark: interface names as configured" \
		grep -qx "ifname scope=$IFX_CAP name=GigabitEthernet1/0/0" $T/options.$v
	check "$v tshark: interface names as configured ($PEER)" \
		grep -qx "ifname scope=$IFX_PEER name=GigabitEthernet1/0/1" $T/options.$v
	# data records: the sampler id of their direction
	n_in=$(grep -c "^key=2001:db8:1:.* input-interface=$IFX_CAP " $T/tshark.$v)
	n_out=$(grep -c "^key=2001:db8:2:.* output-interface=$IFX_CAP\b" $T/tshark.$v)
	check "$v tshark: flows of $CAP both ways ($n_in in, $n_out out)" [ "$n_in" -gt 0 -a "$n_out" -gt 0 ]
	check "$v tshark: every inbound data record of $CAP carries sampler id $IN_ID" \
		bash -c "[ -n '$IN_ID' ] && ! grep '^key=2001:db8:1:.* input-interface=$IFX_CAP ' $T/tshark.$v | grep -qv ' sampler-id=$IN_ID\\b'"
	check "$v tshark: every outbound data record of $CAP carries sampler id $OUT_ID" \
		bash -c "[ -n '$OUT_ID' ] && ! grep '^key=2001:db8:2:.* output-interface=$IFX_CAP\\b' $T/tshark.$v | grep -qv ' sampler-id=$OUT_ID\\b'"

	# nfacctd: the rate it applies to each flow
	il_py nfacctd $T/pm$([ $v = v9 ] && echo 9 || echo 10).json >$T/nfacctd.$v
	rates() { # rates SOURCE-PREFIX IFACE-FIELD IFINDEX: the distinct rates
		grep "^key=$1" $T/nfacctd.$v | grep " $2=$3\\b" |
			grep -o 'sampling-rate=[0-9]*' | sort -u | tr '\n' ' '
	}
	r=$(rates 2001:db8:1: input-interface $IFX_CAP)
	check "$v nfacctd: inbound flows of $CAP at sampling_rate 2 (got: ${r:-no flow})" \
		[ "$r" = "sampling-rate=2 " ]
	r=$(rates 2001:db8:2: output-interface $IFX_CAP)
	check "$v nfacctd: outbound flows of $CAP at sampling_rate 4 (got: ${r:-no flow})" \
		[ "$r" = "sampling-rate=4 " ]
	r=$(rates 2001:db8:2: input-interface $IFX_PEER)
	check "$v nfacctd: fix-time flows of $PEER at sampling_rate 0, unknown (got: ${r:-no flow})" \
		[ "$r" = "sampling-rate=0 " ]
done
# IPFIX: RFC 5477 selector reports (RFC 7270: not 48-50), which every
# collector scales by: systematic count-based (304 = 1) for fix-packets,
# systematic time-based (2) with no packet interval for fix-time
check "ipfix: the fix-packets selectors are systematic count-based (304 = 1)" \
	bash -c "[ \$(grep -c '^sampler scope=$IFX_CAP .*algorithm=1 ' $T/options.ipfix) -ge 2 ]"
check "ipfix: the fix-time selector is systematic time-based (304 = 2), 100 ms" \
	grep -Eq "^sampler scope=$IFX_PEER .*algorithm=2 .*time_interval=1 time_space=99999\b" $T/options.ipfix
check "ipfix: no selector report carries v9's 48-50" \
	bash -c "! tshark -r $T/wire.pcapng -d udp.port==$NF10,cflow -Y 'udp.dstport == $NF10 && (cflow.sampler_mode || cflow.sampler_random_interval)' 2>/dev/null | grep -q ."
# nfdump 1.7.1 scales IPFIX flows by the selector reports: per flow, its
# packets are those tshark reads in the export times the configured rate.
# It keeps one sampler of a domain (the first it reads: the inbound one
# here), so only that one's flows are checked (docs/interop.md)
il_py nfdump $T/nf10 >$T/nfdump.ipfix
/usr/bin/python3 - $T/tshark.ipfix $T/nfdump.ipfix $IFX_CAP $IFX_PEER >$T/scaled.txt <<'PY'
import sys
def table(path):
    t = {}
    for line in open(path):
        w = dict(x.split("=", 1) for x in line.split())
        t.setdefault(w["key"], []).append(w)
    return t
raw, nf = table(sys.argv[1]), table(sys.argv[2])
cap, peer = sys.argv[3], sys.argv[4]
bad = n = 0
for k, recs in raw.items():
    r = recs[0]
    if r.get("input-interface") == cap and k.startswith("2001:db8:1:"): rate = 2
    else: continue
    want = sum(int(x["packets"]) for x in recs) * rate
    got = sum(int(x["packets"]) for x in nf.get(k, []))
    n += 1
    if want != got:
        bad += 1
        if bad < 5: print("  %s: want %d (rate %d), got %d" % (k, want, rate, got))
print("flows %d bad %d" % (n, bad))
PY
check "nfdump (IPFIX): every inbound flow of $CAP scaled by its sampler, 1 in 2 ($(tail -1 $T/scaled.txt))" \
	grep -Eq '^flows [1-9][0-9]* bad 0$' $T/scaled.txt
# nfdump: what it makes of the samplers, for docs/interop.md (v9: nfdump
# 1.7.1 reads no 48/49/50 record; that is nfdump's)
for d in nf9 nf10; do
	echo "note: nfdump -E of $d: $(nfdump -E $T/$d/nfcapd.* 2>&1 | grep -iE 'sampl|sequence' | tr '\n' ';')"
	echo "note: nfdump $d flows 'sampled' values: $(nfdump -q -N -R $T/$d -o json 2>/dev/null | grep -o '"sampled" : [0-9]*' | sort | uniq -c | tr '\n' ';')"
done
kill $WATCHDOG 2>/dev/null
finish
