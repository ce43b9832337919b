#!/usr/bin/env bash
# An interface file that is not a regular file (a FIFO) is refused by
# validation with file:line, and sampled, given one anyway (the file was
# replaced by a FIFO after the commit), does not block opening it: it
# reports the capture as failed and goes on (here: ends, --exit-at-eof).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
"$BIN/pcapgen" --flows 5 --packets 50 --seed 1 -o $T/a.pcap >/dev/null ||
	fail "pcapgen"
mkfifo $T/cap.fifo || fail "mkfifo"
conf() { # conf FILE: a config capturing FILE
	cat <<CONF
system = { apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address" ];
              collect = [ "packets" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0";
                 file = "$1";
                 netstream = [ "inbound" ]; } );
CONF
}
conf $T/cap.fifo >$T/fifo.conf
line=$(grep -n 'file = ' $T/fifo.conf | cut -d: -f1)
timeout 20 "$NSCTL" validate -c $T/fifo.conf >$T/validate.out 2>&1
rc=$?
check "validate refuses a FIFO (exit 1)" [ $rc -eq 1 ]
check "... naming fifo.conf:$line and why" \
	grep -q "fifo.conf:$line: .*cap.fifo is not a regular file" $T/validate.out

# committed as a regular file, then replaced by a FIFO
start_cfgd
conf $T/a.pcap >$T/a.conf
"$NSCTL" commit -c $T/a.conf >/dev/null || fail "commit"
rm -f $T/a.pcap && mkfifo $T/a.pcap || fail "mkfifo a.pcap"
timeout 30 "$BIN/sampled" --slot 1 --exit-at-eof --no-export \
	2>$T/sampled.log
rc=$?
check "sampled did not block on the FIFO (exit 0, not the timeout's 124)" \
	[ $rc -eq 0 ]
check "sampled says the capture is not a regular file" \
	grep -q "a.pcap.*not a regular file" $T/sampled.log
finish
