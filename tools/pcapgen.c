/* pcapgen.c: writes deterministic pcap files for the tests and benchmarks. */

/*
 * Two modes.
 *
 * 1. pcapgen -s SPEC -o OUT.pcap [-l LINK]
 *
 *    SPEC is a text file, one packet (or a run of identical packets) per
 *    line; '#' starts a comment, blank lines are skipped. A line is a list
 *    of key=value words; every key is optional and nothing carries over
 *    from one line to the next except the clock.
 *
 *      t=SEC          time of the line's first packet (seconds, decimals
 *                     allowed); default: previous packet + its gap
 *      repeat=N       write N identical packets (default 1) ...
 *      gap=SEC        ... this far apart (default 0.001)
 *      link=eth|sll|sll2|raw|null
 *                     link type of the whole file (default eth, or -l).
 *                     A line holding only link= sets it; any later
 *                     link= must agree, since a pcap has one link type.
 *      src=ADDR dst=ADDR   default 2001:db8::1 and 2001:db8::2
 *                     (192.0.2.1 and 192.0.2.2 with v4=1)
 *      v4=1           an IPv4 packet instead (then len = total length)
 *      proto=tcp|udp|sctp|icmp6|esp|none|N   default tcp
 *      sport=N dport=N     default 1024 and 80
 *      flags=LETTERS|N     TCP flags: F S R P A U E C (FIN SYN RST PSH ACK
 *                     URG ECE CWR) or a number; default none
 *      icmp=TYPE/CODE      ICMPv6 type and code (sets proto=icmp6)
 *      len=N          IPv6 wire length, payload length + 40 (default:
 *                     just the headers); the payload is zeros
 *      tc=N label=N hlim=N traffic class, flow label, hop limit (64)
 *      vlan=ID        an 802.1Q tag
 *      qinq=ID        an outer service tag before it (TPID 0x88a8, or
 *                     stag=0x9100|0x8100); with vlan=10 qinq=20 the
 *                     outer VLAN is 20
 *      ext=LIST       extension headers in this order, comma-separated:
 *                     hop dst rh ah mob frag (rh: routing type 2, 24 bytes;
 *                     ah: 24 bytes; mob: mobility, 8 bytes). The fragment
 *                     header goes where frag is listed, else last.
 *      frag=none|first|next   a fragment header; first = offset 0 and M=1
 *                     with the L4 header, next = a later fragment with no
 *                     L4 header
 *      id=N fragoff=N more=0|1   fragment id (default 1), offset in bytes
 *                     (multiple of 8, default 1232 for next), M flag
 *                     (default 1 for first, 0 for next)
 *      ethertype=N    a non-IP Ethernet frame of that type with len zero
 *                     bytes of payload (default 28), e.g. 0x0806 for ARP
 *      truncate=N     capture only the first N bytes of the frame; the
 *                     original length stays the full one
 *
 *    TCP, UDP and ICMPv6 checksums are right for unfragmented packets
 *    without a routing header (zero payload adds nothing to the sum).
 *
 * 2. pcapgen --flows N --packets M [--seed S] [--snaplen L] [--pps R]
 *            [--start SEC] [--tcp-fin] [--print-counts] -o OUT.pcap
 *
 *    M IPv6 TCP/UDP packets over Ethernet spread evenly over N distinct
 *    5-tuples (each flow gets M/N or M/N+1). Every round of N packets
 *    visits the flows in a different order (an affine permutation drawn
 *    from the seed), so packets of a flow are never adjacent unless N is
 *    tiny. IPv6 lengths vary over 64..1500, timestamps advance at R
 *    packets per second of pcap time (default 1000000) from --start
 *    (default 1700000000), captures are cut to L bytes (default 128) with
 *    the original length kept. A TCP flow's first packet has SYN, the
 *    others ACK (some PSH); --tcp-fin gives each TCP flow's last packet
 *    FIN+ACK (SYN+FIN for a one-packet flow). --print-counts prints, per
 *    flow, its 5-tuple, packets and bytes (IPv6 wire lengths).
 *    Same arguments, same file, byte for byte.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "wbuf.h"

#define FRAME_MAX (65535 + 40 + 64)
#define MAX_EXT 16
#define MAX_VLAN 2

enum link { L_ETH, L_SLL, L_SLL2, L_RAW, L_NULL };

static const struct {
	const char *name;
	int dlt;
} links[] = {
    [L_ETH] = {"eth", DLT_EN10MB},	 [L_SLL] = {"sll", DLT_LINUX_SLL},
    [L_SLL2] = {"sll2", DLT_LINUX_SLL2}, [L_RAW] = {"raw", DLT_RAW},
    [L_NULL] = {"null", DLT_NULL},
};

/* extension header kinds in a spec's ext= list */
enum ext { X_HOP, X_DST, X_RH, X_AH, X_MOB, X_FRAG };

enum frag { FRAG_NONE, FRAG_FIRST, FRAG_NEXT };

/* One packet as a spec line (or flow mode) describes it. */
struct gpkt {
	int v4;
	uint8_t src[16], dst[16]; /* IPv4: the first 4 bytes */
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t flags;
	uint8_t icmp_type, icmp_code;
	uint32_t len; /* IP wire length; 0 = headers only */
	uint8_t tc, hlim;
	uint32_t label;
	int nvlan;
	uint16_t tpid[MAX_VLAN], vid[MAX_VLAN]; /* outermost first */
	int next;
	enum ext ext[MAX_EXT];
	enum frag frag;
	uint32_t frag_id;
	uint16_t frag_off;
	int more;
	uint16_t ethertype; /* nonzero: a non-IP frame */
	uint32_t truncate;
};

