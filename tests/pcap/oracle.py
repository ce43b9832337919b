#!/usr/bin/python3
"""tests/pcap/oracle.py: the expectations of the pcap table and of the wire
tests, from tshark and from the rules, never from netstreamd.

  oracle.py packets PCAP          tshark's reading of a capture, one line a
                                  packet (debugging aid)
  oracle.py expect CONF           the flows CONF's record must export for
                                  its capture file(s): tshark's per-packet
                                  reading of the capture, with DESIGN.md's
                                  rules (match key, aging, sampling, cache
                                  policy, routes table) applied here
  oracle.py wire PCAP PORT...     the data records of an export capture, as
                                  tshark decodes them (-d udp.port==P,cflow)
  oracle.py wirecheck CONF PCAP PORT...
                                  the wire rules of DESIGN.md checked on
                                  tshark's decode: template field IDs and
                                  lengths (the DESIGN.md table), header
                                  Count, sequence numbers, observation
                                  domain, set padding, MTU

Flow lines are "name=value ..." in the record's order (match, then collect);
first/last-switched are in ms since the first flow's start, so the line does
not depend on the exporter's boot time (v9 sysUpTime) or on absolute time
(IPFIX flowStartMilliseconds). Only the standard library: run with
/usr/bin/python3 (the python3 first on PATH is not Debian's).
"""
import ipaddress
import json
import re
import subprocess
import sys
from datetime import datetime, timezone

# ---------------------------------------------------------------------
# The DESIGN.md field table, written from DESIGN.md (not from
# include/fields.h): name -> (v9 id, v9 bytes, IPFIX id, IPFIX bytes).
# A width of "if" is the interface_width setting (16 -> 2, 32 -> 4 bytes).
DESIGN = {
    "source-address": (27, 16, 27, 16),
    "destination-address": (28, 16, 28, 16),
    "source-mask": (29, 1, 29, 1),
    "destination-mask": (30, 1, 30, 1),
    "protocol": (4, 1, 4, 1),
    "traffic-class": (5, 1, 5, 1),
    "flow-label": (31, 3, 31, 3),
    "source-port": (7, 2, 7, 2),
    "destination-port": (11, 2, 11, 2),
    "input-interface": (10, "if", 10, "if"),
    "output-interface": (14, "if", 14, "if"),
    "direction": (61, 1, 61, 1),
    "tcp-flags": (6, 1, 6, 1),
    "source-vlan": (58, 2, 58, 2),
    "source-as": (16, "if", 16, "if"),
    "destination-as": (17, "if", 17, "if"),
    "next-hop": (62, 16, 62, 16),
    "bgp-next-hop": (63, 16, 63, 16),
    "packets": (2, 8, 2, 8),
    "bytes": (1, 8, 1, 8),
    "first-switched": (22, 4, 152, 8),
    "last-switched": (21, 4, 153, 8),
    "flow-end-reason": (136, 1, 136, 1),
    "extension-headers": (64, 4, 64, 4),
}
# the ICMP type/code element a record with ports carries (DESIGN.md:
# source/destination-port row): v9 ICMP_TYPE (32), IPFIX
# icmpTypeCodeIPv6 (139), 2 bytes, type * 256 + code
ICMP_ELEMENT = {"9": (32, 2), "ipfix": (139, 2)}
# the sampler id in sampled data records: v9 FLOW_SAMPLER_ID (48); IPFIX
# selectorId (302, RFC 7270 and 5477), 8 bytes as pmacct reads it
SAMPLER_ID = {"9": (48, 1), "ipfix": (302, 8)}

# tshark's name of each field in a decoded record
TSHARK = {
    "source-address": "cflow.srcaddrv6",
    "destination-address": "cflow.dstaddrv6",
    "source-mask": "cflow.srcmaskv6",
    "destination-mask": "cflow.dstmaskv6",
    "protocol": "cflow.protocol",
    "traffic-class": "cflow.tos",
    "flow-label": "cflow.ipv6flowlabel",
    "source-port": "cflow.srcport",
    "destination-port": "cflow.dstport",
    "input-interface": "cflow.inputint",
    "output-interface": "cflow.outputint",
    "direction": "cflow.direction",
    "tcp-flags": "cflow.tcpflags",
    "source-vlan": "cflow.vlanid",
    "source-as": "cflow.srcas",
    "destination-as": "cflow.dstas",
    "next-hop": "cflow.nexthopv6",
    "bgp-next-hop": "cflow.bgpnexthopv6",
    "packets": "cflow.packets",
    "bytes": "cflow.octets",
    "flow-end-reason": "cflow.flow_end_reason",
    "extension-headers": "cflow.ipv6_exthdr",
    "sampler-id": "cflow.sampler_id",
}

