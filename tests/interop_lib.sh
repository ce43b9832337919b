# tests/interop_lib.sh: helpers of the interoperability tests
# (tests/e2e/interop_*.sh), sourced after tests/lib.sh. They start the
# collectors users run (nfcapd, pmacct's nfacctd with its print plugin,
# tshark capturing the export on loopback) on random loopback ports, each
# bounded in time, and read back what each collector made of the export.

# IL_EXEC: a prefix for the collectors, e.g. "ip netns exec NS" to run
# them in a network namespace the test made (empty: this one)
IL_EXEC=${IL_EXEC:-}

# A port for a collector: random, and not one an earlier call gave.
IL_PORTS=""
il_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		case " $IL_PORTS " in *" $p "*) continue ;; esac
		IL_PORTS="$IL_PORTS $p"
		echo "$p"
		return
	done
}

# il_skip_unless TOOL...: declares a skip when a collector is not installed
il_skip_unless() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { echo "skip: $t is not installed"; exit 77; }
	done
}

# il_nfcapd NAME PORT [ARGS]: nfcapd writing into $T/NAME (one file an hour,
# so the whole test lands in one file); its log is $T/NAME.log.
il_nfcapd() {
	local name=$1 port=$2
	shift 2
	mkdir -p "$T/$name"
	$IL_EXEC nfcapd -p "$port" -b 127.0.0.1 -w "$T/$name" -t 3600 "$@" >"$T/$name.log" 2>&1 &
	eval "IL_PID_$name=$!"
	PIDS="$PIDS $!"
}

# il_nfacctd NAME PORT AGGREGATE [CONFIG-LINES]: nfacctd with one print
# plugin writing JSON to $T/NAME.json when it stops (print_refresh_time is
# longer than any test, so the purge at SIGTERM writes everything once).
# Fields it has no primitive for are read as custom primitives from
# $T/NAME.primitives when the caller wrote that file (aggregate_primitives).
il_nfacctd() {
	local name=$1 port=$2 agg=$3 extra=${4:-}
	{
		echo "daemonize: false"
		echo "nfacctd_ip: 127.0.0.1"
		echo "nfacctd_port: $port"
		echo "plugins: print[p]"
		echo "aggregate[p]: $agg"
		echo "print_output[p]: json"
		echo "print_output_file[p]: $T/$name.json"
		echo "print_refresh_time[p]: 3600"
		echo "timestamps_since_epoch: true"
		[ -f "$T/$name.primitives" ] && echo "aggregate_primitives: $T/$name.primitives"
		[ -n "$extra" ] && printf '%s\n' "$extra"
	} >"$T/$name.nfacctd.conf"
	$IL_EXEC nfacctd -f "$T/$name.nfacctd.conf" >"$T/$name.log" 2>&1 &
	eval "IL_PID_$name=$! IL_SIG_$name=INT"
	PIDS="$PIDS $!"
}

# il_tshark NAME PORT...: tshark capturing on lo what is sent to these UDP
# ports into $T/NAME.pcapng, for at most 120 s; returns once it captures.
il_tshark() {
	local name=$1 f="" p
	shift
	for p in "$@"; do f="${f:+$f or }udp dst port $p"; done
	$IL_EXEC tshark -q -i lo -f "$f" -w "$T/$name.pcapng" -a duration:120 >"$T/$name.log" 2>&1 &
	eval "IL_PID_$name=$!"
	PIDS="$PIDS $!"
	wait_for "grep -qs Capturing $T/$name.log" 50 || fail "$name: tshark did not start capturing"
}

# il_wait_ready: gives the collectors a moment to bind (nfcapd and nfacctd
# say nothing when they are ready, so poll their sockets)
il_wait_ready() {
	local p
	for p in "$@"; do
		wait_for "$IL_EXEC ss -Hlun 'sport = :$p' | grep -q ." 50 || fail "nothing listens on udp port $p"
	done
}