/* The output file and its clock. */
struct out {
	const char *path;
	int link; /* enum link, -1 until fixed */
	int snaplen;
	pcap_t *pd;
	pcap_dumper_t *dump;
	uint64_t packets;
};

static uint8_t frame[FRAME_MAX];

/* ---- checksums ---- */

static uint32_t
sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
sum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The L4 checksum at l4 (hlen header bytes, ulen bytes in all, the rest
 * zeros) with the IPv6 or IPv4 pseudo-header.
 */
static uint16_t
l4_checksum(const struct gpkt *g, const uint8_t *l4, size_t hlen, uint32_t ulen)
{
	uint32_t sum = 0;

	if (g->v4) {
		sum = sum_bytes(sum, g->src, 4);
		sum = sum_bytes(sum, g->dst, 4);
		sum += g->proto + ulen;
	} else {
		sum = sum_bytes(sum, g->src, 16);
		sum = sum_bytes(sum, g->dst, 16);
		sum += (ulen >> 16) + (ulen & 0xffff) + g->proto;
	}
	sum = sum_bytes(sum, l4, hlen);
	return sum_fold(sum);
}

/* ---- frame builder ---- */

static size_t
l4_hdr_len(const struct gpkt *g)
{
	if (g->frag == FRAG_NEXT)
		return 0;
	switch (g->proto) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
		return 8;
	case IPPROTO_SCTP:
		return 12;
	case IPPROTO_ICMPV6:
		return 8;
	case IPPROTO_ESP:
		return 8;
	default:
		return 0;
	}
}

static size_t
ext_len(enum ext e)
{
	switch (e) {
	case X_HOP:
	case X_DST:
	case X_MOB:
	case X_FRAG:
		return 8;
	case X_RH:
	case X_AH:
		return 24;
	}
	return 0;
}

static uint8_t
ext_nh(enum ext e)
{
	static const uint8_t nh[] = {
	    [X_HOP] = 0, [X_DST] = 60,	[X_RH] = 43,
	    [X_AH] = 51, [X_MOB] = 135, [X_FRAG] = 44,
	};
	return nh[e];
}

static void
put_link(struct wbuf *w, const struct gpkt *g, int link, uint16_t etype)
{
	static const uint8_t dmac[6] = {2, 0, 0, 0, 0, 2};
	static const uint8_t smac[6] = {2, 0, 0, 0, 0, 1};
	uint16_t first = g->nvlan ? g->tpid[0] : etype;
	int i;

	switch (link) {
	case L_ETH:
		wbuf_put_bytes(w, dmac, 6);
		wbuf_put_bytes(w, smac, 6);
		wbuf_put_u16(w, first);
		break;
	case L_SLL:
		wbuf_put_u16(w, 0); /* to us */
		wbuf_put_u16(w, 1); /* ARPHRD_ETHER */
		wbuf_put_u16(w, 6);
		wbuf_put_bytes(w, smac, 6);
		wbuf_put_zero(w, 2);
		wbuf_put_u16(w, first);
		break;
	case L_SLL2:
		wbuf_put_u16(w, first);
		wbuf_put_u16(w, 0);
		wbuf_put_u32(w, 1); /* ifindex */
		wbuf_put_u16(w, 1); /* ARPHRD_ETHER */
		wbuf_put_u8(w, 0);
		wbuf_put_u8(w, 6);
		wbuf_put_bytes(w, smac, 6);
		wbuf_put_zero(w, 2);
		break;
	case L_NULL: {
		/*
		 * host byte order, as DLT_NULL says; AF_INET6 as the BSDs
		 * number it (24), since Linux never writes DLT_NULL
		 */
		uint32_t af = g->v4 ? 2 : 24;
		wbuf_put_bytes(w, &af, 4);
		break;
	}
	default:
		break;
	}
	for (i = 0; i < g->nvlan; i++) {
		wbuf_put_u16(w, g->vid[i]);
		wbuf_put_u16(w, i + 1 < g->nvlan ? g->tpid[i + 1] : etype);
	}
}

static void
put_ext(struct wbuf *w, const struct gpkt *g, enum ext e, uint8_t nh)
{
	switch (e) {
	case X_HOP:
	case X_DST:
		wbuf_put_u8(w, nh);
		wbuf_put_u8(w, 0);
		wbuf_put_u8(w, 1); /* PadN over the 6 option bytes */
		wbuf_put_u8(w, 4);
		wbuf_put_zero(w, 4);
		break;
	case X_RH:
		wbuf_put_u8(w, nh);
		wbuf_put_u8(w, 2);
		wbuf_put_u8(w, 2); /* type 2, one home address */
		wbuf_put_u8(w, 1);
		wbuf_put_zero(w, 4);
		wbuf_put_bytes(w, g->dst, 16);
		break;
	case X_AH:
		wbuf_put_u8(w, nh);
		wbuf_put_u8(w, 4); /* (4 + 2) * 4 = 24 bytes */
		wbuf_put_u16(w, 0);
		wbuf_put_u32(w, 0x100); /* SPI */
		wbuf_put_u32(w, 1);	/* sequence */
		wbuf_put_zero(w, 12);	/* ICV */
		break;
	case X_MOB:
		wbuf_put_u8(w, nh);
		wbuf_put_u8(w, 0);
		wbuf_put_u8(w, 0); /* binding refresh request */
		wbuf_put_zero(w, 5);
		break;
	case X_FRAG:
		wbuf_put_u8(w, nh);
		wbuf_put_u8(w, 0);
		wbuf_put_u16(w, (uint16_t)(g->frag_off | (g->more ? 1 : 0)));
		wbuf_put_u32(w, g->frag_id);
		break;
	}
}