# RFC 5102 ipv6ExtensionHeaders bits, "bit N" read as the value 1 << N
# (the reading include/decode.h documents): FRA1 1, RH 2, FRA0 3, UNK 4,
# HOP 6, DST 7, PAY 8, AH 9, ESP 10. Headers with no bit of their own
# (mobility, HIP, shim6) are UNK: "not supported".
EXT_BIT = {
    "ipv6.hopopts": 1 << 6,
    "ipv6.dstopts": 1 << 7,
    "ipv6.routing": 1 << 2,
    "ah": 1 << 9,
    "mipv6": 1 << 4,
    "hip": 1 << 4,
    "shim6": 1 << 4,
}
# tshark's next-header field of each extension header protocol
EXT_NXT = {
    "ipv6.hopopts": "ipv6.hopopts.nxt",
    "ipv6.dstopts": "ipv6.dstopts.nxt",
    "ipv6.routing": "ipv6.routing.nxt",
    "ipv6.fraghdr": "ipv6.fraghdr.nxt",
    "ah": "ah.next_header",
    "mipv6": "mip6.proto",
    "hip": "hip.proto",
    "shim6": "shim6.nxt",
}
L4 = {"tcp": 6, "udp": 17, "icmpv6": 58, "esp": 50, "sctp": 132,
      "udplite": 136, "ipcomp": 108}
TH_FIN, TH_RST = 0x01, 0x04


