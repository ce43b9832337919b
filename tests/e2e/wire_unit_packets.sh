#!/usr/bin/env bash
# The v9 packet and IPFIX message the unit test test_ipfix writes, decoded
# by tshark (tests/unit/tshark_check.sh): nothing malformed, the header
# Count and Length, the sets and the records a collector must find. Needs
# the unit binaries (`make test` builds them first).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
if [ ! -x "$B/tests/test_ipfix" ]; then
	fail "$B/tests/test_ipfix is not built (make unit)"
	finish
fi
sh tests/unit/tshark_check.sh "$B" >$T/check.out 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"tshark: ok   "*) ok "${line#tshark: ok   }" ;;
	"tshark: FAIL "*) fail "${line#tshark: FAIL }" ;;
	*) echo "$line" ;;
	esac
done <$T/check.out
check "tests/unit/tshark_check.sh exits 0" [ $rc -eq 0 ]
check "tests/unit/tshark_check.sh ran its checks" [ "$(grep -c '^tshark: ok' $T/check.out)" -ge 16 ]
finish