static void
put_l4(struct wbuf *w, const struct gpkt *g, uint32_t ulen)
{
	size_t at = w->len;

	switch (g->frag == FRAG_NEXT ? 0 : g->proto) {
	case IPPROTO_TCP:
		wbuf_put_u16(w, g->sport);
		wbuf_put_u16(w, g->dport);
		wbuf_put_u32(w, 1);
		wbuf_put_u32(w, g->flags & 0x10 ? 1 : 0);
		wbuf_put_u8(w, 5 << 4);
		wbuf_put_u8(w, g->flags);
		wbuf_put_u16(w, 65535);
		wbuf_put_u32(w, 0); /* checksum, urgent pointer */
		break;
	case IPPROTO_UDP:
		wbuf_put_u16(w, g->sport);
		wbuf_put_u16(w, g->dport);
		wbuf_put_u16(w, (uint16_t)ulen);
		wbuf_put_u16(w, 0);
		break;
	case IPPROTO_SCTP:
		wbuf_put_u16(w, g->sport);
		wbuf_put_u16(w, g->dport);
		wbuf_put_zero(w, 8); /* verification tag, checksum */
		break;
	case IPPROTO_ICMPV6:
		wbuf_put_u8(w, g->icmp_type);
		wbuf_put_u8(w, g->icmp_code);
		wbuf_put_u16(w, 0);
		wbuf_put_u32(w, 0x00010001); /* echo id and sequence */
		break;
	case IPPROTO_ESP:
		wbuf_put_u32(w, 0x200); /* SPI */
		wbuf_put_u32(w, 1);
		break;
	default:
		return;
	}
	if (w->overflow || g->frag != FRAG_NONE)
		return;
	{
		uint8_t *l4 = w->buf + at;
		size_t hl = w->len - at;
		int ck = g->proto == IPPROTO_TCP		? 16
			 : g->proto == IPPROTO_UDP		? 6
			 : g->proto == IPPROTO_ICMPV6 && !g->v4 ? 2
								: -1;
		uint16_t c;

		if (ck < 0)
			return;
		c = l4_checksum(g, l4, hl, ulen);
		if (c == 0 && g->proto == IPPROTO_UDP)
			c = 0xffff;
		l4[ck] = c >> 8;
		l4[ck + 1] = c & 0xff;
	}
}

/* headers of the IP packet, after the IP header itself */
static size_t
ip_hdrs_len(const struct gpkt *g)
{
	size_t n = l4_hdr_len(g);
	int i;

	for (i = 0; i < g->next; i++)
		n += ext_len(g->ext[i]);
	return n + (g->v4 ? 20 : 40);
}

/*
 * Builds the frame into buf; returns its length, or 0 with errbuf set.
 * Only the first zero_to bytes of the zero payload are written: the rest
 * is never captured.
 */
static size_t
build(const struct gpkt *g, int link, uint8_t *buf, size_t cap, size_t zero_to,
      char *errbuf, size_t errlen)
{
	struct wbuf w;
	size_t hdrs, iplen, ip_at;
	uint32_t ulen;
	int i;

	wbuf_init(&w, buf, cap);
	if (g->ethertype) {
		if (link != L_ETH && link != L_SLL && link != L_SLL2) {
			snprintf(errbuf, errlen,
				 "ethertype= needs link eth, "
				 "sll or sll2");
			return 0;
		}
		put_link(&w, g, link, g->ethertype);
		iplen = g->len ? g->len : 28;
		ip_at = w.len;
		wbuf_put_zero(&w, iplen < zero_to ? iplen : zero_to);
		return w.overflow ? 0 : ip_at + iplen;
	}
	if (g->nvlan && (link == L_RAW || link == L_NULL)) {
		snprintf(errbuf, errlen, "vlan= needs link eth, sll or sll2");
		return 0;
	}
	hdrs = ip_hdrs_len(g);
	iplen = g->len ? g->len : hdrs;
	if (iplen < hdrs) {
		snprintf(errbuf, errlen,
			 "len=%zu is shorter than the %zu "
			 "bytes of headers",
			 iplen, hdrs);
		return 0;
	}
	if (iplen > (g->v4 ? 65535 : 65535 + 40)) {
		snprintf(errbuf, errlen, "len=%zu: too long (no jumbograms)",
			 iplen);
		return 0;
	}
	ulen = (uint32_t)(iplen - (hdrs - l4_hdr_len(g)));

	put_link(&w, g, link, g->v4 ? 0x0800 : 0x86dd);
	ip_at = w.len;
	if (g->v4) {
		uint8_t *ip = buf + w.len;
		uint16_t c;

		wbuf_put_u8(&w, 0x45);
		wbuf_put_u8(&w, g->tc);
		wbuf_put_u16(&w, (uint16_t)iplen);
		wbuf_put_u16(&w, (uint16_t)g->frag_id);
		wbuf_put_u16(&w, 0);
		wbuf_put_u8(&w, g->hlim);
		wbuf_put_u8(&w, g->proto);
		wbuf_put_u16(&w, 0);
		wbuf_put_bytes(&w, g->src, 4);
		wbuf_put_bytes(&w, g->dst, 4);
		if (w.overflow)
			return 0;
		c = sum_fold(sum_bytes(0, ip, 20));
		ip[10] = c >> 8;
		ip[11] = c & 0xff;
	} else {
		wbuf_put_u32(&w, 6u << 28 | (uint32_t)g->tc << 20 |
				     (g->label & 0xfffff));
		wbuf_put_u16(&w, (uint16_t)(iplen - 40));
		wbuf_put_u8(&w, g->next ? ext_nh(g->ext[0]) : g->proto);
		wbuf_put_u8(&w, g->hlim);
		wbuf_put_bytes(&w, g->src, 16);
		wbuf_put_bytes(&w, g->dst, 16);
		for (i = 0; i < g->next; i++)
			put_ext(&w, g, g->ext[i],
				i + 1 < g->next ? ext_nh(g->ext[i + 1])
						: g->proto);
	}
	put_l4(&w, g, ulen);
	if (w.len - ip_at < iplen && w.len < zero_to) {
		size_t want = ip_at + iplen < zero_to ? ip_at + iplen : zero_to;
		wbuf_put_zero(&w, want - w.len);
	}
	if (w.overflow) {
		snprintf(errbuf, errlen, "frame does not fit %zu bytes", cap);
		return 0;
	}
	return ip_at + iplen;
}

