#!/usr/bin/env bash
# What was validated is what runs (issue 13, item 5): the plan carries the
# SHA-256 of the routes file cfgd validated, and a sampled that starts
# after the file changed refuses it, says so (log, stats routes_refused)
# and counts every flow exported without its route fields
# (records_no_routes), instead of exporting the new, unvalidated table,
# or (the file now invalid) 0 for every mask and AS with no counter.
# The expected values are the routes file's own lines; the digest in the
# plan is checked against sha256sum.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 240
P=$((20000 + RANDOM % 10000))
"$BIN/pcapgen" --flows 40 --packets 400 --pps 1000 --seed 7 -o $T/a.pcap \
	>/dev/null || fail "pcapgen"
# pcapgen's flows go from 2001:db8::/32 to 2001:db8:ffff::/48
cat >$T/routes.good <<'ROUTES'
2001:db8::/32          fe80::2     -                  65001  64501
2001:db8:ffff::/48     fe80::1     2001:db8:ffff::1   65002  64501
ROUTES
# the same prefixes, other ASes: valid, but not what was validated
sed -e 's/65001/65009/' -e 's/65002/65008/' $T/routes.good >$T/routes.other
printf '2001:db8::/32 not-an-address\n' >$T/routes.bad
cp $T/routes.good $T/routes.txt
cat >$T/a.conf <<CONF
system = {
  export = { as = "origin";
             hosts = ( { address = "127.0.0.1"; port = $P; } ); };
  apply_record = "r";
};
records = ( { name = "r";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "source-mask", "destination-mask" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap";
                 netstream = [ "inbound" ]; } );
routes = { file = "$T/routes.txt"; };
CONF

# sd_stats: sampled's latest stats, "name value" per line
sd_stats() {
	timeout 5 "$NSCTL" stats --json -n 4 2>/dev/null |
		grep '"process":"sampled"' | tail -1 | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    for c in json.loads(line)["counters"]:
        if len(c) == 2:
            print(c["name"], c["value"])
'
}
stat() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# replay ROUTES NAME: the routes file becomes ROUTES after the commit,
# then exportd and sampled start on the committed plan; prints the
# exported "source-as destination-as source-mask destination-mask" lines
replay() {
	cp "$1" $T/routes.txt
	rm -rf $T/run/exportd.state
	"$NSCTL" collect -p $P -b 127.0.0.1 -t 60 >$T/$2.collect \
		2>>$T/collect.log &
	local col=$! xd sd
	PIDS="$PIDS $col"
	# exportd must not send before the collector listens: a packet to a
	# closed port is lost (and the round reads 0 flows on a loaded host)
	wait_for "ss -Huln 'sport = :$P' | grep -q ." ||
		fail "$2: the collector did not start"
	"$BIN/exportd" 2>>$T/$2.log &
	xd=$!
	"$BIN/sampled" --slot 1 2>>$T/$2.log &
	sd=$!
	PIDS="$PIDS $xd $sd"
	wait_for "sd_stats >$T/$2.stats; [ \"\$(stat captures_done $T/$2.stats)\" = 1 ] && [ \"\$(stat batches_unacked $T/$2.stats)\" = 0 ]" 100 ||
		fail "$2: the replay did not end"
	sleep 0.5
	sd_stats >$T/$2.stats
	kill $sd $xd
	wait $sd $xd 2>/dev/null
	kill $col
	wait $col 2>/dev/null
	grep '^data ' $T/$2.collect | sed -n 's/.*source-mask=\([0-9]*\).*destination-mask=\([0-9]*\).*source-as=\([0-9]*\).*destination-as=\([0-9]*\).*/\3 \4 \1 \2/p' |
		sort | uniq -c | awk '{ print $2, $3, $4, $5, $1 }'
}

start_cfgd
"$NSCTL" commit -c $T/a.conf >$T/commit.out 2>&1 || fail "commit"
# the digest in the plan is the file's SHA-256 (as sha256sum says)
want=$(sha256sum $T/routes.good | cut -d' ' -f1)

# 1. the file as validated: every flow has its routes
replay $T/routes.good good >$T/good.got
n_good=$(grep -c '^data ' $T/good.collect)
check "validated file: $n_good flows, all with AS 65001 -> 65002, masks 32 and 48" \
	[ "$(cat $T/good.got)" = "65001 65002 32 48 $n_good" ]
check "validated file: nothing refused" \
	[ "$(stat routes_refused $T/good.stats)" = 0 ] && [ "$(stat records_no_routes $T/good.stats)" = 0 ]
check "40 flows exported" [ "$n_good" -eq 40 ]

# 2. the file changed after the commit (valid, other ASes): refused
replay $T/routes.other other >$T/other.got
n=$(grep -c '^data ' $T/other.collect)
not_in() { ! grep -q "$1" "$2"; }
check "changed file: none of its ASes (65009, 65008) is exported" \
	not_in '6500[89]' $T/other.got
check "changed file: the flows carry 0 for masks and AS" \
	[ "$(cat $T/other.got)" = "0 0 0 0 $n" ]
check "changed file: sampled says the file changed since it was validated" \
	grep -q "routes file $T/routes.txt changed since it was validated (sha256 $(sha256sum $T/routes.other | cut -d' ' -f1), validated $want): not used" $T/other.log
check "changed file: routes_refused is 1" [ "$(stat routes_refused $T/other.stats)" = 1 ]
check "changed file: records_no_routes counts every exported flow ($n)" \
	[ "$(stat records_no_routes $T/other.stats)" = "$n" ] && [ "$n" -eq 40 ]

# 3. the file is now invalid: refused the same way, and counted
replay $T/routes.bad bad >$T/bad.got
n=$(grep -c '^data ' $T/bad.collect)
check "invalid file: routes_refused is 1, records_no_routes is $n" \
	[ "$(stat routes_refused $T/bad.stats)" = 1 ] && [ "$(stat records_no_routes $T/bad.stats)" = "$n" ] && [ "$n" -eq 40 ]
check "invalid file: sampled names the error" \
	grep -q "routes file $T/routes.txt .*routes.txt:1: bad IPv6 next hop: not used" $T/bad.log

# 4. a commit validates the changed file: its ASes run
cp $T/routes.other $T/routes.txt
"$NSCTL" commit -c $T/a.conf >>$T/commit.out 2>&1 || fail "second commit"
replay $T/routes.other recommit >$T/recommit.got
n=$(grep -c '^data ' $T/recommit.collect)
check "committed again: the new ASes 65009 -> 65008 run, nothing refused" \
	[ "$(cat $T/recommit.got)" = "65009 65008 32 48 $n" ] && [ "$(stat routes_refused $T/recommit.stats)" = 0 ]
stop_cfgd
check "validated file: sampled runs it under sha256sum's digest" \
	grep -q "routes file $T/routes.txt: 2 routes, sha256 $want, as validated" $T/good.log
finish
