#!/bin/sh
# Decodes the v9 packet and the IPFIX message that test_ipfix writes with
# tshark, as a collector would, and fails on anything malformed or missing.
# `make test` runs it (tests/e2e/wire_unit_packets.sh) after `make unit`;
# by hand: tests/unit/tshark_check.sh [BUILD_DIR]
set -eu
B=${1:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
NS_XPKT_PCAP="$dir/xpkt.pcap" "$B/tests/test_ipfix" >"$dir/test.log" 2>&1 ||
	{ cat "$dir/test.log"; exit 1; }
tshark -r "$dir/xpkt.pcap" -d udp.port==2055,cflow -d udp.port==4739,cflow \
	-V >"$dir/decode.txt" 2>&1

fail=0
check() { # check WHAT PATTERN [COUNT]: PATTERN occurs COUNT times (default 1+)
	n=$(grep -c -- "$2" "$dir/decode.txt" || true)
	if { [ -n "${3:-}" ] && [ "$n" -eq "$3" ]; } ||
		{ [ -z "${3:-}" ] && [ "$n" -ge 1 ]; }; then
		echo "tshark: ok   $1 ($n)"
	else
		echo "tshark: FAIL $1: '$2' found $n times, want ${3:-1 or more}"
		fail=1
	fi
}
absent() {
	if grep -qiE -- "$2" "$dir/decode.txt"; then
		echo "tshark: FAIL $1:"
		grep -iE -- "$2" "$dir/decode.txt" | sed 's/^/    /'
		fail=1
	else
		echo "tshark: ok   $1"
	fi
}

absent "nothing malformed" "malformed|exception|dissector bug"
absent "no expert warnings" "\[expert info .*(warn|error)"
check "v9 header" "Version: 9"
check "v9 header Count 5" "^    Count: 5$"
check "IPFIX header" "Version: 10"
check "IPFIX header Length 210 (its options template set unpadded)" "^    Length: 210$"
check "template flowsets (0, 2)" "FlowSet Id: Data Template" 2
check "options template flowsets (1, 3)" "FlowSet Id: Options Template" 2
check "data flowsets of template 256" "FlowSet Id: (Data) (256)" 2
check "options data flowsets of template 257" "FlowSet Id: (Data) (257)" 2
check "flow records decoded" "SrcAddr: 2001:db8::1" 4
check "destination of flow 2" "DstAddr: 2001:db8::3" 2
check "flow packets" "Packets: 11" 2
check "flow bytes" "Octets: 2000" 2
check "sampler records decoded" "SamplerRandomInterval: 1000" 2
check "v9 interface scope" "Scope Type: Interface"
if [ $fail -ne 0 ]; then
	sed 's/^/    /' "$dir/decode.txt"
fi
exit $fail
