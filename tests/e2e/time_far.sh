#!/usr/bin/env bash
# Captures far from now, each through `nsctl run` to nfcapd (v9) and to
# tshark capturing the export (v9 and IPFIX) on loopback: every run ends,
# exits 0, every packet is counted, and every flow time is exported to the
# ms as tshark reads the input capture, where the format can carry it
# (DESIGN.md, Time). The cases:
#   epoch     the first packet at 1970-01-01 00:00:00.000 (boot time 0)
#   cross31   packets on both sides of 2^31 s (2038-01-19 03:14:08)
#   y2096     4.0e9 s
#   end32     the last packet at 2^32-1 s (2106-02-07 06:28:15), the end
#             of what v9's 32-bit seconds carry
#   past32    a pcapng past 2^32 s (editcap moves the times there): IPFIX
#             carries them to the ms; v9 gets 2^32-1 s, clamped and
#             counted (times_clamped)
#   back31    a capture whose clock steps back by 2^31 s mid-file
#   gap31     ... and one with a gap of 2^31 s
#   v4only    a capture in 2039 with no IPv6 packet at all
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/interop_lib.sh"
il_skip_unless nfcapd nfdump tshark editcap mergecap
watchdog 400
cd "$ROOT" || exit 1
: >$T/routes.txt

# spec NAME T0 [T1]: four flows (two TCP, two UDP) over ~1.5 s from T0, and
# when T1 is given four more (other ports) from T1
spec() {
	local t0=$1 t1=${2:-} p
	for p in 0 1; do
		awk -v t="$t0" -v o="$p" 'BEGIN {
			for (i = 0; i < 6; i++) {
				ts = t + i * 0.25 + o * 0.013
				printf "t=%.3f src=2001:db8::%d dst=2001:db8:1::%d proto=tcp sport=%d dport=80 flags=A len=%d\n", ts, o + 1, o + 1, 1000 + o, 100 + i
				printf "t=%.3f src=2001:db8::%d dst=2001:db8:1::%d proto=udp sport=%d dport=53 len=%d\n", ts + 0.101, o + 1, o + 1, 2000 + o, 80 + i
			}
		}'
	done
	[ -n "$t1" ] || return 0
	for p in 0 1; do
		awk -v t="$t1" -v o="$p" 'BEGIN {
			for (i = 0; i < 5; i++) {
				ts = t + i * 0.2 + o * 0.017
				printf "t=%.3f src=2001:db8::%d dst=2001:db8:1::%d proto=tcp sport=%d dport=443 flags=A len=%d\n", ts, o + 5, o + 5, 3000 + o, 200 + i
				printf "t=%.3f src=2001:db8::%d dst=2001:db8:1::%d proto=udp sport=%d dport=123 len=%d\n", ts + 0.051, o + 5, o + 5, 4000 + o, 90 + i
			}
		}'
	done
}

# run_case NAME CAPTURE [v9-clamped]: the run, then the checks
# conf NAME CAPTURE V9PORT IPFIXPORT
conf() {
	cat >$T/$1.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; }; compat = "extended";
             hosts = ( { address = "127.0.0.1"; port = $3; },
                       { address = "127.0.0.1"; port = $4; version = "ipfix"; } ); };
  apply_record = "five";
  aging = { active_minutes = 10; inactive_seconds = 30; };
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$2";
                 netstream = [ "inbound" ]; } );
CONF
}

run_case() {
	local name=$1 cap=$2 clamped=${3:-} v9 ip rc
	v9=$(il_port) ip=$(il_port)
	conf "$name" "$cap" "$v9" "$ip"
	il_nfcapd "nf9_$name" "$v9"
	il_nfcapd "nf10_$name" "$ip"
	il_tshark "ts_$name" "$v9" "$ip"
	il_wait_ready "$v9" "$ip"
	NETSTREAMD_RUN_DIR=$T/run_$name timeout -k 5 60 "$NSCTL" run \
		-c $T/$name.conf >$T/$name.out 2>$T/$name.log
	rc=$?
	check "$name: nsctl run ends, exit 0 ($rc)" [ "$rc" -eq 0 ]
	check "$name: every flow was exported" grep -q 'every flow was exported' $T/$name.out
	sleep 0.5
	il_stop "nf9_$name" "nf10_$name" "ts_$name"
	il_py expect "$cap" $T/routes.txt 0 0 >$T/$name.want
	il_py nfdump $T/nf9_$name >$T/$name.nfdump9
	il_py nfdump $T/nf10_$name >$T/$name.nfdump10
	il_py tshark $T/ts_$name.pcapng "$v9" >$T/$name.v9
	il_py tshark $T/ts_$name.pcapng "$ip" >$T/$name.ipfix
	check "$name: tshark reads flows in the capture" [ -s $T/$name.want ]
	il_fields "$name ipfix (tshark)" $T/$name.want $T/$name.ipfix packets bytes first last
	il_fields "$name ipfix (nfdump)" $T/$name.want $T/$name.nfdump10 packets bytes first last
	if [ -z "$clamped" ]; then
		il_fields "$name v9 (nfdump)" $T/$name.want $T/$name.nfdump9 packets bytes first last
		il_fields "$name v9 (tshark)" $T/$name.want $T/$name.v9 packets bytes first last
		check "$name: no time clamped" grep -q 'times clamped 0$' $T/$name.out
	else
		il_fields "$name v9 (nfdump)" $T/$name.want $T/$name.nfdump9 packets bytes
		il_fields "$name v9 (tshark)" $T/$name.want $T/$name.v9 packets bytes
		# the last second v9 carries: 2^32-1 s, for every flow time
		check "$name: v9 times are 2^32-1 s, clamped" \
			awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^(first|last)=/ && $i !~ /=4294967295[0-9][0-9][0-9]$/) n++ } END { exit n != 0 || NR == 0 }' $T/$name.v9
		check "$name: clamped times are counted" \
			grep -Eq 'times clamped [1-9][0-9]*$' $T/$name.out
	fi
}