def die(msg):
    print("oracle: " + msg, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------------
# libconfig, as much of it as the test configs use
def libconf(path):
    text = open(path).read()
    text = re.sub(r'("(?:[^"\\]|\\.)*")|#[^\n]*|//[^\n]*', lambda m: m.group(1) or "", text)
    toks = re.findall(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][-A-Za-z0-9_]*|-?0x[0-9a-fA-F]+|-?[0-9.]+|[=:;,{}()\[\]]', text)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take():
        pos[0] += 1
        return toks[pos[0] - 1]

    def value():
        t = take()
        if t == "{":
            return group("}")
        if t in "([":
            end = ")" if t == "(" else "]"
            out = []
            while peek() != end:
                out.append(value())
                if peek() == ",":
                    take()
            take()
            return out
        if t.startswith('"'):
            s = json.loads(t)
            while peek() and peek().startswith('"'):
                s += json.loads(take())
            return s
        if t in ("true", "false"):
            return t == "true"
        return int(t, 0) if re.match(r"-?(0x)?[0-9a-fA-F]+$", t) else float(t)

    def group(end):
        d = {}
        while peek() is not None and peek() != end:
            name = take()
            take()  # = or :
            d[name] = value()
            if peek() in (";", ","):
                take()
        if end:
            take()
        return d

    return group(None)


def get(d, path, default=None):
    for p in path.split("."):
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


# ---------------------------------------------------------------------
# tshark's reading of a capture, one dict a packet
PKT_FIELDS = ["frame.time_epoch", "frame.protocols", "vlan.id", "ieee8021ad.id",
              "ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.tclass", "ipv6.flow",
              "ipv6.nxt", "ipv6.fraghdr.offset", "tcp.srcport", "tcp.dstport",
              "tcp.flags", "tcp.urgent_pointer", "udp.srcport", "udp.dstport",
              "udp.checksum", "icmpv6.type", "icmpv6.code", "icmpv6.checksum",
              "sctp.srcport", "sctp.dstport"] + sorted(set(EXT_NXT.values()))


def tshark_packets(pcap):
    cmd = ["tshark", "-r", pcap, "-o", "ipv6.defragment:FALSE",
           "-o", "tcp.analyze_sequence_numbers:FALSE",
           "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in PKT_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True, check=True).stdout
    pkts = []
    for idx, line in enumerate(out.splitlines()):
        v = dict(zip(PKT_FIELDS, [x.split("|") if x else [] for x in line.split("\t")]))
        pkts.append(packet(idx, v))
    return pkts


def first(v, name, conv=str, default=None):
    x = v.get(name) or []
    return conv(x[0]) if x else default


def packet(idx, v):
    """One frame as a NetStream exporter counts it; p["ipv6"] False when its
    first network header is not IPv6 or its L4 header is not all there."""
    ts = v["frame.time_epoch"][0]
    sec, _, frac = ts.partition(".")
    # ms since the epoch, truncated (as sysUpTime and flowStartMilliseconds
    # count whole ms), from the text: no float rounding
    p = {"index": idx, "time": float(ts), "ms": int(sec) * 1000 + int((frac + "000")[:3]),
         "ipv6": False}
    protos = v["frame.protocols"][0].split(":")
    net = [x for x in protos if x in ("ip", "ipv6")]
    if not net or net[0] != "ipv6":
        return p
    # the first tag of the frame, whichever TPID it has
    tags = [x for x in protos if x in ("vlan", "ieee8021ad")]
    p["vlan"] = 0
    if tags:
        p["vlan"] = first(v, "vlan.id" if tags[0] == "vlan" else "ieee8021ad.id", int, 0)
    p["src"] = str(ipaddress.IPv6Address(v["ipv6.src"][0]))
    p["dst"] = str(ipaddress.IPv6Address(v["ipv6.dst"][0]))
    p["bytes"] = int(v["ipv6.plen"][0]) + 40
    p["tc"] = int(v["ipv6.tclass"][0], 16)
    p["label"] = int(v["ipv6.flow"][0], 16)
    # walk the chain in the order tshark dissected it
    after = protos[protos.index("ipv6") + 1:]
    nh = int(v["ipv6.nxt"][0])
    ext = 0
    seen = {}
    proto = None
    later_fragment = False
    for name in after:
        if name in EXT_NXT:
            i = seen.get(name, 0)
            seen[name] = i + 1
            vals = v.get(EXT_NXT[name]) or []
            nh = int(vals[i]) if i < len(vals) else nh
            if name == "ipv6.fraghdr":
                off = int(v["ipv6.fraghdr.offset"][i])
                ext |= (1 << 1) if off else (1 << 3)
                later_fragment = off != 0
                if later_fragment:
                    proto = nh
                    break
            else:
                ext |= EXT_BIT[name]
            continue
        if name in L4:
            proto = L4[name]
            if name == "esp":
                ext |= 1 << 10
            elif name == "ipcomp":
                ext |= 1 << 8
        break
    if proto is None:
        proto = nh
    p.update(proto=proto, ext=ext, sport=0, dport=0, flags=0, icmp=0)
    if not later_fragment:
        if proto == 6:
            if not v.get("tcp.urgent_pointer"):
                return p  # TCP header cut by the capture
            p["sport"] = first(v, "tcp.srcport", int)
            p["dport"] = first(v, "tcp.dstport", int)
            p["flags"] = first(v, "tcp.flags", lambda x: int(x, 16))
        elif proto == 17:
            if not v.get("udp.checksum"):
                return p
            p["sport"] = first(v, "udp.srcport", int)
            p["dport"] = first(v, "udp.dstport", int)
        elif proto == 58:
            if not v.get("icmpv6.checksum"):
                return p
            p["icmp"] = first(v, "icmpv6.type", int) * 256 + first(v, "icmpv6.code", int)
            p["dport"] = p["icmp"]
        elif proto == 132 and v.get("sctp.srcport"):
            p["sport"] = first(v, "sctp.srcport", int)
            p["dport"] = first(v, "sctp.dstport", int)
    p["ipv6"] = True
    return p


# ---------------------------------------------------------------------
# the routes table (etc/routes.txt format, read here from its comment):
#   PREFIX/LEN NEXT_HOP [BGP_NEXT_HOP [ORIGIN_AS [PEER_AS]]], "-" unknown;
# the longest matching prefix wins
def read_routes(path):
    routes = []
    if not path:
        return routes
    for line in open(path):
        f = line.split("#")[0].split()
        if not f:
            continue
        f += ["-"] * (5 - len(f))
        routes.append((ipaddress.IPv6Network(f[0]), f[1], f[2],
                       0 if f[3] == "-" else int(f[3]), 0 if f[4] == "-" else int(f[4])))
    return routes


def lookup(routes, addr):
    a = ipaddress.IPv6Address(addr)
    best = None
    for r in routes:
        if a in r[0] and (best is None or r[0].prefixlen > best[0].prefixlen):
            best = r
    return best


def hop(x):
    return "::" if x == "-" else str(ipaddress.IPv6Address(x))


# ---------------------------------------------------------------------
class Plan:
    """What the config asks, with DESIGN.md's defaults."""

    def __init__(self, conf):
        self.c = conf
        ex = get(conf, "system.export", {})
        self.version = str(ex.get("version", "9"))
        self.as_mode = ex.get("as", "none")
        self.bgp_nexthop = bool(ex.get("bgp_nexthop", False))
        self.ifw = 4 if str(ex.get("interface_width", "16")) == "32" else 2
        self.mtu = int(ex.get("mtu", 1400))
        self.refresh_pkts = int(ex.get("template_refresh_packets", 20))
        aging = get(conf, "system.aging", {})
        if "active_seconds" in aging:
            self.active = float(aging["active_seconds"])
        else:
            self.active = 60.0 * aging.get("active_minutes", 30)
        self.inactive = float(aging.get("inactive_seconds", 30))
        self.cache_entries = int(get(conf, "cache.entries", 1048576))
        self.cache_full = get(conf, "cache.full", "evict-oldest")
        self.routes = read_routes(get(conf, "routes.file"))
        self.records = {r["name"]: r for r in conf.get("records", [])}

    def record(self, name=None):
        return self.records[name or get(self.c, "system.apply_record")]

    def fields(self, rec):
        """The fields of a record's data records, in record order, with
        the ones the export settings add to every record."""
        f = list(rec.get("match", [])) + list(rec.get("collect", []))
        if self.as_mode != "none":
            f += [x for x in ("source-as", "destination-as") if x not in f]
        if self.bgp_nexthop and "bgp-next-hop" not in f:
            f.append("bgp-next-hop")
        return f

    def icmp(self, rec):
        """DESIGN.md: ICMPv6 type/code is in destination-port, and the
        template also carries the element collectors read. It means
        something for a record that tells ICMPv6 flows apart: one that
        matches protocol and destination-port."""
        m = rec.get("match", [])
        return "protocol" in m and "destination-port" in m

    def sampler_id(self, iface, direction):
        """The sampler id (48) of an interface direction: one per distinct
        (mode, value), numbered from 1 in the order of the interfaces and,
        in each, inbound then outbound (as cfgd makes the bindings); 0 when
        the direction samples nothing."""
        ids = {}
        for ifc in self.c.get("interfaces", []):
            for d in ("inbound", "outbound"):
                if d not in ifc.get("netstream", []):
                    continue
                s = sampler_of(self, ifc, d)
                if s and s not in ids:
                    ids[s] = len(ids) + 1
                if ifc is iface and d == direction:
                    return ids.get(s, 0) if s else 0
        return 0

    def record_sampled(self, rec):
        """A record applied to any sampled interface direction carries the
        sampler id (48) in all its rows: 0 where nothing samples."""
        for ifc in self.c.get("interfaces", []):
            if self.record(ifc.get("apply_record")) is not rec:
                continue
            for d in ifc.get("netstream", []):
                if sampler_of(self, ifc, d):
                    return True
        return False

    def row_fields(self, rec, sampled):
        """The fields of a data record as the template orders them:
        match, collect, the ICMP element, AS and BGP next hop, sampler id."""
        f = list(rec.get("match", [])) + list(rec.get("collect", []))
        if self.icmp(rec):
            f.append("icmp-type-code")
        f += [x for x in self.fields(rec) if x not in f]
        if sampled:
            f.append("sampler-id")
        return f

    def template(self, rec, version, sampled):
        """The (id, length) pairs a template must hold (DESIGN.md)."""
        col = 0 if version == "9" else 2
        out = []
        for name in self.fields(rec):
            d = DESIGN[name]
            ln = d[col + 1]
            out.append((d[col], self.ifw if ln == "if" else ln))
        if self.icmp(rec):
            out.append(ICMP_ELEMENT["9" if version == "9" else "ipfix"])
        if sampled:
            out.append(SAMPLER_ID["9" if version == "9" else "ipfix"])
        return sorted(out)


def sampler_of(plan, iface, direction):
    s = get(iface, "sampler." + direction) or get(plan.c, "system.sampler." + direction)
    if not s:
        return None
    return (s["mode"], int(s["value"]))


def sample(pkts, smp):
    """The packets a sampler keeps, by its rule:
    fix-packets N: the first of every N packets (1st, N+1st, ...);
    fix-time T: the first packet, then the first at or past T ms after the
    last kept one; random-packets: unknowable, all kept (the caller checks
    bounds instead)."""
    if smp is None or smp[0] == "random-packets":
        return pkts
    mode, n = smp
    if mode == "fix-packets":
        return [p for i, p in enumerate(pkts) if i % n == 0]
    out, nxt = [], None
    for p in pkts:
        if nxt is None or p["time"] >= nxt - 1e-9:
            out.append(p)
            nxt = p["time"] + n / 1000.0
    return out


def key_value(plan, p, name, iface, outbound):
    if name == "source-address":
        return p["src"]
    if name == "destination-address":
        return p["dst"]
    if name in ("source-mask", "destination-mask", "source-as", "destination-as"):
        r = lookup(plan.routes, p["src"] if name.startswith("source") else p["dst"])
        if name.endswith("mask"):
            return r[0].prefixlen if r else 0
        if not r or plan.as_mode == "none":
            return 0
        a = r[3] if plan.as_mode == "origin" else r[4]
        # a 4-byte AS in a 2-byte field is AS_TRANS (RFC 6793)
        return 23456 if plan.ifw == 2 and a > 65535 else a
    if name in ("next-hop", "bgp-next-hop"):
        r = lookup(plan.routes, p["dst"])
        if not r:
            return "::"
        return hop(r[1] if name == "next-hop" else r[2])
    if name == "protocol":
        return p["proto"]
    if name == "traffic-class":
        return p["tc"]
    if name == "flow-label":
        return p["label"]
    if name == "source-port":
        return p["sport"]
    if name == "destination-port":
        return p["dport"]
    if name == "input-interface":
        return 0 if outbound else iface["ifindex"]
    if name == "output-interface":
        return iface["ifindex"] if outbound else 0
    if name == "direction":
        return 1 if outbound else 0
    if name == "tcp-flags":
        return p["flags"]
    if name == "source-vlan":
        return p["vlan"]
    if name == "extension-headers":
        return p["ext"]
    die("no rule for match field " + name)


def aggregate(plan, rec, iface, pkts, outbound):
    """The flow cache by DESIGN.md's rules, on tshark's packets: a packet
    at or past its flow's last packet + inactive, or first packet + active,
    starts a new flow (reasons 1 idle, 2 active, whichever deadline came
    first); TCP FIN or RST ends a flow unless it is its first packet (3);
    a full cache evicts its oldest flow, the one that started first (5),
    or drops the new one; at end of file every flow left is forced out (4)."""
    match = rec.get("match", [])
    keyf = [f for f in plan.fields(rec) if f in DESIGN and f not in
            ("packets", "bytes", "first-switched", "last-switched", "flow-end-reason")
            and (f in match or f in ("source-as", "destination-as", "bgp-next-hop"))]
    flows = {}  # key -> flow (dict order: oldest, first created, first)
    out = []

    def expire(k, reason):
        f = flows.pop(k)
        f["reason"] = reason
        out.append(f)

    def deadline(f):
        return min(f["last"] + plan.inactive, f["first"] + plan.active)

    # a bound below every flow's deadline: the scan runs only when the
    # clock reaches it (updates only move deadlines later)
    earliest = float("inf")
    for p in pkts:
        t = p["time"]
        if t >= earliest - 1e-9:
            for k in [k for k, f in flows.items() if t >= deadline(f) - 1e-9]:
                f = flows[k]
                idle = f["last"] + plan.inactive <= f["first"] + plan.active
                expire(k, 1 if idle else 2)
            earliest = min((deadline(f) for f in flows.values()), default=float("inf"))
        vals = tuple(key_value(plan, p, n, iface, outbound) for n in keyf)
        k = vals
        if k not in flows:
            if len(flows) >= plan.cache_entries:
                if plan.cache_full == "drop-new":
                    continue
                expire(next(iter(flows)), 5)
            flows[k] = {"key": dict(zip(keyf, vals)), "packets": 0, "bytes": 0,
                        "first": t, "last": t, "flags": 0, "first_ms": p["ms"]}
            earliest = min(earliest, deadline(flows[k]))
        f = flows[k]
        f["packets"] += 1
        f["bytes"] += p["bytes"]
        f["last"] = t
        f["last_ms"] = p["ms"]
        f["flags"] |= p["flags"]
        if p["proto"] == 6 and p["flags"] & (TH_FIN | TH_RST) and f["packets"] > 1:
            expire(k, 3)
    for k in list(flows):
        expire(k, 4)
    return out


def flow_line(fields, f):
    vals = dict(f["key"])
    vals["packets"] = f["packets"]
    vals["bytes"] = f["bytes"]
    vals["first-switched"] = f["first_ms"]
    vals["last-switched"] = f["last_ms"]
    vals["flow-end-reason"] = f["reason"]
    if "tcp-flags" not in vals:
        vals["tcp-flags"] = f["flags"]
    # ICMP_TYPE (32): type * 256 + code of an ICMPv6 flow, else 0
    if "icmp-type-code" in fields:
        vals["icmp-type-code"] = (vals["destination-port"]
                                  if int(vals["protocol"]) == 58 else 0)
    vals["sampler-id"] = f.get("sampler_id", 0)
    return " ".join("%s=%s" % (n, vals[n]) for n in fields)


def normalize(lines):
    """first/last-switched made relative to the earliest start of the
    lines of the same domain (each slot has its own clock, the capture's)."""
    recs = []
    for ln in lines:
        recs.append([kv.split("=", 1) for kv in ln.split()])
    base = {}
    for r in recs:
        d = dict(r)
        if "first-switched" in d:
            dom = d.get("domain")
            base[dom] = min(base.get(dom, int(d["first-switched"])), int(d["first-switched"]))
    out = []
    for r in recs:
        b = base.get(dict(r).get("domain"), 0)
        out.append(" ".join("%s=%s" % (k, int(v) - b if k in ("first-switched", "last-switched") else v)
                            for k, v in r))
    return sorted(out)


def slot_of(iface):
    """an interface's slot: its own, or the first number of its name"""
    if "slot" in iface:
        return int(iface["slot"])
    return int(re.search(r"[0-9]+", iface["name"]).group(0))


def expect(conf_path):
    conf = libconf(conf_path)
    plan = Plan(conf)
    lines = []
    for iface in conf.get("interfaces", []):
        if "file" not in iface:
            die("expect: interface %s has no capture file" % iface.get("name"))
        rec = plan.record(iface.get("apply_record"))
        pkts = tshark_packets(iface["file"])
        outbound = iface.get("file_direction", "inbound") == "outbound"
        direction = "outbound" if outbound else "inbound"
        if direction not in iface.get("netstream", []):
            continue
        kept = sample([p for p in pkts], sampler_of(plan, iface, direction))
        kept = [p for p in kept if p["ipv6"]]
        sid = plan.sampler_id(iface, direction)
        fields = plan.row_fields(rec, plan.record_sampled(rec))
        for f in aggregate(plan, rec, iface, kept, outbound):
            f["sampler_id"] = sid
            lines.append("domain=%d " % slot_of(iface) + flow_line(fields, f))
    return normalize(lines)


# ---------------------------------------------------------------------
# the export, as tshark decodes it
def tshark_json(pcap, ports):
    cmd = ["tshark", "-r", pcap, "-T", "json", "--no-duplicate-keys"]
    for p in ports:
        cmd += ["-d", "udp.port==%s,cflow" % p]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True, check=True).stdout
    return json.loads(out) if out.strip() else []


def one(x):
    return x[0] if isinstance(x, list) else x


def flatten(d, out):
    for k, v in d.items():
        if isinstance(v, dict):
            flatten(v, out)
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for x in v:
                flatten(x, out)
        else:
            out.setdefault(k, v)
    return out


def abs_ms(s):
    """tshark's absolute time text to ms since the epoch."""
    s = re.sub(r"\s+", " ", s.replace(" UTC", ""))
    m = re.match(r"(\w+ \d+, \d+ \d+:\d+:\d+)(?:\.(\d+))?", s)
    t = datetime.strptime(m.group(1), "%b %d, %Y %H:%M:%S").replace(tzinfo=timezone.utc)
    frac = (m.group(2) or "0")[:3].ljust(3, "0")
    return int(t.timestamp()) * 1000 + int(frac)


class Export:
    """Every export packet of a capture, with its sets, as tshark read it."""

    def __init__(self, pcap, ports):
        self.packets = []
        for fr in tshark_json(pcap, ports):
            lay = fr["_source"]["layers"]
            if "cflow" not in lay:
                continue
            udp = lay.get("udp", {})
            ip = lay.get("ip", lay.get("ipv6", {}))
            c = lay["cflow"]
            if isinstance(c, list):
                c = c[0]
            pkt = {
                "frame": int(one(lay["frame"]["frame.number"])),
                "src": one(ip.get("ip.src", ip.get("ipv6.src"))) + ":" + one(udp["udp.srcport"]),
                "dport": int(one(udp["udp.dstport"])),
                "udp_len": int(one(udp["udp.length"])),
                "payload": bytes.fromhex(one(udp.get("udp.payload", "")).replace(":", "")),
                "version": int(one(c["cflow.version"])),
                "count": int(one(c.get("cflow.count", "-1"))),
                "sequence": int(one(c["cflow.sequence"])),
                "domain": int(one(c.get("cflow.source_id", c.get("cflow.od_id")))),
                "sets": [],
                "malformed": "_ws.malformed" in lay,
            }
            if pkt["version"] == 9:
                pkt["uptime_ms"] = int(round(float(one(c["cflow.sysuptime"])) * 1000))
                pkt["secs"] = int(one(c["cflow.timestamp_tree"]["cflow.unix_secs"]))
            for k, v in c.items():
                if not (k.startswith("FlowSet") or k.startswith("Set")):
                    continue
                for s in (v if isinstance(v, list) else [v]):
                    pkt["sets"].append(self.read_set(s))
            self.packets.append(pkt)

    @staticmethod
    def read_set(s):
        sid = int(one(s["cflow.flowset_id"]))
        st = {"id": sid, "length": int(one(s["cflow.flowset_length"])),
              "templates": [], "records": []}
        for k, v in s.items():
            for x in (v if isinstance(v, list) else [v]):
                if not isinstance(x, dict):
                    continue
                if k.startswith("Template") or k.startswith("Options Template"):
                    st["templates"].append(Export.read_template(x))
                elif k.startswith("Flow "):
                    st["records"].append(flatten(x, {}))
        return st

    @staticmethod
    def read_template(t):
        fields, scopes = [], []
        for k, v in t.items():
            for x in (v if isinstance(v, list) else [v]):
                if not isinstance(x, dict):
                    continue
                ln = int(one(x.get("cflow.template_field_length", "0")))
                if "cflow.scope_field_type" in x:
                    scopes.append((int(one(x["cflow.scope_field_type"])), ln))
                elif "cflow.template_ipfix_field_type" in x or "cflow.template_field_type" in x:
                    ty = one(x.get("cflow.template_ipfix_field_type", x.get("cflow.template_field_type")))
                    fields.append((int(ty), ln))
        sc = int(one(t.get("cflow.option_scope_length", t.get("cflow.template_scope_field_count", "0"))))
        return {"id": int(one(t["cflow.template_id"])), "fields": fields, "scopes": scopes,
                "scope_count": sc}


def record_line(rec, fields):
    vals = {}
    for name in fields:
        if name in ("first-switched", "last-switched"):
            start = name == "first-switched"
            rel = rec.get("cflow.timestart" if start else "cflow.timeend")
            ab = rec.get("cflow.abstimestart" if start else "cflow.abstimeend")
            if ab is not None:
                vals[name] = abs_ms(one(ab))
            elif rel is not None:
                vals[name] = int(round(float(one(rel)) * 1000))
            else:
                vals[name] = "MISSING"
            continue
        if name == "icmp-type-code" and "cflow.icmp_type_code_ipv4" not in rec:
            # 139 (IPFIX): tshark shows its type and code apart
            t, c = rec.get("cflow.icmp_ipv6_type"), rec.get("cflow.icmp_ipv6_code")
            vals[name] = "MISSING" if t is None or c is None else \
                int(one(t)) * 256 + int(one(c))
            continue
        if name == "icmp-type-code":  # 32 (v9): one 16-bit value
            v = rec.get("cflow.icmp_type_code_ipv4")
        elif name == "sampler-id" and "cflow.sampler_id" not in rec:
            v = rec.get("cflow.selector_id")  # IPFIX: 302
        else:
            v = rec.get(TSHARK[name])
        if v is None:
            vals[name] = "MISSING"
            continue
        v = one(v)
        if name in ("traffic-class", "tcp-flags", "extension-headers",
                    "icmp-type-code"):
            v = int(v, 16)
        vals[name] = v
    return " ".join("%s=%s" % (n, vals[n]) for n in fields)


def record_lengths(exp):
    """(exporter, domain, template id) -> record length, by the last
    template (data or options) that defined it"""
    out = {}
    for p in exp.packets:
        for s in p["sets"]:
            if s["id"] < 256:
                for t in s["templates"]:
                    out[(p["src"], p["domain"], t["id"])] = \
                        sum(ln for _, ln in t["fields"] + t["scopes"])
    return out


def wire_lines(pcap, ports, conf_path):
    plan = Plan(libconf(conf_path))
    exp = Export(pcap, ports)
    lines = []
    for p in exp.packets:
        for s in p["sets"]:
            if s["id"] < 256:
                continue
            for r in s["records"]:
                if "cflow.srcaddrv6" not in r and "cflow.dstaddrv6" not in r and \
                        "cflow.packets" not in r:
                    continue  # an options data record
                rec = plan.record()
                fields = plan.row_fields(rec, "cflow.sampler_id" in r or
                                         "cflow.selector_id" in r)
                lines.append("domain=%d " % p["domain"] + record_line(r, fields))
    return normalize(lines)


# ---------------------------------------------------------------------
class Checks:
    def __init__(self):
        self.fails = 0

    def check(self, what, cond, detail=""):
        if cond:
            print("ok: " + what)
        else:
            self.fails += 1
            print("FAIL: " + what + (": " + detail if detail else ""))


def template_checks(ck, plan, exp, opts):
    """Each data template against the DESIGN.md table, one check an
    element, so that a wrong or missing element is named."""
    rec = plan.record(opts.get("record"))
    # the template is the record's: with the sampler id wherever the
    # record is applied to a sampled direction (sampled_domains names
    # where that is, for the labels)
    sampled = set(opts.get("sampled_domains", [])) if plan.record_sampled(rec) else set()
    everywhere = plan.record_sampled(rec)
    groups = {}
    for p in exp.packets:
        ver = "9" if p["version"] == 9 else "ipfix"
        for s in p["sets"]:
            if s["id"] in (0, 2):
                for t in s["templates"]:
                    groups.setdefault((ver, everywhere), []).append((p["frame"], t))
    ck.check("data templates seen: %s" % ", ".join(
        "%s%s %d" % (v, " sampled" if sm else "", len(ts)) for (v, sm), ts in sorted(groups.items())),
        len(groups) > 0)
    for (ver, sm), ts in sorted(groups.items()):
        col = 0 if ver == "9" else 2
        want = []
        for name in plan.fields(rec):
            d = DESIGN[name]
            want.append((name, d[col], plan.ifw if d[col + 1] == "if" else d[col + 1]))
        if plan.icmp(rec):
            want.append(("ICMP type/code element", ) + ICMP_ELEMENT[ver])
        if sm:
            want.append(("sampler id", ) + SAMPLER_ID[ver])
        label = "%s template%s" % ("v9" if ver == "9" else "IPFIX", " (sampled interface)" if sm else "")
        for name, i, ln in want:
            bad = [(fr, t["id"], [x for x in t["fields"] if x[0] == i]) for fr, t in ts
                   if t["fields"].count((i, ln)) != 1]
            ck.check("%s: %s is element %d, %d bytes (%d templates)" % (label, name, i, ln, len(ts)),
                     not bad, "frame %s template %s has %s" % bad[0] if bad else "")
        ids = [(i, ln) for _, i, ln in want]
        extra = [(fr, t["id"], [x for x in t["fields"] if x not in ids]) for fr, t in ts
                 if [x for x in t["fields"] if x not in ids]]
        ck.check("%s: no other element" % label, not extra,
                 "frame %s template %s: %s" % extra[0] if extra else "")

    # one options template per options set (nfdump and pmacct read only the first)
    multi = [(p["frame"], len(s["templates"])) for p in exp.packets for s in p["sets"]
             if s["id"] in (1, 3) and len(s["templates"]) != 1]
    ck.check("one options template per options template set", not multi,
             "frame, templates: %s" % multi[:5])


def sampledcheck(conf_path, got_path):
    """A random-packets sampler keeps each packet with probability 1/N:
    which ones is unknowable, but what it exports must be made of the
    capture's packets, and the count must fit the binomial law."""
    conf = libconf(conf_path)
    plan = Plan(conf)
    ck = Checks()
    iface = conf["interfaces"][0]
    rec = plan.record(iface.get("apply_record"))
    smp = sampler_of(plan, iface, "inbound")
    pkts = [p for p in tshark_packets(iface["file"]) if p["ipv6"]]
    keyf = [f for f in rec["match"]]
    bykey = {}
    for p in pkts:
        k = " ".join("%s=%s" % (n, key_value(plan, p, n, iface, False)) for n in keyf)
        bykey.setdefault(k, []).append(p)
    got = {}
    for ln in open(got_path).read().splitlines():
        kv = [x.split("=", 1) for x in ln.split()]
        d = dict(kv)
        k = " ".join("%s=%s" % (n, d.get(n)) for n in keyf)
        g = got.setdefault(k, [0, 0])
        g[0] += int(d["packets"])
        g[1] += int(d["bytes"])
    ck.check("random sampler: %d flow keys exported, each a key of the capture" % len(got),
             got and all(k in bykey for k in got), str([k for k in got if k not in bykey][:3]))
    badb = []
    for k, (n, b) in got.items():
        sizes = sorted(p["bytes"] for p in bykey.get(k, []))
        if n > len(sizes) or not sum(sizes[:n]) <= b <= sum(sizes[len(sizes) - n:]):
            badb.append((k, n, b))
    ck.check("random sampler: per key, packets <= the capture's and bytes a sum of that many of its packets",
             not badb, str(badb[:3]))
    total, n = len(pkts), smp[1]
    mean = total / n
    sd = (total * (1 / n) * (1 - 1 / n)) ** 0.5
    s = sum(g[0] for g in got.values())
    ck.check("random sampler 1 in %d: %d of %d packets exported, within 5 sd of %.0f" % (n, s, total, mean),
             abs(s - mean) <= 5 * sd)
    return ck.fails


def wirecheck(conf_path, pcap, ports, opts):
    """DESIGN.md's wire rules on tshark's decode of every export packet."""
    plan = Plan(libconf(conf_path))
    exp = Export(pcap, ports)
    ck = Checks()
    ck.check("tshark decoded %d export packets" % len(exp.packets), len(exp.packets) > 0)
    ck.check("no export packet tshark finds malformed",
             not [p for p in exp.packets if p["malformed"]],
             str([p["frame"] for p in exp.packets if p["malformed"]][:10]))
    big = [p["frame"] for p in exp.packets if p["udp_len"] - 8 > plan.mtu]
    ck.check("every export packet <= %d bytes of UDP payload" % plan.mtu, not big, str(big[:10]))

    # templates: every data template against the DESIGN.md table (the
    # pcap table leaves this to the wire tests: --templates)
    if opts.get("templates"):
        template_checks(ck, plan, exp, opts)

    # header Count, observation domain, padding
    badc, pad, dom = [], [], []
    lengths = record_lengths(exp)
    slots = opts.get("domains")
    for p in exp.packets:
        n = sum(len(s["templates"]) + len(s["records"]) for s in p["sets"])
        if p["version"] == 9 and p["count"] != n:
            badc.append((p["frame"], p["count"], n))
        if slots is not None and p["domain"] not in slots:
            dom.append((p["frame"], p["domain"]))
        off = 20 if p["version"] == 9 else 16
        pl = p["payload"]
        if p["version"] == 10 and len(pl) >= 4 and int.from_bytes(pl[2:4], "big") != len(pl):
            pad.append((p["frame"], "IPFIX Length", int.from_bytes(pl[2:4], "big"), len(pl)))
        for s in p["sets"]:
            # IPFIX template and options template sets go unpadded (padding
            # is optional, RFC 7011 3.3.1; python3-ipfix reads it as a record)
            if s["length"] % 4 and not (p["version"] == 10 and s["id"] in (2, 3)):
                pad.append((p["frame"], s["id"], "length", s["length"]))
            body = pl[off + 4:off + s["length"]]
            if s["id"] >= 256:
                rl = lengths.get((p["src"], p["domain"], s["id"]))
                if rl:
                    used = rl * len(s["records"])
                    rest = body[used:]
                    if len(rest) > 3 or any(rest):
                        pad.append((p["frame"], s["id"], "padding", rest.hex()))
            off += s["length"]
        if off != len(pl):
            pad.append((p["frame"], "sets end at", off, "payload", len(pl)))
    if any(p["version"] == 9 for p in exp.packets):
        ck.check("v9 header Count = template + options + data records of the packet",
                 not badc, "frame, Count, records: %s" % badc[:5])
    if slots is not None:
        ck.check("observation domain / source id = slot id %s" % sorted(slots), not dom, str(dom[:5]))
    ck.check("every set a multiple of 4 bytes (IPFIX template sets: unpadded), padded with zeros, sets fill the packet",
             not pad, str(pad[:5]))

    # sequence numbers per (exporter, domain)
    streams = {}
    for p in exp.packets:
        streams.setdefault((p["src"], p["dport"], p["domain"]), []).append(p)
    start = opts.get("seq_start", 0)
    for (src, dport, domain), ps in sorted(streams.items()):
        ver = ps[0]["version"]
        seqs = [p["sequence"] for p in ps]
        if ver == 9:
            want = list(range(start, start + len(ps)))
            what = "v9 %s domain %d: Sequence = export packets before, from %d (%d packets)" % (
                src, domain, start, len(ps))
        else:
            want, n = [], start
            for p in ps:
                want.append(n)
                n += sum(len(s["records"]) for s in p["sets"] if s["id"] >= 256)
            what = "IPFIX %s domain %d: Sequence = data records before, from %d (%d messages)" % (
                src, domain, start, len(ps))
        firstbad = next((i for i in range(len(ps)) if seqs[i] != want[i]), None)
        ck.check(what, firstbad is None,
                 "" if firstbad is None else "message %d: %d, want %d" % (firstbad, seqs[firstbad], want[firstbad]))

    # templates before the first data record and every N packets exactly
    n = opts.get("refresh", plan.refresh_pkts)
    for (src, dport, domain), ps in sorted(streams.items()):
        have = [i for i, p in enumerate(ps)
                if any(s["id"] in (0, 2) and s["templates"] for s in p["sets"])]
        firstdata = next((i for i, p in enumerate(ps)
                          if any(s["id"] >= 256 for s in p["sets"])), None)
        ck.check("%s domain %d: the data template comes in or before the first data record" % (src, domain),
                 firstdata is not None and have and have[0] <= firstdata)
        if n and opts.get("exact_refresh", True):
            want = list(range(0, len(ps), n))
            ck.check("%s domain %d: data templates in export packets 0, %d, %d, ... exactly (%d packets)" % (
                src, domain, n, 2 * n, len(ps)), have == want,
                "got %s, want %s" % (have[:12], want[:12]))
    return ck.fails


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    cmd = argv[1]
    if cmd == "packets":
        for p in tshark_packets(argv[2]):
            print(" ".join("%s=%s" % kv for kv in sorted(p.items())))
    elif cmd == "expect":
        for ln in expect(argv[2]):
            print(ln)
    elif cmd == "normalize":
        for ln in normalize(sys.stdin.read().splitlines()):
            print(ln)
    elif cmd == "sampledcheck":
        sys.exit(1 if sampledcheck(argv[2], argv[3]) else 0)
    elif cmd == "wire":
        for ln in wire_lines(argv[2], argv[4:], argv[3]):
            print(ln)
    elif cmd == "wirecheck":
        opts = {}
        rest = []
        for a in argv[4:]:
            if a.startswith("--"):
                k, _, v = a[2:].partition("=")
                opts[k] = json.loads(v) if v else True
            else:
                rest.append(a)
        if "domains" in opts:
            opts["domains"] = set(opts["domains"])
        sys.exit(1 if wirecheck(argv[2], argv[3], rest, opts) else 0)
    else:
        die("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