# il_stop NAME...: stops collectors and waits, at most 10 s each: nfcapd
# closes its file at SIGTERM, tshark its capture; nfacctd purges its
# cache to the print file and exits at SIGINT (at SIGTERM its core
# process stays). One still there after that is killed, with its children.
il_stop() {
	local n pid sig i
	for n in "$@"; do
		eval "pid=\${IL_PID_$n:-} sig=\${IL_SIG_$n:-TERM}"
		[ -n "$pid" ] && kill -"$sig" "$pid" 2>/dev/null
	done
	for n in "$@"; do
		eval "pid=\${IL_PID_$n:-}"
		[ -n "$pid" ] || continue
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then
			fail "$n did not stop within 10 s"
			kill -9 $(pgrep -P "$pid") "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	return 0
}

# il_py VERB ARGS: the readers below, in Python (Debian's python3, no
# package beyond the standard library). Every reader prints one line per
# flow record in one canonical form, so that each field of each collector
# is compared with the same expectation:
#   key=SRC/DST/PROTO/SPORT/DPORT field=value ...
# (field names are cfgd's; times are ms since the epoch; an ICMPv6 flow's
# DPORT is type*256+code, the key NetStream gives it).
#   expect PCAP ROUTES IFINDEX DIRECTION   the truth, from tshark's reading
#                     of the input capture, the routes file and the config
#   nfdump DIR        nfdump's reading of an nfcapd directory (-o json)
#   nfacctd FILE      nfacctd's print plugin output (print_output: json)
#   tshark PCAP PORT  tshark's decode of the export sent to PORT (and
#                     export-ms: its export packet's header time)
#   options PCAP PORT the sampler and interface-name options records
#   packets PCAP PORT one line per export packet: version, domain,
#                     sequence, count, data records, templates per set
#   compare WANT GOT FIELD [TOLERANCE_MS]   per-flow values of one field:
#                     packets and bytes summed per key, any other field
#                     the sorted list of its values; times within TOLERANCE
il_py() {
	/usr/bin/python3 - "$@" <<'PY'
import decimal, ipaddress, json, os, subprocess, sys
import xml.etree.ElementTree as ET

AS_TRANS = 23456  # RFC 6793: a 4-byte AS in a 2-byte field
# IANA ipv6ExtensionHeaders bits (RFC 5102), read as 1 << bit; see
# include/decode.h for the reading of "bit N"
EXT_BITS = {"ipv6.hopopts": 6, "ipv6.dstopts": 7, "ipv6.routing": 2,
            "ah": 9, "esp": 10}
FLAG_LETTERS = "CEUAPRSF"  # nfdump's flag string, 0x80 first

def ms(sec):
    return int(decimal.Decimal(sec) * 1000)

def key(src, dst, proto, sport, dport):
    return "%s/%s/%s/%s/%s" % (ipaddress.ip_address(src), ipaddress.ip_address(dst),
                               proto, sport, dport)

def out(k, f):
    if isinstance(f.get("first"), int) and isinstance(f.get("last"), int):
        f["duration"] = f["last"] - f["first"]
    print("key=" + k + "".join(" %s=%s" % (n, f[n]) for n in sorted(f)))

def load_routes(path):
    routes = []
    for line in open(path):
        w = line.split("#")[0].split()
        if not w:
            continue
        w += ["-"] * (5 - len(w))
        routes.append((ipaddress.ip_network(w[0]), w[1], w[2], int(w[3] if w[3] != "-" else 0)))
    return routes

def lookup(routes, addr):
    a = ipaddress.ip_address(addr)
    best = None
    for r in routes:
        if a in r[0] and (best is None or r[0].prefixlen > best[0].prefixlen):
            best = r
    return best

def as16(n):
    return n if n <= 65535 else AS_TRANS

def expect(pcap, routes_path, ifindex, direction):
    routes = load_routes(routes_path)
    fields = ["frame.time_epoch", "frame.protocols", "ipv6.src", "ipv6.dst",
              "ipv6.plen", "ipv6.tclass", "ipv6.flow", "vlan.id", "tcp.srcport",
              "tcp.dstport", "tcp.flags", "udp.srcport", "udp.dstport",
              "icmpv6.type", "icmpv6.code"]
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    flows = {}
    for line in subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines():
        v = dict(zip(fields, line.split("\t")))
        prot = v["frame.protocols"].split(":")
        firstip = next((p for p in prot if p in ("ip", "ipv6")), None)
        if firstip != "ipv6":
            continue
        l4 = next((p for p in prot if p in ("tcp", "udp", "icmpv6")), None)
        ext = 0
        for p in prot[prot.index("ipv6") + 1:]:
            if p in ("tcp", "udp", "icmpv6"):
                break
            if p in EXT_BITS:
                ext |= 1 << EXT_BITS[p]
        sp = dp = 0
        proto = {"tcp": 6, "udp": 17, "icmpv6": 58}.get(l4, 0)
        flags = 0
        it = ic = None
        if l4 == "tcp":
            sp, dp, flags = int(v["tcp.srcport"]), int(v["tcp.dstport"]), int(v["tcp.flags"], 16) & 0xff
        elif l4 == "udp":
            sp, dp = int(v["udp.srcport"]), int(v["udp.dstport"])
        elif l4 == "icmpv6":
            it, ic = int(v["icmpv6.type"]), int(v["icmpv6.code"])
            dp = it * 256 + ic
        k = key(v["ipv6.src"], v["ipv6.dst"], proto, sp, dp)
        t = ms(v["frame.time_epoch"])
        f = flows.get(k)
        if f is None:
            rs, rd = lookup(routes, v["ipv6.src"]), lookup(routes, v["ipv6.dst"])
            f = flows[k] = {
                "packets": 0, "bytes": 0, "first": t, "last": t, "tcp-flags": 0,
                "traffic-class": int(v["ipv6.tclass"], 16),
                "flow-label": int(v["ipv6.flow"], 16),
                "source-port": sp, "destination-port": dp,
                "source-vlan": int(v["vlan.id"] or 0),
                "extension-headers": ext,
                "input-interface": ifindex if direction == 0 else 0,
                "output-interface": ifindex if direction == 1 else 0,
                "direction": direction,
                "source-mask": rs[0].prefixlen if rs else 0,
                "destination-mask": rd[0].prefixlen if rd else 0,
                "source-as": as16(rs[3]) if rs else 0,
                "destination-as": as16(rd[3]) if rd else 0,
                "next-hop": str(ipaddress.ip_address(rd[1] if rd and rd[1] != "-" else "::")),
                "bgp-next-hop": str(ipaddress.ip_address(rd[2] if rd and rd[2] != "-" else "::")),
            }
            if it is not None:
                f["icmp-type"], f["icmp-code"] = it, ic
        f["packets"] += 1
        f["bytes"] += int(v["ipv6.plen"]) + 40
        f["last"] = t
        f["tcp-flags"] |= flags
        # DESIGN.md: FIN/RST ends a flow (3), else the end of the capture (4);
        # a capture for this reader sends nothing after a flow's FIN
        f["flow-end-reason"] = 3 if flags & 0x05 and f["packets"] > 1 else 4
    for k, f in sorted(flows.items()):
        out(k, f)

def nfdump_records(d):
    env = dict(os.environ, TZ="UTC")
    txt = subprocess.run(["nfdump", "-q", "-N", "-R", d, "-o", "json"],
                         capture_output=True, text=True, env=env).stdout
    dec, i = json.JSONDecoder(), 0
    while True:
        i = txt.find("{", i)
        if i < 0:
            return
        r, i = dec.raw_decode(txt, i)
        yield r

def nf_time(s):
    import datetime
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return int(round(t.timestamp() * 1000))

def nfdump(d):
    for r in nfdump_records(d):
        if r.get("type") != "FLOW":
            continue
        proto = r.get("proto", 0)
        f = {"packets": r.get("in_packets"), "bytes": r.get("in_bytes"),
             "first": nf_time(r["first"]), "last": nf_time(r["last"]),
             "traffic-class": r.get("src_tos"),
             "source-mask": r.get("src_mask"), "destination-mask": r.get("dst_mask"),
             "input-interface": r.get("input_snmp"), "output-interface": r.get("output_snmp"),
             "direction": r.get("direction"), "source-vlan": r.get("src_vlan"),
             "source-as": r.get("src_as"), "destination-as": r.get("dst_as"),
             "next-hop": r.get("ip6_next_hop"), "bgp-next-hop": r.get("bgp6_next_hop")}
        fl = r.get("tcp_flags", "........")
        f["tcp-flags"] = sum(0x80 >> i for i, c in enumerate(fl) if c != ".")
        if r.get("label", "<none>") != "<none>":
            f["flow-label"] = r["label"]
        if proto in (1, 58):
            f["icmp-type"], f["icmp-code"] = r.get("icmp_type", 0), r.get("icmp_code", 0)
            sp, dp = 0, f["icmp-type"] * 256 + f["icmp-code"]
        else:
            sp, dp = r.get("src_port", 0), r.get("dst_port", 0)
        f["source-port"], f["destination-port"] = sp, dp
        src = r.get("src6_addr", r.get("src4_addr"))
        dst = r.get("dst6_addr", r.get("dst4_addr"))
        out(key(src, dst, proto, sp, dp), {n: v for n, v in f.items() if v is not None})

PROTOS = {"tcp": 6, "udp": 17, "ipv6-icmp": 58, "icmp": 1}

def nfacctd(path):
    if not os.path.exists(path):
        return
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        p = r.get("ip_proto")
        proto = PROTOS.get(p, int(p) if str(p).isdigit() else p)
        f = {"packets": r.get("packets"), "bytes": r.get("bytes"),
             "traffic-class": r.get("tos"), "source-mask": r.get("mask_src"),
             "destination-mask": r.get("mask_dst"), "input-interface": r.get("iface_in"),
             "output-interface": r.get("iface_out"), "source-vlan": r.get("vlan"),
             "source-as": r.get("as_src"), "destination-as": r.get("as_dst"),
             "bgp-next-hop": r.get("peer_ip_dst"), "source-port": r.get("port_src"),
             "destination-port": r.get("port_dst"),
             "sampling-rate": r.get("sampling_rate"),
             "sampling-direction": r.get("sampling_direction")}
        if "tcp_flags" in r:
            f["tcp-flags"] = int(r["tcp_flags"])
        for n, j in (("first", "timestamp_start"), ("last", "timestamp_end")):
            if r.get(j) not in (None, "", "0.000000", "0000-00-00 00:00:00.000000"):
                try:
                    f[n] = ms(r[j])
                except decimal.InvalidOperation:
                    f[n] = r[j].replace(" ", "T")
            elif j in r:
                f[n] = "none"
        # custom primitives (aggregate_primitives), hex or decimal
        for n, j in (("flow-label", "flowlabel"), ("extension-headers", "exthdr"),
                     ("flow-end-reason", "endreason"), ("direction", "flowdir"),
                     ("icmp-type", "icmp6type"), ("icmp-code", "icmp6code"),
                     ("sampler-id", "samplerid")):
            if j in r:
                v = str(r[j])
                if j == "flowlabel" and v:
                    v = str(int(v.replace("-", ""), 16))
                f[n] = int(v) if v.isdigit() else v
        if "nexthop" in r:
            f["next-hop"] = r["nexthop"]
        src, dst = r.get("ip_src"), r.get("ip_dst")
        out(key(src, dst, proto, f["source-port"], f["destination-port"]),
            {n: v for n, v in f.items() if v is not None})

def pdml(pcap, port):
    x = subprocess.run(["tshark", "-r", pcap, "-d", "udp.port==%s,cflow" % port,
                        "-Y", "udp.dstport==%s" % port, "-T", "pdml"],
                       capture_output=True, text=True).stdout
    root = ET.fromstring(x)
    for pkt in root.iter("packet"):
        cf = next((p for p in pkt.iter("proto") if p.get("name") == "cflow"), None)
        if cf is None:
            continue
        hdr = {c.get("name"): c for c in cf.iter("field") if c.get("name")}
        sets = [c for c in cf if (c.get("show") or "").startswith(("Set ", "FlowSet "))]
        yield hdr, sets

def raw(node):
    return int(node.get("value"), 16)

def fields_of(rec):
    d = {}
    for c in rec.iter("field"):
        n = c.get("name")
        if n and n not in d:
            d[n] = c
    return d

def tshark(pcap, port):
    for hdr, sets in pdml(pcap, port):
        ver = int(hdr["cflow.version"].get("show"))
        up = raw(hdr["cflow.sysuptime"]) if "cflow.sysuptime" in hdr else None
        secs = raw(hdr["cflow.unix_secs"]) if ver == 9 else raw(hdr["cflow.exporttime"])
        for st in sets:
            for rec in st:
                if not (rec.get("show") or "").startswith("Flow "):
                    continue
                d = fields_of(rec)
                if "cflow.srcaddrv6" not in d:
                    continue  # an options record
                g = lambda n: raw(d[n]) if n in d else None
                proto = g("cflow.protocol")
                f = {"packets": g("cflow.packets"), "bytes": g("cflow.octets"),
                     "traffic-class": g("cflow.tos"), "flow-label": g("cflow.ipv6flowlabel"),
                     "tcp-flags": g("cflow.tcpflags"), "source-mask": g("cflow.srcmaskv6"),
                     "destination-mask": g("cflow.dstmaskv6"),
                     "input-interface": g("cflow.inputint"), "output-interface": g("cflow.outputint"),
                     "direction": g("cflow.direction"), "source-vlan": g("cflow.vlanid"),
                     "source-as": g("cflow.srcas"), "destination-as": g("cflow.dstas"),
                     "extension-headers": g("cflow.ipv6_exthdr"),
                     "flow-end-reason": g("cflow.flow_end_reason"),
                     "sampler-id": g("cflow.sampler_id") if "cflow.sampler_id" in d
                                   else g("cflow.selector_id"),
                     "icmp-type": g("cflow.icmp_ipv6_type"), "icmp-code": g("cflow.icmp_ipv6_code")}
                tc = g("cflow.icmp_type_code_ipv4")  # element 32 or 139
                if tc is not None and f["icmp-type"] is None:
                    f["icmp-type"], f["icmp-code"] = tc >> 8, tc & 0xff
                for n, j in (("next-hop", "cflow.nexthopv6"), ("bgp-next-hop", "cflow.bgpnexthopv6")):
                    if j in d:
                        f[n] = str(ipaddress.ip_address(bytes.fromhex(d[j].get("value"))))
                # absolute ms (IPFIX 152/153), else sysUpTime-relative (21/22)
                # placed by the v9 header; IPFIX has no sysUpTime to place them
                for n, a, r in (("first", "cflow.abstimestart", "cflow.timestart"),
                                ("last", "cflow.abstimeend", "cflow.timeend")):
                    node = d.get(a, d.get(r))
                    if node is None:
                        continue
                    if len(node.get("value")) == 16:
                        f[n] = raw(node)  # 8 bytes: flowStart/EndMilliseconds
                    elif ver == 9:
                        f[n] = secs * 1000 - up + raw(node)
                    else:
                        f[n] = "uptime+%d" % raw(node)
                sp, dp = g("cflow.srcport") or 0, g("cflow.dstport") or 0
                f["source-port"], f["destination-port"] = sp, dp
                # the export packet's header time (whole seconds), as ms
                f["export-ms"] = secs * 1000
                src = d["cflow.srcaddrv6"].get("show")
                dst = d["cflow.dstaddrv6"].get("show")
                out(key(src, dst, proto, sp, dp), {n: v for n, v in f.items() if v is not None})

def packets(pcap, port):
    for hdr, sets in pdml(pcap, port):
        ver = int(hdr["cflow.version"].get("show"))
        sid = raw(hdr["cflow.source_id"] if ver == 9 else hdr["cflow.od_id"])
        seq = raw(hdr["cflow.sequence"])
        count = raw(hdr["cflow.count"]) if ver == 9 else "-"
        data = tmpl = 0
        most = 0  # most templates in one (options) template set
        kinds = []
        for st in sets:
            sid_ = int(fields_of(st)["cflow.flowset_id"].get("show"))
            recs = [r for r in st if (r.get("show") or "").startswith(("Flow ", "Template ", "Options Template "))]
            if sid_ >= 256:
                data += sum(1 for r in recs if r.get("show").startswith("Flow "))
                kinds.append("d%d" % sid_)
            else:
                n = sum(1 for r in recs if not r.get("show").startswith("Flow "))
                tmpl += n
                kinds.append("t%d:%d" % (sid_, n))
                if sid_ in (1, 3):
                    most = max(most, n)
        print("v=%d domain=%d seq=%d count=%s data=%d templates=%d opt_per_set=%d sets=%s" %
              (ver, sid, seq, count, data, tmpl, most, ",".join(kinds)))

PORT_FIELDS = ("source-port", "destination-port", "icmp-type", "icmp-code")

SAMPLER_FIELDS = {"cflow.sampler_id": "id", "cflow.selector_id": "id",
                  "cflow.sampler_mode": "mode", "cflow.sampling_algorithm": "mode",
                  "cflow.selector_algorithm": "algorithm",
                  "cflow.sampler_random_interval": "interval",
                  "cflow.sampling_interval": "interval34",
                  "cflow.sampling_packet_interval": "pinterval",
                  "cflow.sampling_packet_space": "pspace",
                  "cflow.sampling_size": "size",
                  "cflow.sampling_population": "population",
                  "cflow.sampling_time_interval": "time_interval",
                  "cflow.sampling_time_space": "time_space",
                  "cflow.direction": "direction"}

def one_in(got):
    """1 in how many packets a sampler record says, RFC 5477's way first
    (305/306, 309/310: the interval and space, the size and population),
    else 50 (v9's), else 34"""
    if got.get("pinterval"):
        return (got["pinterval"] + got.get("pspace", 0)) // got["pinterval"]
    if got.get("size"):
        return got.get("population", 0) // got["size"]
    if "interval" in got:
        return got["interval"]
    return got.get("interval34")

def options(pcap, port):
    """The options records: "sampler scope=IFINDEX direction=D id=I mode=M
    interval=N ..." (whichever of them the record has: 48/302, 49/35,
    304 as algorithm=, 1 in N from 305/306, 309/310, 50 or 34 as
    interval=, 34 as interval34=, 307/308, 61) and "ifname scope=IFINDEX
    name=NAME"."""
    for hdr, sets in pdml(pcap, port):
        for st in sets:
            for rec in st:
                if not (rec.get("show") or "").startswith("Flow "):
                    continue
                d = fields_of(rec)
                if "cflow.srcaddrv6" in d:
                    continue
                scope = next((raw(d[n]) for n in ("cflow.scope_interface", "cflow.inputint",
                                                   "cflow.outputint") if n in d), "-")
                if "cflow.if_name" in d:
                    print("ifname scope=%s name=%s" % (scope, d["cflow.if_name"].get("show")))
                got = {a: raw(d[n]) for n, a in SAMPLER_FIELDS.items() if n in d}
                for a in ("pinterval", "pspace", "size", "population"):
                    if a in got:
                        got["interval"] = one_in(got)
                if set(got) - {"direction"}:
                    print("sampler scope=%s" % scope +
                          "".join(" %s=%s" % (a, got[a]) for a in sorted(got)))

def compare(want, got, field, tol=0):
    """Per-key values of one field: packets and bytes summed, any other
    field the sorted list of its values. The ICMPv6 type/code is part of
    the key only for the port and ICMP fields: the other fields of the
    ICMPv6 flows between two hosts are compared as one group, so that a
    collector that loses the type/code fails on that, not on every field."""
    def table(path):
        t = {}
        for line in open(path):
            w = dict(x.split("=", 1) for x in line.split())
            k = w["key"]
            if field not in PORT_FIELDS and k.split("/")[2] == "58":
                k = k.rsplit("/", 1)[0] + "/*"
            v = w.get(field, "-")
            if field in ("packets", "bytes"):
                t[k] = t.get(k, 0) + (int(v) if v.isdigit() else 0)
            else:
                t.setdefault(k, []).append(int(v) if v.lstrip("-").isdigit() else v)
        for k, v in t.items():
            if isinstance(v, list):
                v.sort(key=lambda x: (isinstance(x, str), str(x) if isinstance(x, str) else x))
        return t
    def near(a, b):
        if isinstance(a, int) and isinstance(b, int):
            return abs(a - b) <= tol
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            return all(near(x, y) for x, y in zip(a, b))
        return a == b
    def show(v):
        return ",".join(map(str, v)) if isinstance(v, list) else str(v)
    w, g = table(want), table(got)
    bad = []
    for k in sorted(set(w) | set(g)):
        a, b = w.get(k, "(no flow)"), g.get(k, "(no flow)")
        if isinstance(a, list) and b != "(no flow)" and all(x == "-" for x in a):
            continue  # a field the flow does not have (ICMP type of a TCP flow)
        if not near(a, b):
            bad.append("    %s: want %s, got %s" % (k, show(a), show(b)))
    for b in bad[:6]:
        print(b)
    if len(bad) > 6:
        print("    ... %d more" % (len(bad) - 6))
    sys.exit(1 if bad else 0)

verb, args = sys.argv[1], sys.argv[2:]
if verb == "expect":
    expect(args[0], args[1], int(args[2]), int(args[3]))
elif verb == "nfdump":
    nfdump(args[0])
elif verb == "nfacctd":
    nfacctd(args[0])
elif verb == "tshark":
    tshark(args[0], args[1])
elif verb == "options":
    options(args[0], args[1])
elif verb == "packets":
    packets(args[0], args[1])
elif verb == "compare":
    compare(args[0], args[1], args[2], int(args[3]) if len(args) > 3 else 0)
PY
}