/* ---- output ---- */

static void
out_open(struct out *o)
{
	FILE *fp;

	if (o->link < 0)
		o->link = L_ETH;
	o->pd = pcap_open_dead(links[o->link].dlt, o->snaplen);
	if (o->pd == NULL)
		fatalx("pcap_open_dead failed");
	if (strcmp(o->path, "-") == 0)
		fp = stdout;
	else if ((fp = fopen(o->path, "wb")) == NULL)
		fatal("%s", o->path);
	if (setvbuf(fp, NULL, _IOFBF, 1 << 20) != 0)
		fatalx("setvbuf failed");
	o->dump = pcap_dump_fopen(o->pd, fp);
	if (o->dump == NULL)
		fatalx("%s: %s", o->path, pcap_geterr(o->pd));
}

static void
out_write(struct out *o, uint64_t ts_us, size_t caplen, size_t len)
{
	struct pcap_pkthdr h;

	if (o->dump == NULL)
		out_open(o);
	h.ts.tv_sec = (time_t)(ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
	h.caplen = (bpf_u_int32)caplen;
	h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)o->dump, &h, frame);
	o->packets++;
}

static void
out_close(struct out *o)
{
	if (o->dump == NULL)
		out_open(o); /* an empty spec still makes a valid file */
	if (pcap_dump_flush(o->dump) != 0)
		fatalx("%s: write failed", o->path);
	pcap_dump_close(o->dump);
	pcap_close(o->pd);
}

/* a spec with an error leaves no half-written file behind */
static void
out_discard(struct out *o)
{
	if (o->dump == NULL)
		return;
	pcap_dump_close(o->dump);
	pcap_close(o->pd);
	if (strcmp(o->path, "-") != 0)
		unlink(o->path);
}

/* ---- spec mode ---- */

static int
parse_u32(const char *s, uint32_t max, uint32_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *end != '\0' || x > max)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int
parse_secs(const char *s, uint64_t *us)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end != '\0' || d < 0 || d > 4e9)
		return -1;
	*us = (uint64_t)llround(d * 1e6);
	return 0;
}

static int
parse_flags(const char *s, uint8_t *v)
{
	static const char letters[] = "FSRPAUEC";
	uint32_t n;
	const char *c;

	if (isdigit((unsigned char)*s)) {
		if (parse_u32(s, 255, &n) < 0)
			return -1;
		*v = (uint8_t)n;
		return 0;
	}
	for (*v = 0; *s; s++) {
		if (*s == '.')
			continue;
		if ((c = strchr(letters, toupper((unsigned char)*s))) == NULL)
			return -1;
		*v |= (uint8_t)(1u << (c - letters));
	}
	return 0;
}

static int
parse_proto(const char *s, uint8_t *v)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {
	    {"tcp", 6},	    {"udp", 17},  {"sctp", 132}, {"icmp6", 58},
	    {"icmpv6", 58}, {"icmp", 58}, {"esp", 50},	 {"none", 59},
	};
	uint32_t n;
	size_t i;

	for (i = 0; i < NELEM(names); i++)
		if (strcmp(s, names[i].name) == 0) {
			*v = names[i].proto;
			return 0;
		}
	if (parse_u32(s, 255, &n) < 0)
		return -1;
	*v = (uint8_t)n;
	return 0;
}

static int
parse_link(const char *s)
{
	size_t i;

	for (i = 0; i < NELEM(links); i++)
		if (strcmp(s, links[i].name) == 0)
			return (int)i;
	return -1;
}

