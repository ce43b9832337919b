#!/usr/bin/env bash
# Several capture files in one slot, of very different lengths and times,
# replayed together (merged by time) through `nsctl run` to nfcapd and to
# tshark capturing the v9 export on loopback. An operator expects each
# capture's flows to end when THAT capture ends, not when the last one
# does (sampled(8), TIME):
#   - a flow still going when its capture ends: end reason 4 (forced), its
#     last packet's time as last-switched, and exported then: the v9
#     header's unix_secs is the second of that capture's last packet
#     (before the fix: reason 1, 30 s later, aged idle by the other
#     captures' clock);
#   - a flow that falls silent for the inactive time before its capture
#     ends: idle (1), exported 30 s after its last packet (give or take
#     the replay's packet spacing), as ever;
#   - the same 5-tuple in two captures: two flows (each interface has its
#     own cache), each ending with its own capture.
# The expected values come from tshark's reading of each input file (each
# flow's packets, bytes, first and last packet, each capture's last
# packet) and the arithmetic of the inactive timer; never from netstreamd.
#   A  ifindex 11   T0 ..      T0+100 s
#   B  ifindex 12   T0 ..      T0+1100 s   (the last to end)
#   C  ifindex 13   T0+500 s .. T0+600 s
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/interop_lib.sh"
il_skip_unless nfcapd nfdump tshark
watchdog 300
cd "$ROOT" || exit 1
: >$T/routes.txt
T0=1700000000
INACTIVE=30

# gen NAME: the spec on stdin, a pcap of it in time order
gen() {
	sort -t= -k2,2g >$T/$1.spec
	"$BIN/pcapgen" -s $T/$1.spec -o $T/$1.pcap >/dev/null || fail "pcapgen $1"
}
# flow T REPEAT GAP PROTO SRC SPORT DPORT: one pcapgen line per packet
flow() {
	awk -v t="$1" -v n="$2" -v g="$3" -v p="$4" -v s="$5" -v sp="$6" -v dp="$7" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "t=%.3f src=2001:db8::%d dst=2001:db8:1::%d proto=%s sport=%d dport=%d%s len=%d\n", t + i * g, s, s, p, sp, dp, p == "tcp" ? " flags=A" : "", 100 + i % 7
	}'
}
{
	flow $T0 51 2 tcp 1 1000 80              # going at A's end
	flow $((T0)).5 50 2 udp 1 2000 53        # going at A's end
	flow $((T0 + 1)).1 3 1 udp 1 2001 53     # idle long before A's end
} | gen a
{
	flow $T0.3 111 10 tcp 1 1000 80          # A's first 5-tuple again
	flow $T0.7 110 10 udp 2 4000 123
	flow $((T0 + 200)) 2 5 udp 2 4001 123    # idle mid-B
} | gen b
{
	flow $((T0 + 500)).2 51 2 tcp 3 5000 443
	flow $((T0 + 501)) 30 3 udp 1 2000 53    # A's second 5-tuple again
} | gen c

