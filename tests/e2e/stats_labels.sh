#!/usr/bin/env bash
# Stats labels are the operator's names (issue 22, finding 9; DESIGN.md
# "What the operator sees is true"): sampled's per-cache counters
# (flows_current, flows_created, cache_full, flows_aged) are labelled
# interface, direction, record and monitor (empty: the system's or the
# slot's record), never by an internal key (binding=...); no two rows of
# a sample have the same name and labels; and a commit that changes a
# record's fields (a new template) keeps every series: the same label
# sets before and after, in nsctl stats --json, in the text table and in
# --prometheus. Slot 1 has two interfaces through record r, one by
# monitor m1, one by the system: before, both caches were rows
# flows_aged{record=r,reason=...} alike. display statistics still sums
# the record's flows over both.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 90
PY=/usr/bin/python3
P=$((20000 + RANDOM % 20000))
"$BIN/pcapgen" --flows 8 --packets 200 --seed 4 -o $T/a.pcap >/dev/null || fail "pcapgen a"
"$BIN/pcapgen" --flows 6 --packets 100 --seed 5 -o $T/b.pcap >/dev/null || fail "pcapgen b"
mkconf() { # mkconf COLLECT
	cat <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address",
                "protocol", "source-port", "destination-port" ];
              collect = [ $1 ]; } );
monitors = ( { name = "m1"; apply_record = "r";
               hosts = ( { address = "127.0.0.1"; port = $P; } ); } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; netstream = [ "inbound" ];
    monitors = ( { name = "m1"; direction = "inbound"; } ); },
  { name = "GigabitEthernet1/0/1"; file = "$T/b.pcap"; netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF
}
mkconf '"packets"' >$T/r1.conf
mkconf '"packets", "bytes"' >$T/r2.conf
"$NSCTL" collect -p $P -b 127.0.0.1 -t 60 >$T/c.txt 2>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" up -c $T/r1.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: captures ended' $T/up.log 2>/dev/null" 150 ||
	fail "the replay did not end"
sleep 0.5 # a stats interval after the end

# sample N: slot 1's sampled, as JSON, text and Prometheus
sample() {
	"$NSCTL" stats --json --slot 1 -n 1 >$T/s$1.json 2>>$T/stats.log
	"$NSCTL" stats --slot 1 >$T/s$1.txt 2>>$T/stats.log
	"$NSCTL" stats --prometheus --slot 1 >$T/s$1.prom 2>>$T/stats.log
}
sample 1
G1=$($PY -c 'import json,sys; print(json.load(sys.stdin)["generation"])' <$T/s1.json)
"$NSCTL" commit -c $T/r2.conf -m "r collects bytes too" >$T/commit.out 2>&1 ||
	fail "commit 2: $(cat $T/commit.out)"
gen() { "$NSCTL" stats --json --slot 1 -n 1 2>/dev/null |
	$PY -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
check "sampled follows the new revision" wait_for '[ "$(gen)" != "$G1" ]' 50
sleep 0.5
sample 2

# the checks on the JSON samples, by Python; "ok: ..." or "FAIL: ..."
$PY - $T/s1.json $T/s2.json >$T/json.res <<'PYEOF'
import json, sys
PER_CACHE = ("flows_current", "flows_created", "cache_full", "flows_aged")
WANT = {"interface", "direction", "record", "monitor"}
def res(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
def rows(path):
    s = json.load(open(path))
    return [(c["name"], tuple(sorted((k, v) for k, v in c.items()
                                     if k not in ("name", "value"))))
            for c in s["counters"]]
for n, path in (("before", sys.argv[1]), ("after", sys.argv[2])):
    r = rows(path)
    res(not any(k == "binding" for _, l in r for k, _ in l),
        "--json %s the commit: no binding label" % n)
    dup = sorted({x for x in r if r.count(x) > 1})
    res(not dup, "--json %s the commit: no two rows with the same name "
        "and labels %s" % (n, dup[:2]))
    for name in PER_CACHE:
        ks = [set(k for k, _ in l) for nm, l in r if nm == name]
        extra = {"reason"} if name == "flows_aged" else set()
        res(ks and all(k == WANT | extra for k in ks),
            "--json %s: %s labelled %s" % (n, name, sorted(WANT | extra)))
    mons = {dict(l).get("monitor") for nm, l in r if nm == "flows_created"}
    res(mons == {"m1", ""}, "--json %s: monitor m1 on one interface, none "
        "on the other (%s)" % (n, mons))
b = {x for x in rows(sys.argv[1]) if x[0] in PER_CACHE}
a = {x for x in rows(sys.argv[2]) if x[0] in PER_CACHE}
res(b == a, "--json: the same %d per-cache series before and after "
    "(gone %s, new %s)" % (len(b), sorted(b - a)[:1], sorted(a - b)[:1]))
PYEOF
while IFS= read -r line; do
	case $line in ok:*) ok "${line#ok: }" ;; *) fail "${line#FAIL: }" ;; esac
done <$T/json.res
check "--json: the checks ran" [ "$(grep -c . $T/json.res)" -ge 10 ]

for n in 1 2; do
	check "text $n: no binding= label" bash -c "! grep -q 'binding=' $T/s$n.txt"
	check "text $n: no counter twice" \
		bash -c "[ -z \"\$(awk 'NR > 1 { print \$1, \$2, \$3 }' $T/s$n.txt | sort | uniq -d)\" ]"
	check "text $n: flows_created of GigabitEthernet1/0/0 by monitor m1" \
		grep -q 'flows_created{interface=GigabitEthernet1/0/0,direction=inbound,record=r,monitor=m1}' $T/s$n.txt
	check "prometheus $n: no binding label" bash -c "! grep -q 'binding=' $T/s$n.prom"
	check "prometheus $n: no series twice" \
		bash -c "[ -z \"\$(grep -v '^#' $T/s$n.prom | sed 's/ [0-9]*\$//' | sort | uniq -d)\" ]"
done
series() { grep -E '^netstreamd_sampled_(flows_current|flows_created|cache_full|flows_aged)' "$1" |
	sed 's/ [0-9]*$//' | sort; }
series $T/s1.prom >$T/p1.series
series $T/s2.prom >$T/p2.series
check "prometheus: the same per-cache series before and after the commit ($(wc -l <$T/p1.series))" \
	bash -c "[ -s $T/p1.series ] && cmp -s $T/p1.series $T/p2.series"
check "prometheus: flows_created of the monitor's cache has its names" \
	grep -q '^netstreamd_sampled_flows_created_total{slot="1",interface="GigabitEthernet1/0/0",direction="inbound",record="r",monitor="m1"}$' $T/p2.series
"$NSCTL" display statistics --json >$T/display.json 2>>$T/display.log
check "display statistics: record r's flows created are both caches' sum" \
	$PY - $T/display.json $T/s2.json <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
want = sum(c["value"] for c in s["counters"] if c["name"] == "flows_created")
slots = d["slots"] if isinstance(d, dict) and "slots" in d else d
got = [r["created"] for sl in (slots if isinstance(slots, list) else [slots])
       for r in sl.get("records", []) if r["record"] == "r"]

sys.exit(0 if got and sum(got) == want and want > 0 else 1)
PYEOF
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
finish