static int
parse_ext(const char *s, struct gpkt *g)
{
	static const char *const names[] = {
	    [X_HOP] = "hop", [X_DST] = "dst", [X_RH] = "rh",
	    [X_AH] = "ah",   [X_MOB] = "mob", [X_FRAG] = "frag",
	};
	char tok[16];
	size_t i, n;

	while (*s) {
		n = strcspn(s, ",");
		if (n == 0 || n >= sizeof(tok))
			return -1;
		memcpy(tok, s, n);
		tok[n] = '\0';
		for (i = 0; i < NELEM(names); i++)
			if (strcmp(tok, names[i]) == 0)
				break;
		if (i == NELEM(names) || g->next == MAX_EXT)
			return -1;
		g->ext[g->next++] = (enum ext)i;
		s += n + (s[n] == ',');
	}
	return 0;
}

static int
parse_addr(const char *s, int v4, uint8_t *a)
{
	memset(a, 0, 16);
	return inet_pton(v4 ? AF_INET : AF_INET6, s, a) == 1 ? 0 : -1;
}

/* Per-line state the words fill before the packet is built. */
struct line {
	struct gpkt g;
	const char *src, *dst;
	uint32_t repeat, vlan, qinq, stag;
	int has_vlan, has_qinq, has_t, link;
	uint64_t t, gap;
	char frag[8];
	int fragoff_set, more_set;
};

/* one key=value word; returns -1 with errbuf set */
static int
line_word(struct line *l, char *word, char *errbuf, size_t errlen)
{
	struct gpkt *g = &l->g;
	char *v = strchr(word, '=');
	uint32_t n = 0;
	int bad = 0;

	if (v == NULL) {
		snprintf(errbuf, errlen, "'%s' is not key=value", word);
		return -1;
	}
	*v++ = '\0';
	if (strcmp(word, "t") == 0)
		bad = parse_secs(v, &l->t), l->has_t = 1;
	else if (strcmp(word, "gap") == 0)
		bad = parse_secs(v, &l->gap);
	else if (strcmp(word, "repeat") == 0)
		bad = parse_u32(v, 100000000, &l->repeat);
	else if (strcmp(word, "link") == 0)
		bad = (l->link = parse_link(v)) < 0;
	else if (strcmp(word, "src") == 0)
		l->src = v;
	else if (strcmp(word, "dst") == 0)
		l->dst = v;
	else if (strcmp(word, "v4") == 0)
		bad = parse_u32(v, 1, &n), g->v4 = (int)n;
	else if (strcmp(word, "proto") == 0)
		bad = parse_proto(v, &g->proto);
	else if (strcmp(word, "sport") == 0)
		bad = parse_u32(v, 65535, &n), g->sport = (uint16_t)n;
	else if (strcmp(word, "dport") == 0)
		bad = parse_u32(v, 65535, &n), g->dport = (uint16_t)n;
	else if (strcmp(word, "flags") == 0)
		bad = parse_flags(v, &g->flags);
	else if (strcmp(word, "icmp") == 0) {
		unsigned t = 0, c = 0;
		char extra;
		bad = sscanf(v, "%u/%u%c", &t, &c, &extra) != 2 || t > 255 ||
		      c > 255;
		g->icmp_type = (uint8_t)t, g->icmp_code = (uint8_t)c;
		g->proto = IPPROTO_ICMPV6;
	} else if (strcmp(word, "len") == 0)
		bad = parse_u32(v, 1 << 20, &g->len);
	else if (strcmp(word, "tc") == 0)
		bad = parse_u32(v, 255, &n), g->tc = (uint8_t)n;
	else if (strcmp(word, "label") == 0)
		bad = parse_u32(v, 0xfffff, &g->label);
	else if (strcmp(word, "hlim") == 0)
		bad = parse_u32(v, 255, &n), g->hlim = (uint8_t)n;
	else if (strcmp(word, "vlan") == 0)
		bad = parse_u32(v, 4095, &l->vlan), l->has_vlan = 1;
	else if (strcmp(word, "qinq") == 0)
		bad = parse_u32(v, 4095, &l->qinq), l->has_qinq = 1;
	else if (strcmp(word, "stag") == 0)
		bad = parse_u32(v, 65535, &l->stag) ||
		      (l->stag != 0x88a8 && l->stag != 0x9100 &&
		       l->stag != 0x8100);
	else if (strcmp(word, "ext") == 0)
		bad = parse_ext(v, g);
	else if (strcmp(word, "frag") == 0)
		bad =
		    ns_strlcpy(l->frag, v, sizeof(l->frag)) >= sizeof(l->frag);
	else if (strcmp(word, "id") == 0)
		bad = parse_u32(v, UINT32_MAX, &g->frag_id);
	else if (strcmp(word, "fragoff") == 0) {
		bad = parse_u32(v, 65528, &n) || (n & 7);
		g->frag_off = (uint16_t)n;
		l->fragoff_set = 1;
	} else if (strcmp(word, "more") == 0)
		bad = parse_u32(v, 1, &n), g->more = (int)n, l->more_set = 1;
	else if (strcmp(word, "ethertype") == 0) {
		bad = parse_u32(v, 65535, &n) || n < 0x600;
		g->ethertype = (uint16_t)n;
	} else if (strcmp(word, "truncate") == 0)
		bad = parse_u32(v, FRAME_MAX, &g->truncate);
	else {
		snprintf(errbuf, errlen, "unknown key '%s' (see pcapgen -h)",
			 word);
		return -1;
	}
	if (bad) {
		snprintf(errbuf, errlen, "bad value '%s' for %s", v, word);
		return -1;
	}
	return 0;
}

