#!/usr/bin/env bash
# nsctl stats --prometheus and nsctl metrics --listen, read by a real
# Prometheus parser (Debian's python3-prometheus-client) and curl. Slot
# 1 replays a.pcap and c.pcap on two interfaces through one record, slot
# 2 b.pcap; the scrape parses, every family has its HELP and TYPE, every
# name is netstreamd_..., no series appears twice (the two caches of
# record r in slot 1 are two flows_aged series, by interface), and the
# labels slot, interface, direction, record and host are there. Values:
# interface packets and bytes equal tshark's frames and their length in
# each capture; slot 1's flows aged (forced, at the end of the replay)
# for record r equal tshark's flows of a.pcap and c.pcap; exportd's
# records to the host equal the flows tshark reads in all three. The HTTP server: GET /metrics is 200
# with the exposition content type; another path is 404, another method
# 405, a request past 8 KiB 431, and a client that sends nothing is
# dropped within its time bound so the next scrape is served.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 90
PY=/usr/bin/python3
$PY -c 'import prometheus_client' 2>/dev/null ||
	skip "python3-prometheus-client is not installed (tools/install-deps)"
command -v curl >/dev/null && command -v tshark >/dev/null ||
	skip "curl or tshark is not installed"
P=$((20000 + RANDOM % 20000))
MP=$((P + 1))
"$BIN/pcapgen" --flows 12 --packets 700 --seed 5 -o $T/a.pcap >/dev/null || fail "pcapgen a"
"$BIN/pcapgen" --flows 7 --packets 300 --seed 6 -o $T/b.pcap >/dev/null || fail "pcapgen b"
"$BIN/pcapgen" --flows 5 --packets 100 --seed 7 -o $T/c.pcap >/dev/null || fail "pcapgen c"
frames() { tshark -r "$1" -T fields -e frame.len 2>/dev/null | awk '{ n++; b += $1 } END { print n, b }'; }
read -r FA BA <<<"$(frames $T/a.pcap)"
read -r FB BB <<<"$(frames $T/b.pcap)"
FLOWS1=$(($(tshark_flows $T/a.pcap | wc -l) + $(tshark_flows $T/c.pcap | wc -l)))
FLOWS=$((FLOWS1 + $(tshark_flows $T/b.pcap | wc -l)))
cat >$T/g.conf <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address",
                "protocol", "source-port", "destination-port" ];
              collect = [ "packets", "bytes" ]; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; file = "$T/a.pcap"; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet1/0/1"; file = "$T/c.pcap"; netstream = [ "inbound" ]; },
  { name = "GigabitEthernet2/0/0"; file = "$T/b.pcap"; netstream = [ "inbound" ]; } );
stats_interval_ms = 200;
CONF
"$NSCTL" collect -p $P -b 127.0.0.1 -t 60 >$T/c.txt 2>>$T/collect.log &
PIDS="$PIDS $!"
"$NSCTL" up -c $T/g.conf >$T/up.out 2>$T/up.log &
UP=$!
PIDS="$PIDS $UP"
wait_for "grep -q 'slot 1: captures ended' $T/up.log 2>/dev/null &&
	grep -q 'slot 2: captures ended' $T/up.log" 150 || fail "the replays did not end"
check "the collector got the $FLOWS flows tshark reads" \
	wait_for '[ "$(grep -c "^data " $T/c.txt)" = "$FLOWS" ]' 50
check "exportd counts every export packet sent (none in flight)" exportd_sent