# gen NAME T0 [T1]: the capture of spec, its packets in time order
gen() {
	spec "$2" ${3:-} | sort -t= -k2,2g >$T/$1.spec
	"$BIN/pcapgen" -s $T/$1.spec -o $T/$1.pcap >/dev/null || fail "pcapgen $1"
}
gen epoch 0
gen cross31 2147483647
gen y2096 4000000000
gen end32 4294967294
gen gap31 1000000000 $((1000000000 + 2147483648))
# a step back: two captures one after the other (mergecap -a keeps their
# order), the second 2^31 s before the first
gen back_a 3000000000
spec 0 $((3000000000 - 2147483648)) | grep -E 'dport=(443|123) ' |
	sort -t= -k2,2g >$T/back_b.spec
"$BIN/pcapgen" -s $T/back_b.spec -o $T/back_b.pcap >/dev/null || fail "pcapgen back_b"
mergecap -F pcap -a -w $T/back31.pcap $T/back_a.pcap $T/back_b.pcap || fail "mergecap"
printf 't=2200000000 v4=1 proto=udp repeat=50 gap=0.01\n' >$T/v4only.spec
"$BIN/pcapgen" -s $T/v4only.spec -o $T/v4only.pcap >/dev/null || fail "pcapgen v4only"
gen past 4294967000
editcap -F pcapng -t 1000000 $T/past.pcap $T/past32.pcapng >/dev/null 2>&1 ||
	fail "editcap past32"

# the captures are what their names say (tshark's reading)
first() { tshark -r "$1" -T fields -e frame.time_epoch 2>/dev/null | head -1 | cut -d. -f1; }
check "epoch starts at 0 s" [ "$(first $T/epoch.pcap)" = 0 ]
check "cross31 crosses 2^31 s" [ "$(tshark -r $T/cross31.pcap -T fields -e frame.time_epoch 2>/dev/null | tail -1 | cut -d. -f1)" -ge 2147483648 ]
check "end32 ends at 2^32-1 s" [ "$(tshark -r $T/end32.pcap -T fields -e frame.time_epoch 2>/dev/null | tail -1 | cut -d. -f1)" = 4294967295 ]
check "back31 steps back by 2^31 s" [ "$(tshark -r $T/back31.pcap -T fields -e frame.time_epoch 2>/dev/null | tail -1 | cut -d. -f1)" -lt 900000000 ]
check "past32 is past 2^32 s" [ "$(first $T/past32.pcapng)" -gt 4294967296 ]

for c in ${CASES:-epoch cross31 y2096 end32 back31 gap31 past32}; do
	case $c in
	past32) run_case past32 $T/past32.pcapng clamped ;;
	*) run_case $c $T/$c.pcap ;;
	esac
	[ $c = back31 ] && check "back31: the capture's step is logged" \
		grep -q "capture's clock steps back by 2147483" $T/back31.log
done

# no IPv6 at all: the run ends at once, its 50 packets counted
conf v4only $T/v4only.pcap "$(il_port)" "$(il_port)"
NETSTREAMD_RUN_DIR=$T/run_v4 timeout -k 5 60 "$NSCTL" run -c $T/v4only.conf \
	>$T/v4only.out 2>$T/v4only.log
rc=$?
check "v4only: nsctl run ends, exit 0 ($rc)" [ "$rc" -eq 0 ]
check "v4only: 50 packets counted, none IPv6" \
	grep -Eq '^  sampled  1 +50 +0 ' $T/v4only.out
finish