/* what the words leave for the packet: defaults, addresses, fragments */
static int
line_finish(struct line *l, char *errbuf, size_t errlen)
{
	struct gpkt *g = &l->g;
	int i, has_frag = 0;

	if (parse_addr(l->src  ? l->src
		       : g->v4 ? "192.0.2.1"
			       : "2001:db8::1",
		       g->v4, g->src) < 0 ||
	    parse_addr(l->dst  ? l->dst
		       : g->v4 ? "192.0.2.2"
			       : "2001:db8::2",
		       g->v4, g->dst) < 0) {
		snprintf(errbuf, errlen, "bad %s address",
			 g->v4 ? "IPv4" : "IPv6");
		return -1;
	}
	if (l->has_qinq) {
		g->tpid[g->nvlan] = (uint16_t)(l->stag ? l->stag : 0x88a8);
		g->vid[g->nvlan++] = (uint16_t)l->qinq;
	}
	if (l->has_vlan) {
		g->tpid[g->nvlan] = 0x8100;
		g->vid[g->nvlan++] = (uint16_t)l->vlan;
	}
	if (strcmp(l->frag, "first") == 0)
		g->frag = FRAG_FIRST;
	else if (strcmp(l->frag, "next") == 0)
		g->frag = FRAG_NEXT;
	else if (l->frag[0] && strcmp(l->frag, "none") != 0) {
		snprintf(errbuf, errlen, "frag=%s: none, first or next",
			 l->frag);
		return -1;
	}
	for (i = 0; i < g->next; i++)
		has_frag |= g->ext[i] == X_FRAG;
	if (has_frag && g->frag == FRAG_NONE)
		g->frag = FRAG_FIRST;
	if (g->frag != FRAG_NONE && !has_frag) {
		if (g->next == MAX_EXT) {
			snprintf(errbuf, errlen, "too many extension headers");
			return -1;
		}
		g->ext[g->next++] = X_FRAG;
	}
	if (g->frag == FRAG_NEXT && !l->fragoff_set)
		g->frag_off = 1232;
	if (!l->more_set)
		g->more = g->frag == FRAG_FIRST;
	if (g->v4 && (g->next || g->proto == IPPROTO_ICMPV6)) {
		snprintf(errbuf, errlen, "v4=1 takes no ext=, frag= or icmp=");
		return -1;
	}
	return 0;
}

static void
line_init(struct line *l)
{
	memset(l, 0, sizeof(*l));
	l->g.proto = IPPROTO_TCP;
	l->g.sport = 1024;
	l->g.dport = 80;
	l->g.hlim = 64;
	l->g.frag_id = 1;
	l->repeat = 1;
	l->gap = 1000;
	l->link = -1;
}

static int
spec_line(struct out *o, char *s, uint64_t *clock, char *errbuf, size_t errlen)
{
	static const char *const ws = " \t\r\n";
	struct line l;
	char *word, *save = NULL;
	size_t len, cap;
	uint32_t i;
	int words = 0, only_link = 1;

	line_init(&l);
	s[strcspn(s, "#")] = '\0';
	for (word = strtok_r(s, ws, &save); word;
	     word = strtok_r(NULL, ws, &save)) {
		words++;
		if (strncmp(word, "link=", 5) != 0)
			only_link = 0;
		if (line_word(&l, word, errbuf, errlen) < 0)
			return -1;
	}
	if (words == 0)
		return 0;
	if (l.link >= 0) {
		if (o->link >= 0 && o->link != l.link) {
			snprintf(errbuf, errlen,
				 "link=%s: the file is already "
				 "%s (one link type per pcap)",
				 links[l.link].name, links[o->link].name);
			return -1;
		}
		o->link = l.link;
	}
	if (only_link)
		return 0;
	if (o->link < 0)
		o->link = L_ETH;
	if (line_finish(&l, errbuf, errlen) < 0)
		return -1;
	if (l.has_t) {
		if (l.t < *clock && o->packets > 0)
			log_warnx("t=%.6f goes back before the previous "
				  "packet's time plus gap",
				  l.t / 1e6);
		*clock = l.t;
	}
	len = build(&l.g, o->link, frame, sizeof(frame), sizeof(frame), errbuf,
		    errlen);
	if (len == 0)
		return -1;
	cap = l.g.truncate && l.g.truncate < len ? l.g.truncate : len;
	for (i = 0; i < l.repeat; i++) {
		out_write(o, *clock, cap, len);
		*clock += l.gap;
	}
	return 0;
}

static int
spec_mode(const char *spec, struct out *o)
{
	char errbuf[256], *buf = NULL;
	size_t bufcap = 0;
	uint64_t clock = 0;
	unsigned lineno = 0;
	FILE *fp;

	if ((fp = fopen(spec, "r")) == NULL) {
		log_warn("%s", spec);
		return 1;
	}
	while (getline(&buf, &bufcap, fp) > 0) {
		lineno++;
		if (spec_line(o, buf, &clock, errbuf, sizeof(errbuf)) < 0) {
			log_warnx("%s:%u: %s", spec, lineno, errbuf);
			free(buf);
			fclose(fp);
			out_discard(o);
			return 1;
		}
	}
	free(buf);
	fclose(fp);
	out_close(o);
	return 0;
}

/* ---- flow mode ---- */