cat >$T/run.conf <<CONF
system = {
  export = { source = { address = "127.0.0.1"; };
             hosts = ( { address = "127.0.0.1"; port = 0; } ); };
  apply_record = "five";
  aging = { active_minutes = 30; inactive_seconds = $INACTIVE; };
};
records = ( { name = "five";
  match = [ "source-address", "destination-address", "protocol",
            "source-port", "destination-port" ];
  collect = [ "packets", "bytes", "first-switched", "last-switched",
              "input-interface", "flow-end-reason" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; ifindex = 11;
    netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/1"; file = "$T/b.pcap"; ifindex = 12;
    netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/2"; file = "$T/c.pcap"; ifindex = 13;
    netstream = [ "inbound" ]; } );
CONF
NF=$(il_port)
sed -i "s/port = 0;/port = $NF;/" $T/run.conf

il_nfcapd nf $NF
il_tshark ts $NF
il_wait_ready $NF
NETSTREAMD_RUN_DIR=$T/run timeout -k 5 120 "$NSCTL" run -c $T/run.conf \
	>$T/run.out 2>$T/run.log
rc=$?
check "nsctl run ends, exit 0 ($rc)" [ "$rc" -eq 0 ]
check "every flow was exported" grep -q 'every flow was exported' $T/run.out
sleep 0.5
il_stop nf ts

# the truth: each input as tshark reads it, with its interface
: >$T/want
for x in a:11 b:12 c:13; do
	il_py expect $T/${x%:*}.pcap $T/routes.txt ${x#*:} 0 >$T/want.${x%:*}
	check "tshark reads the flows of ${x%:*}.pcap" [ -s $T/want.${x%:*} ]
	cat $T/want.${x%:*} >>$T/want
	# the capture's last packet, ms
	tshark -r $T/${x%:*}.pcap -T fields -e frame.time_epoch 2>/dev/null |
		/usr/bin/python3 -c 'import sys, decimal; print(max(int(decimal.Decimal(l) * 1000) for l in sys.stdin))' \
		>$T/end.${x#*:}
done
check "the captures end far apart (A +100 s, C +600 s, B +1100 s)" \
	[ "$(cat $T/end.11)" -lt $(((T0 + 101) * 1000)) -a \
	  "$(cat $T/end.13)" -lt $(((T0 + 601) * 1000)) -a \
	  "$(cat $T/end.12)" -gt $(((T0 + 1099) * 1000)) ]
il_py tshark $T/ts.pcapng $NF >$T/got
il_py nfdump $T/nf >$T/got.nfdump

# per flow (key and interface): reason, times and export second as the
# truth and the inactive timer say
/usr/bin/python3 - $T/want $T/got $T $INACTIVE >$T/verdict <<'PY'
import sys
want_p, got_p, tdir, inactive = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) * 1000

def rows(path):
    for line in open(path):
        w = line.split()
        f = dict(x.split("=", 1) for x in w[1:])
        yield w[0][4:], f

end = {i: int(open("%s/end.%d" % (tdir, i)).read()) for i in (11, 12, 13)}
want = {}
for k, f in rows(want_p):
    want[(k, int(f["input-interface"]))] = f
got = {}
for k, f in rows(got_p):
    got.setdefault((k, int(f["input-interface"])), []).append(f)
bad = 0
for (k, ifx), w in sorted(want.items()):
    g = got.get((k, ifx), [])
    last = int(w["last"])
    if end[ifx] - last >= inactive:
        reason, exp = 1, last + inactive  # aged idle inside its capture
    else:
        reason, exp = 4, end[ifx]         # still going when it ended
    # forced: handed over at once, on the capture's last packet; idle: a
    # replay's clock moves only with packets (here at most 10 s apart): a
    # flow ages at the first packet past its time, and its batch leaves
    # at the first packet a second after that
    lo, slack = exp // 1000, 2 if reason == 4 else 22
    msg = []
    if len(g) != 1:
        msg.append("%d records, not 1" % len(g))
    for r in g:
        for n in ("packets", "bytes", "first", "last"):
            if r.get(n) != w[n]:
                msg.append("%s %s, not %s" % (n, r.get(n), w[n]))
        if r.get("flow-end-reason") != str(reason):
            msg.append("end reason %s, not %d" % (r.get("flow-end-reason"), reason))
        s = int(r.get("export-ms", 0)) // 1000
        if not lo <= s <= lo + slack:
            msg.append("exported at %+d s of %s, not within %d s after it" %
                       (s - lo, "its capture's end" if reason == 4 else "last + inactive", slack))
    print("%s if=%d want reason=%d exported=%d s: %s" %
          (k, ifx, reason, lo, "; ".join(msg) if msg else "ok"))
    bad += bool(msg)
extra = set(got) - set(want)
for e in sorted(extra):
    print("%s if=%d: not in any capture" % e)
sys.exit(1 if bad or extra else 0)
PY
check "each flow ends with its own capture: reason, times, export second (tshark)" [ $? -eq 0 ]
cat $T/verdict
check "the A flows still going at A's end are forced (4), at A's end" \
	grep -Eq '^2001:db8::1/2001:db8:1::1/6/1000/80 if=11 want reason=4 .*: ok$' $T/verdict
check "the flow idle before A's end is idle (1)" \
	grep -Eq '/2001/53 if=11 want reason=1 .*: ok$' $T/verdict
check "the C flows are forced (4) at C's end, 500 s before B's" \
	grep -Eq '/5000/443 if=13 want reason=4 .*: ok$' $T/verdict
check "as many flows as tshark reads (8)" [ "$(grep -c . $T/want)" -eq 8 ]
il_fields "nfdump" $T/want $T/got.nfdump packets bytes first last
finish
