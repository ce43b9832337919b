#!/usr/bin/env bash
# Per-interface counters (nsctl display interface, nsctl stats) and
# nsctl reset statistics, under nsctl up. Slot 1 replays a.pcap inbound
# on GigabitEthernet1/0/0 and b.pcap outbound on GigabitEthernet1/0/1;
# slot 2 replays c.pcap on GigabitEthernet2/0/0 through a fix-packets
# sampler of 1 in 4. The captures mix IPv6 with IPv4 and ARP frames.
# Expected values are tshark's reading of each capture: frames, their
# length, IPv6 packets (first network header IPv6), IPv6 5-tuples (the
# flows, all aged forced at the end of the replay); the sampler takes the
# 1st, 5th, 9th ... IPv6 packet (fix-packets: the first of every N).
# Then: reset of one interface reads 0 there and nothing changes on the
# other; reset of slot 2 reads 0 there and in its slot counters; a commit
# that gives GigabitEthernet1/0/0 a new file counts that file from zero.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 120
command -v tshark >/dev/null || skip "tshark is not installed"
P=$((20000 + RANDOM % 20000))

spec() { # spec SEED PACKETS: IPv6 UDP and TCP flows, IPv4 and ARP between
	awk -v s="$1" -v n="$2" 'BEGIN {
		print "t=1700000000"
		for (i = 0; i < n; i++) {
			printf "src=2001:db8:%d::1 dst=2001:db8::2 proto=udp sport=%d dport=53 len=%d\n", s, 1000 + i % 3, 80 + (i * 7) % 900
			if (i % 3 == 0) print "v4=1 src=192.0.2.1 dst=192.0.2.2 proto=udp sport=1 dport=2"
			if (i % 7 == 0) print "ethertype=0x0806 len=28"
			printf "src=2001:db8:%d::3 dst=2001:db8::4 proto=tcp sport=%d dport=80 len=%d\n", s, 2000 + i % 5, 60 + (i * 13) % 1400
		}
	}' >$T/spec$1.txt
	"$BIN/pcapgen" -s $T/spec$1.txt -o $T/$2.$1.pcap || fail "pcapgen $1"
	echo $T/$2.$1.pcap
}
A=$(spec 1 60)
Bf=$(spec 2 45)
C=$(spec 3 70)
D=$(spec 4 33)

# tshark's reading: "frames bytes ipv6 flows" of a capture, sampling
# 1 in N of its IPv6 packets (N=1: all): "... sampled sampled_flows"
truth() { # truth PCAP N
	tshark -r "$1" -T fields -E separator=' ' -E occurrence=f \
		-e frame.len -e frame.protocols -e ipv6.src -e ipv6.dst \
		-e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport 2>/dev/null |
	awk -v n="$2" '{
		fr++; by += $1
		split($2, p, ":"); first = ""
		for (i = 1; i in p; i++) if (p[i] == "ip" || p[i] == "ipv6") { first = p[i]; break }
		if (first != "ipv6") next
		k = $3 " " $4 " " ($2 ~ /:tcp/ ? 6 : 17) " " $5 " " $6
		if (!(k in fl)) { fl[k] = 1; nf++ }
		if (v6++ % n == 0) { sm++; if (!(k in sf)) { sf[k] = 1; ns++ } }
	}
	END { print fr, by, v6, nf, sm, ns }'
}

conf() { # conf FILE-OF-GE1/0/0
	cat <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r";
           aging = { active_minutes = 60; inactive_seconds = 600; }; };
records = ( { name = "r"; match = [ "source-address", "destination-address",
                "protocol", "source-port", "destination-port" ];
              collect = [ "packets", "bytes" ]; } );
monitors = ( { name = "m1"; apply_record = "r";
               hosts = ( { address = "127.0.0.1"; port = $P; } ); } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$1"; netstream = [ "inbound" ];
    monitors = ( { name = "m1"; direction = "inbound"; } ); },
  { name = "GigabitEthernet1/0/1"; file = "$Bf"; file_direction = "outbound";
    netstream = [ "outbound" ]; },
  { name = "GigabitEthernet2/0/0"; file = "$C"; netstream = [ "inbound" ];
    sampler = { inbound = { mode = "fix-packets"; value = 4; }; }; } );
stats_interval_ms = 200;
CONF
}
conf "$A" >$T/g.conf

# "packets bytes ipv6 sampled created aged-forced" of IFACE DIR, as
# display interface --json says
shown() { # shown IFACE DIR
	"$NSCTL" display interface "$1" --json 2>>$T/display.log |
		/usr/bin/python3 -c '
import json, sys
for i in json.load(sys.stdin):
    for d in i["directions"]:
        if d["direction"] == sys.argv[1] and d.get("counters"):
            c = d["counters"]
            print(c["packets"], c["bytes"], c["ipv6_packets"], c["sampled_packets"],
                  c["flows_created"], c["flows_aged"]["forced"])
' "$2"
}
# the same from nsctl stats (interface=, direction= labels)
stat_of() { # stat_of SLOT IFACE DIR
	timeout 5 "$NSCTL" stats --json --slot "$1" -n 1 2>/dev/null |
		/usr/bin/python3 -c '
import json, sys
s = json.loads(sys.stdin.readline())
v = {}
for c in s["counters"]:
    if c.get("interface") == sys.argv[1] and c.get("direction") == sys.argv[2]:
        k = c["name"] + ("." + c["reason"] if "reason" in c else "")
        v[k] = c["value"]
print(v["interface_packets"], v["interface_bytes"], v["interface_ipv6_packets"],
      v["interface_sampled_packets"], v["interface_flows_created"],
      v["interface_flows_aged.forced"])
' "$2" "$3"
}
want() { # want PCAP N: what shown() must print for it
	truth "$1" "$2" | awk '{ print $1, $2, $3, $5, $6, $6 }'
}