# il_fields WHO WANT GOT [TOLERANCE_MS] FIELD...: one check per field: the
# per-flow values WHO shows equal the expected ones
il_fields() {
	local who=$1 want=$2 got=$3 tol=0 f
	shift 3
	case $1 in [0-9]*) tol=$1; shift ;; esac
	if [ ! -s "$got" ]; then
		fail "$who: no flow record at all, so none of $* (checks not run)"
		return
	fi
	for f in "$@"; do
		if il_py compare "$want" "$got" "$f" "$tol" >"$got.$f.diff"; then
			ok "$who: $f of every flow as expected"
		else
			fail "$who: $f differs"
			cat "$got.$f.diff"
		fi
	done
}

# il_ipfixdump WHO PCAP PORT: CERT libfixbuf's ipfixDump, a strict RFC
# 7011/7012 reader, reads the IPFIX messages sent to PORT in PCAP one
# after the other (an RFC 5655 file): no complaint, and as many data
# records (flows and options) as tshark decodes there
il_ipfixdump() {
	local who=$1 pcap=$2 port=$3 f=$T/ipfixdump.$3 want got
	if ! command -v ipfixDump >/dev/null; then
		fail "$who: ipfixDump is not installed (tools/install-deps)"
		return
	fi
	tshark -r "$pcap" -Y "udp.dstport == $port" -T fields -e udp.payload \
		2>/dev/null | xxd -r -p >"$f"
	ipfixDump --in "$f" >"$f.txt" 2>"$f.err"
	check "$who: ipfixDump reads every message (exit 0), no complaint" \
		[ $? -eq 0 -a -s "$f" -a ! -s "$f.err" ]
	want=$(il_py packets "$pcap" "$port" | grep -o 'data=[0-9]*' |
		awk -F= '{ n += $2 } END { print n + 0 }')
	got=$(sed -n 's/.*File Stats: .* \([0-9]*\) Data Records.*/\1/p' "$f.txt")
	check "$who: ipfixDump reads the $want data records tshark does ($got)" \
		[ -n "$got" -a "$got" = "$want" -a "$want" -gt 0 ]
}

# lib.sh's EXIT trap kills what the test started with SIGKILL; nfacctd's
# plugin processes are children of its core process, so take them too.
il_cleanup() {
	local p
	for p in $PIDS; do
		kill -9 $(pgrep -P "$p" 2>/dev/null) 2>/dev/null
	done
	cleanup
}
trap il_cleanup EXIT
