#!/usr/bin/env bash
# A batch exportd refuses is answered all the same, with the reason (a
# negative acknowledgement, issue 21): flowgen's batches with a template
# ID under 256 (batch_check refuses them: template-id) are acknowledged
# at once instead of held until flowgen's 60 s drain gives up; flowgen
# says what was refused and why and exits 1 (a sender whose every batch
# is refused: the hardest case, it never becomes the slot's sender; one
# refused in the middle of a run is tests/unit/test_ack's). exportd's
# bad_batches count them, nothing of them reaches nfcapd, and a good
# sender after them is exported in full.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/exportd_lib.sh"
watchdog 120
cd "$ROOT" || exit 1

P=$(free_port)
start_cfgd
start_exportd
start_nfcapd $P "$T/nf"

# every batch refused: a sender never heard of before
start=$(date +%s)
timeout 60 "$FLOWGEN" -n 5000 -b 500 --slot 1 --template 5 -H 127.0.0.1:$P \
	>$T/g1.out 2>$T/g1.err
rc=$?
secs=$(($(date +%s) - start))
check "flowgen: every batch refused, exit 1 ($rc)" [ "$rc" -eq 1 ]
check "... answered at once, not after its drain's 60 s ($secs s)" [ "$secs" -le 10 ]
check "flowgen says what was refused and why" \
	grep -q 'exportd refused 10 batches (5000 records): template-id' $T/g1.err
check "nothing stayed unacknowledged" bash -c "! grep -q 'did not acknowledge' $T/g1.err"

# a good run on another slot, then one with refused batches in between
G2=$(timeout 60 "$FLOWGEN" -n 3000 -b 500 --slot 2 -H 127.0.0.1:$P 2>$T/g2.err)
check "flowgen slot 2: exit 0" [ $? -eq 0 ]
check "bad_batches{template-id} counts the 10" \
	wait_for '[ "$(xd_counter bad_batches reason=template-id)" = 10 ]' 50
sleep 1
stop_nfcapd $P
check "nfcapd got the 3000 good records and nothing of the refused" \
	[ "$(nf_stat "$T/nf" Flows)" = 3000 ]
finish