struct flowgen {
	uint64_t flows, packets, seed, pps, start_us;
	uint32_t snaplen;
	int tcp_fin, print_counts;
};

static uint64_t
splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* a bijection on 32 bits: distinct flows get distinct addresses */
static uint32_t
perm32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static uint64_t
gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* a^-1 mod n, for gcd(a, n) == 1 */
static uint64_t
mod_inverse(uint64_t a, uint64_t n)
{
	int64_t t = 0, nt = 1, r = (int64_t)n, nr = (int64_t)(a % n), q, x;

	while (nr != 0) {
		q = r / nr;
		x = t - q * nt, t = nt, nt = x;
		x = r - q * nr, r = nr, nr = x;
	}
	return (uint64_t)(t < 0 ? t + (int64_t)n : t);
}

/* round r visits flow (a * k + b) mod n at its position k */
struct round {
	uint64_t a, b;
};

static struct round
round_perm(const struct flowgen *fg, uint64_t r)
{
	struct round p;
	uint64_t n = fg->flows, h = splitmix(splitmix(fg->seed) + r);

	p.a = n > 1 ? h % n : 0;
	p.b = n > 1 ? splitmix(h) % n : 0;
	if (n > 1) {
		if (p.a == 0)
			p.a = 1;
		while (gcd(p.a, n) != 1)
			p.a = p.a + 1 == n ? 1 : p.a + 1;
	} else {
		p.a = 1;
	}
	return p;
}

/* the 5-tuple of flow f */
static void
flow_tuple(const struct flowgen *fg, uint64_t f, struct gpkt *g)
{
	uint64_t h = splitmix(fg->seed * 0x100000001b3ULL ^ f);
	uint32_t id = perm32((uint32_t)f ^ (uint32_t)fg->seed);
	static const uint16_t ports[] = {80, 443, 53, 22, 8080, 123, 25, 993};

	g->src[0] = 0x20, g->src[1] = 0x01, g->src[2] = 0x0d, g->src[3] = 0xb8;
	g->src[4] = (uint8_t)(fg->seed >> 8), g->src[5] = (uint8_t)fg->seed;
	memcpy(g->src + 8, &h, 4); /* noise */
	g->src[12] = id >> 24, g->src[13] = id >> 16 & 0xff;
	g->src[14] = id >> 8 & 0xff, g->src[15] = id & 0xff;
	g->dst[0] = 0x20, g->dst[1] = 0x01, g->dst[2] = 0x0d, g->dst[3] = 0xb8;
	g->dst[4] = 0xff, g->dst[5] = 0xff;
	g->dst[14] = (uint8_t)(h >> 40 & 0x03); /* 1024 servers */
	g->dst[15] = (uint8_t)(h >> 48);
	g->proto = (h >> 56 & 3) ? IPPROTO_TCP : IPPROTO_UDP;
	g->sport = (uint16_t)(1024 + (h >> 16 & 0xffff) % 64511);
	g->dport = ports[h >> 60 & 7];
	g->tc = (h >> 34 & 1) ? 0 : 0x28;
	g->label = (uint32_t)(h >> 8) & 0xfffff;
}

static void
print_counts(const struct flowgen *fg, const uint64_t *cnt)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	FILE *fp = stdout;
	struct gpkt g;
	uint64_t f;

	fprintf(fp, "# src dst proto sport dport packets bytes\n");
	for (f = 0; f < fg->flows; f++) {
		memset(&g, 0, sizeof(g));
		flow_tuple(fg, f, &g);
		inet_ntop(AF_INET6, g.src, s, sizeof(s));
		inet_ntop(AF_INET6, g.dst, d, sizeof(d));
		fprintf(fp, "%s %s %u %u %u %" PRIu64 " %" PRIu64 "\n", s, d,
			g.proto, g.sport, g.dport, cnt[2 * f], cnt[2 * f + 1]);
	}
}

static int
flow_mode(const struct flowgen *fg, struct out *o)
{
	uint64_t n = fg->flows, rounds, rem, i, *cnt = NULL, last_inv = 0;
	struct round perm = {1, 0}, lastp;
	char errbuf[256];
	struct gpkt g;

	rounds = (fg->packets + n - 1) / n;
	rem = fg->packets % n;
	lastp = round_perm(fg, rounds ? rounds - 1 : 0);
	if (n > 1)
		last_inv = mod_inverse(lastp.a, n);
	if (fg->print_counts)
		cnt = xcalloc(n * 2, sizeof(*cnt));
	o->link = L_ETH;
	o->snaplen = (int)fg->snaplen;

	for (i = 0; i < fg->packets; i++) {
		uint64_t r = i / n, k = i % n, f, x = splitmix(fg->seed + i);
		int first, last;
		size_t len, cap;

		if (k == 0)
			perm = round_perm(fg, r);
		f = (perm.a * k + perm.b) % n;
		first = r == 0;
		if (r + 1 == rounds)
			last = 1;
		else if (r + 2 == rounds && rem != 0)
			/* last unless f shows up in the short last round */
			last = ((f + n - lastp.b) % n * last_inv) % n >= rem;
		else
			last = 0;

		memset(&g, 0, sizeof(g));
		flow_tuple(fg, f, &g);
		g.hlim = 64;
		g.len = (uint32_t)(64 + x % 1437);
		if (g.proto == IPPROTO_TCP) {
			g.flags = first ? 0x02 : (x >> 20 & 3) ? 0x10 : 0x18;
			if (last && fg->tcp_fin)
				g.flags = first ? 0x03 : 0x11;
		}
		len = build(&g, L_ETH, frame, sizeof(frame), fg->snaplen,
			    errbuf, sizeof(errbuf));
		if (len == 0)
			fatalx("flow %" PRIu64 ": %s", f, errbuf);
		cap = len < fg->snaplen ? len : fg->snaplen;
		out_write(o, fg->start_us + i * 1000000 / fg->pps, cap, len);
		if (cnt) {
			cnt[2 * f]++;
			cnt[2 * f + 1] += g.len;
		}
	}
	out_close(o);
	if (cnt) {
		print_counts(fg, cnt);
		free(cnt);
	}
	return 0;
}