"$NSCTL" collect -p $P -b 127.0.0.1 -t 60 >$T/c.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" up -c $T/g.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: captures ended' $T/up.log 2>/dev/null &&
	grep -q 'slot 2: captures ended' $T/up.log" 150 ||
	fail "the replays did not end"

WA=$(want "$A" 1)
WB=$(want "$Bf" 1)
WC=$(want "$C" 4)
read -r fr by v6 _ <<<"$WA"
check "a.pcap mixes IPv6 with other frames (tshark: $fr frames, $v6 IPv6)" \
	[ "${v6:-0}" -gt 0 ] && [ "$v6" -lt "$fr" ]
check "GigabitEthernet1/0/0 inbound = tshark's a.pcap ($WA)" \
	wait_for '[ "$(shown GigabitEthernet1/0/0 inbound)" = "$WA" ]' 30
check "GigabitEthernet1/0/1 outbound = tshark's b.pcap ($WB)" \
	[ "$(shown GigabitEthernet1/0/1 outbound)" = "$WB" ]
check "GigabitEthernet2/0/0 inbound, 1 in 4 sampled = tshark's c.pcap ($WC)" \
	[ "$(shown GigabitEthernet2/0/0 inbound)" = "$WC" ]
check "nsctl stats: interface=GigabitEthernet1/0/0 direction=inbound the same" \
	wait_for '[ "$(stat_of 1 GigabitEthernet1/0/0 inbound)" = "$WA" ]' 20
check "nsctl stats: interface=GigabitEthernet2/0/0 direction=inbound the same" \
	[ "$(stat_of 2 GigabitEthernet2/0/0 inbound)" = "$WC" ]
"$NSCTL" display interface >$T/iface.txt 2>>$T/display.log
check "display interface: a direction without netstream says so" \
	grep -q '^ Outbound: ipv6 netstream outbound is not enabled' $T/iface.txt
check "display interface: monitor m1, record r and its host on GigabitEthernet1/0/0" \
	bash -c "grep -A1 '^ Inbound: monitor m1, record r, sampler none' $T/iface.txt |
		grep -q 'Export hosts (monitor m1): 127.0.0.1 port $P'"
check "display interface: the sampler of GigabitEthernet2/0/0" \
	grep -q '^ Inbound: monitor -, record r, sampler fix-packets 4' $T/iface.txt
check "display interface NAME: an unknown one fails" \
	bash -c "! '$NSCTL' display interface nosuch >/dev/null 2>&1"

# reset one interface: it reads 0, its neighbour does not move
"$NSCTL" reset statistics interface GigabitEthernet1/0/0 >$T/reset1.txt 2>&1
check "reset statistics interface: done" \
	grep -q 'Statistics of interface GigabitEthernet1/0/0 (slot 1) reset' $T/reset1.txt
check "after it GigabitEthernet1/0/0 reads 0" \
	[ "$(shown GigabitEthernet1/0/0 inbound)" = "0 0 0 0 0 0" ]
check "GigabitEthernet1/0/1 is left as it was" \
	[ "$(shown GigabitEthernet1/0/1 outbound)" = "$WB" ]
check "nsctl stats reads 0 for it too" \
	wait_for '[ "$(stat_of 1 GigabitEthernet1/0/0 inbound)" = "0 0 0 0 0 0" ]' 20

# reset a slot: its interfaces and its own counters
check "reset statistics slot 2" \
	bash -c "'$NSCTL' reset statistics slot 2 | grep -q '^Statistics of slot 2 reset'"
check "after it GigabitEthernet2/0/0 reads 0" \
	[ "$(shown GigabitEthernet2/0/0 inbound)" = "0 0 0 0 0 0" ]
check "slot 2's packets received read 0 (display statistics)" \
	wait_for "'$NSCTL' display statistics slot 2 2>/dev/null | grep -q 'Packets: received 0, ipv6 0,'" 20
check "reset statistics of a slot without sampled fails" \
	bash -c "! '$NSCTL' reset statistics slot 9 2>/dev/null"
check "reset statistics interface NAME: an unknown one fails" \
	bash -c "! '$NSCTL' reset statistics interface nosuch 2>/dev/null"

# count again: a new file on GigabitEthernet1/0/0 is counted from zero
conf "$D" >$T/g2.conf
check "commit: GigabitEthernet1/0/0 replays d.pcap" \
	bash -c "'$NSCTL' commit -c $T/g2.conf -m d.pcap >/dev/null"
WD=$(want "$D" 1)
check "GigabitEthernet1/0/0 counts again: = tshark's d.pcap ($WD)" \
	wait_for '[ "$(shown GigabitEthernet1/0/0 inbound)" = "$WD" ]' 50
check "GigabitEthernet1/0/1 went on through the commit" \
	[ "$(shown GigabitEthernet1/0/1 outbound)" = "$WB" ]

kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
finish