# parse FILE: the checks on one scrape, by the real parser; prints
# "ok: ..." or "FAIL: ..." lines
parse() {
	$PY - "$1" "$FA" "$BA" "$FB" "$BB" "$FLOWS" "$P" "$FLOWS1" <<'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
path, fa, ba, fb, bb, flows, port, flows1 = sys.argv[1:]
text = open(path).read()
def res(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
try:
    fams = list(text_string_to_metric_families(text))
except Exception as e:
    res(False, "the scrape parses (%s)" % e)
    sys.exit(0)
res(len(fams) > 10, "the scrape parses: %d families" % len(fams))
lines = text.splitlines()
helps = {l.split()[2] for l in lines if l.startswith("# HELP ")}
types = {l.split()[2]: l.split()[3] for l in lines if l.startswith("# TYPE ")}
names = {l.split("{")[0].split()[0] for l in lines if l and not l.startswith("#")}
res(names and names <= set(types) and names <= helps,
    "every series has its HELP and TYPE line")
res(all(n.startswith("netstreamd_") for n in names), "every name is netstreamd_...")
series = [l.rsplit(" ", 1)[0] for l in lines if l and not l.startswith("#")]
res(len(series) == len(set(series)), "no series twice (%d)" % len(series))
v = {}
labels = set()
for f in fams:
    for s in f.samples:
        v[(s.name, tuple(sorted(s.labels.items())))] = s.value
        labels |= set(s.labels)
res({"slot", "interface", "direction", "record", "host"} <= labels,
    "labels slot, interface, direction, record, host are there")
def get(name, **lab):
    return v.get((name, tuple(sorted(lab.items()))))
for slot, iface, f, b in (("1", "GigabitEthernet1/0/0", fa, ba),
                          ("2", "GigabitEthernet2/0/0", fb, bb)):
    got = (get("netstreamd_sampled_interface_packets_total", slot=slot,
               interface=iface, direction="inbound"),
           get("netstreamd_sampled_interface_bytes_total", slot=slot,
               interface=iface, direction="inbound"))
    res(got == (float(f), float(b)),
        "%s packets, bytes %s = tshark's %s %s" % (iface, got, f, b))
# one series a cache (interface, direction, record, monitor): the two of
# record r in slot 1 summed
aged = [val for (n, lab), val in v.items()
        if n == "netstreamd_sampled_flows_aged_total" and
        dict(lab).get("slot") == "1" and dict(lab).get("record") == "r" and
        dict(lab).get("reason") == "forced"]
got = sum(aged)
res(len(aged) == 2 and got == float(flows1),
    "slot 1 record r flows aged forced, over its %d caches: %s = tshark's %s flows"
    % (len(aged), got, flows1))
host = "[127.0.0.1]:%s" % port
got = get("netstreamd_exportd_records_total", host=host)
res(got == float(flows), "exportd records to %s: %s = tshark's %s flows" % (host, got, flows))
res(types.get("netstreamd_sampled_flows_in_cache") == "gauge" and
    types.get("netstreamd_sampled_interface_packets_total") == "counter",
    "gauges and counters typed as such")
PYEOF
}
results() { # results FILE: parse's lines as this test's checks
	while IFS= read -r line; do
		case $line in
		ok:*) ok "$2${line#ok: }" ;;
		*) fail "$2${line#FAIL: }" ;;
		esac
	done < <(parse "$1")
}

# one scrape on stdout
check "stats --prometheus: exit 0" \
	bash -c "'$NSCTL' stats --prometheus >$T/scrape.txt 2>>$T/stats.log"
results $T/scrape.txt "stats --prometheus: "

# the server
"$NSCTL" metrics --listen 127.0.0.1:$MP 2>$T/metrics.log &
M=$!
PIDS="$PIDS $M"
URL=http://127.0.0.1:$MP
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
check "metrics: GET /metrics answers 200" \
	wait_for '[ "$(code $URL/metrics)" = 200 ]' 50
sleep 1 # a sample of each process has come
curl -s -D $T/head.txt --max-time 10 $URL/metrics >$T/served.txt
check "metrics: Content-Type of the text format 0.0.4" \
	grep -qi '^Content-Type: text/plain; version=0.0.4' $T/head.txt
results $T/served.txt "metrics: "
check "metrics: another path is 404" [ "$(code $URL/)" = 404 ]
check "metrics: another method is 405" [ "$(code -X POST $URL/metrics)" = 405 ]
check "metrics: a request past 8 KiB is 431" \
	[ "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" $URL/metrics)" = 431 ]
exec 5<>/dev/tcp/127.0.0.1/$MP # connects and sends nothing
check "metrics: a silent client does not stop the next scrape" \
	[ "$(code $URL/metrics)" = 200 ]
exec 5>&-
check "metrics: still serving" [ "$(code $URL/metrics)" = 200 ]
check "metrics: a port taken is an error" \
	bash -c "! timeout 5 '$NSCTL' metrics --listen 127.0.0.1:$MP 2>/dev/null"
check "metrics: a bad address is a usage error" \
	bash -c "! timeout 5 '$NSCTL' metrics --listen nocolon 2>/dev/null"
kill -TERM $M
wait $M
check "metrics: stops on SIGTERM with exit 0" [ $? -eq 0 ]
kill -TERM $UP
wait $UP
check "nsctl up stops cleanly (exit 0)" [ $? -eq 0 ]
finish