/* ---- main ---- */

static _Noreturn void
usage(int code)
{
	FILE *fp = code ? stderr : stdout;

	fprintf(
	    fp,
	    "usage: pcapgen -s SPEC [-l LINK] -o OUT.pcap\n"
	    "       pcapgen --flows N --packets M [--seed S] [--snaplen L]\n"
	    "               [--pps R] [--start SEC] [--tcp-fin] "
	    "[--print-counts] -o OUT.pcap\n"
	    "\n"
	    "SPEC: one packet per line, key=value words, '#' comments:\n"
	    "  t=SEC repeat=N gap=SEC      time, copies, spacing (0.001)\n"
	    "  link=eth|sll|sll2|raw|null  one per file (default eth)\n"
	    "  src= dst= v4=1              addresses (2001:db8::1, ::2)\n"
	    "  proto=tcp|udp|sctp|icmp6|esp|none|N  sport= dport=\n"
	    "  flags=FSRPAUEC|N icmp=TYPE/CODE\n"
	    "  len=N                       IPv6 wire length (payload + 40),\n"
	    "                              zero payload; default headers only\n"
	    "  tc= label= hlim=            traffic class, flow label, hop "
	    "limit\n"
	    "  vlan=ID qinq=ID stag=TPID   802.1Q tag, outer tag (0x88a8)\n"
	    "  ext=hop,dst,rh,ah,mob,frag  extension headers, in order\n"
	    "  frag=none|first|next id=N fragoff=BYTES more=0|1\n"
	    "  ethertype=N                 non-IP frame (len= payload bytes)\n"
	    "  truncate=N                  capture N bytes, keep orig length\n"
	    "Flow mode: M packets over N 5-tuples, lengths 64..1500, R pps\n"
	    "(default 1000000) of pcap time, snaplen L (default 128).\n");
	exit(code);
}

static uint64_t
num_arg(const char *name, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		fatalx("--%s %s: expected %" PRIu64 "..%" PRIu64, name, s, min,
		       max);
	return v;
}

int
main(int argc, char **argv)
{
	enum {
		O_FLOWS = 256,
		O_PACKETS,
		O_SEED,
		O_SNAPLEN,
		O_PPS,
		O_START,
		O_FIN,
		O_COUNTS
	};
	static const struct option longopts[] = {
	    {"flows", required_argument, NULL, O_FLOWS},
	    {"packets", required_argument, NULL, O_PACKETS},
	    {"seed", required_argument, NULL, O_SEED},
	    {"snaplen", required_argument, NULL, O_SNAPLEN},
	    {"pps", required_argument, NULL, O_PPS},
	    {"start", required_argument, NULL, O_START},
	    {"tcp-fin", no_argument, NULL, O_FIN},
	    {"print-counts", no_argument, NULL, O_COUNTS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct flowgen fg = {.seed = 1,
			     .pps = 1000000,
			     .snaplen = 128,
			     .start_us = 1700000000ULL * 1000000};
	struct out o = {.link = -1, .snaplen = 262144};
	const char *spec = NULL;
	int c;

	log_init("pcapgen", 0);
	while ((c = getopt_long(argc, argv, "s:o:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			spec = optarg;
			break;
		case 'o':
			o.path = optarg;
			break;
		case 'l':
			if ((o.link = parse_link(optarg)) < 0)
				fatalx("-l %s: eth, sll, sll2, raw or null",
				       optarg);
			break;
		case O_FLOWS:
			fg.flows = num_arg("flows", optarg, 1, UINT32_MAX);
			break;
		case O_PACKETS:
			fg.packets =
			    num_arg("packets", optarg, 0, UINT64_MAX / 1000000);
			break;
		case O_SEED:
			fg.seed = num_arg("seed", optarg, 0, UINT64_MAX);
			break;
		case O_SNAPLEN:
			fg.snaplen =
			    (uint32_t)num_arg("snaplen", optarg, 1, 262144);
			break;
		case O_PPS:
			fg.pps = num_arg("pps", optarg, 1, 1000000000);
			break;
		case O_START:
			fg.start_us =
			    num_arg("start", optarg, 0, UINT32_MAX) * 1000000;
			break;
		case O_FIN:
			fg.tcp_fin = 1;
			break;
		case O_COUNTS:
			fg.print_counts = 1;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || o.path == NULL ||
	    (spec == NULL) == (fg.flows == 0))
		usage(2);
	if (spec)
		return spec_mode(spec, &o);
	if (fg.print_counts && strcmp(o.path, "-") == 0)
		fatalx("--print-counts writes to stdout: give -o a file");
	return flow_mode(&fg, &o);
}
