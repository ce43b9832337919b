/* decode.c: turns a captured frame into the fields the flow cache keys on. */
#include <stdint.h>
#include <string.h>

#include "decode.h"

/*
 * Runs once per packet on the capture path: no allocation, no logging, no
 * byte beyond caplen. Every read is preceded by a length check against
 * caplen and, past the IPv6 header, against the payload length as well, so
 * Ethernet padding is never taken for a header.
 *
 * An L4 header that the capture cut short (caplen) after a valid IPv6
 * header and chain is DEC_MALFORMED_L4_TRUNC, not a port-less DEC_IPV6,
 * and a chain it cut is DEC_MALFORMED_EXT_TRUNC: the caller tells a
 * snaplen's cut (it then counts the packet by what it proves: addresses,
 * the protocol as the last next header the capture shows, no ports) from
 * a broken packet. We ask for the fixed part of the header (TCP 20, UDP
 * and UDP-Lite 8, SCTP 12, ICMPv6 4 bytes); sampled captures 192 bytes,
 * enough for Ethernet + 2 tags + IPv6 + 110 bytes of extension headers +
 * TCP.
 */

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ_OLD 0x9100

#define IP6_HDR_LEN 40
#define IP4_HDR_LEN 20

/* IPv6 next-header values the walk knows */
enum {
	NH_HOP = 0,
	NH_TCP = 6,
	NH_UDP = 17,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_ESP = 50,
	NH_AH = 51,
	NH_ICMPV6 = 58,
	NH_NONE = 59,
	NH_DSTOPTS = 60,
	NH_IPCOMP = 108,
	NH_SCTP = 132,
	NH_MOBILITY = 135,
	NH_UDPLITE = 136,
	NH_HIP = 139,
	NH_SHIM6 = 140,
};

#define HBH_OPT_JUMBO 0xc2

static const char *const reason_names[DEC_NRESULTS] = {
    [DEC_IPV6] = "ipv6",
    [DEC_IPV4] = "ipv4",
    [DEC_OTHER] = "other",
    [DEC_MALFORMED_LINK] = "malformed_link_header",
    [DEC_MALFORMED_VLAN_DEPTH] = "malformed_vlan_depth",
    [DEC_MALFORMED_IP_VERSION] = "malformed_ip_version",
    [DEC_MALFORMED_IP4_HDR] = "malformed_ipv4_header",
    [DEC_MALFORMED_IP6_HDR] = "malformed_ipv6_header",
    [DEC_MALFORMED_EXT_TRUNC] = "malformed_ext_header_truncated",
    [DEC_MALFORMED_EXT_CHAIN] = "malformed_ext_chain_too_long",
    [DEC_MALFORMED_L4_TRUNC] = "malformed_l4_truncated",
    [DEC_MALFORMED_PAYLOAD_LEN] = "malformed_beyond_payload_length",
};

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * 0 when n bytes at IPv6-relative offset h lie inside both the payload
 * length (end) and the capture (avail); otherwise the reason. The payload
 * length is checked first: a header that claims to run past it is broken
 * whatever the snaplen.
 */
static inline int
room(uint32_t h, uint32_t n, uint64_t end, uint32_t avail, int trunc)
{
	if ((uint64_t)h + n > end)
		return DEC_MALFORMED_PAYLOAD_LEN;
	if (h + n > avail)
		return trunc;
	return 0;
}

/* The L4 header at h: ports, ICMPv6 type/code, TCP flags. */
static int
decode_l4(const uint8_t *l4h, uint8_t nh, uint32_t h, uint64_t end,
	  uint32_t avail, struct pkt *out)
{
	const uint8_t *l4 = l4h + h;
	int r;

	out->proto = nh;
	switch (nh) {
	case NH_TCP:
		if ((r = room(h, 20, end, avail, DEC_MALFORMED_L4_TRUNC)))
			return r;
		out->sport = be16(l4);
		out->dport = be16(l4 + 2);
		out->tcp_flags = l4[13];
		break;
	case NH_UDP:
	case NH_UDPLITE:
		if ((r = room(h, 8, end, avail, DEC_MALFORMED_L4_TRUNC)))
			return r;
		out->sport = be16(l4);
		out->dport = be16(l4 + 2);
		break;
	case NH_SCTP:
		if ((r = room(h, 12, end, avail, DEC_MALFORMED_L4_TRUNC)))
			return r;
		out->sport = be16(l4);
		out->dport = be16(l4 + 2);
		break;
	case NH_ICMPV6:
		if ((r = room(h, 4, end, avail, DEC_MALFORMED_L4_TRUNC)))
			return r;
		out->dport = be16(l4); /* type * 256 + code */
		break;
	default:
		/* no next header, ESP, IPComp, tunnels, others: no ports */
		break;
	}
	return DEC_IPV6;
}

/*
 * Jumbogram (RFC 2675): payload length 0 and a Jumbo Payload option as the
 * first option of the hop-by-hop header. Returns the end of the packet
 * relative to the IPv6 header, or 0 when the option is not there (the
 * packet then really has an empty payload).
 */
static uint64_t
jumbo_end(const uint8_t *ip, uint32_t avail)
{
	if (avail < IP6_HDR_LEN + 8)
		return 0;
	if (ip[IP6_HDR_LEN + 2] != HBH_OPT_JUMBO || ip[IP6_HDR_LEN + 3] != 4)
		return 0;
	return IP6_HDR_LEN + (uint64_t)be32(ip + IP6_HDR_LEN + 4);
}

static int
decode_ip6(const uint8_t *p, uint32_t caplen, uint32_t off, struct pkt *out)
{
	const uint8_t *ip = p + off;
	uint32_t avail = caplen - off, h = IP6_HDR_LEN, w, len, flag;
	uint64_t end;
	uint16_t fo;
	uint8_t nh;
	int n = 0, r;

	if (avail < IP6_HDR_LEN)
		return DEC_MALFORMED_IP6_HDR;
	w = be32(ip);
	if (w >> 28 != 6)
		return DEC_MALFORMED_IP_VERSION;
	out->l3_off = (uint16_t)off;
	out->tclass = (uint8_t)(w >> 20);
	out->flow_label = w & 0xfffff;
	nh = ip[6];
	out->hop_limit = ip[7];
	memcpy(out->src, ip + 8, 16);
	memcpy(out->dst, ip + 24, 16);

	end = IP6_HDR_LEN + (uint64_t)be16(ip + 4);
	if (end == IP6_HDR_LEN && nh == NH_HOP) {
		if (avail < IP6_HDR_LEN + 8)
			return DEC_MALFORMED_EXT_TRUNC;
		if (jumbo_end(ip, avail))
			end = jumbo_end(ip, avail);
	}
	out->ip_len = end > UINT32_MAX ? UINT32_MAX : (uint32_t)end;

	for (;;) {
		switch (nh) {
		case NH_HOP:
			flag = EXT_HOP;
			break;
		case NH_DSTOPTS:
			flag = EXT_DST;
			break;
		case NH_ROUTING:
			flag = EXT_RH;
			break;
		case NH_MOBILITY:
		case NH_HIP:
		case NH_SHIM6:
			flag = EXT_UNK;
			break;
		case NH_AH:
			flag = EXT_AH;
			break;
		case NH_FRAGMENT:
			flag = 0;
			break;
		case NH_ESP:
			/* encrypted from here on: protocol 50, no ports */
			out->ext_headers |= EXT_ESP;
			return decode_l4(ip, nh, h, end, avail, out);
		case NH_IPCOMP:
			out->ext_headers |= EXT_PAY;
			return decode_l4(ip, nh, h, end, avail, out);
		default:
			return decode_l4(ip, nh, h, end, avail, out);
		}

		if (++n > DEC_MAX_EXT_HEADERS)
			return DEC_MALFORMED_EXT_CHAIN;
		/* cut by the capture: the protocol is the last next header
		 * it shows (the caller may count the packet with it) */
		out->proto = nh;
		if ((r = room(h, nh == NH_FRAGMENT ? 8 : 2, end, avail,
			      DEC_MALFORMED_EXT_TRUNC)))
			return r;
		if (nh != NH_FRAGMENT)
			out->proto = ip[h];

		if (nh == NH_FRAGMENT) {
			fo = be16(ip + h + 2) & 0xfff8;
			out->is_fragment = 1;
			nh = ip[h];
			h += 8;
			if (fo != 0) {
				/*
				 * A later fragment: no L4 header here. The
				 * protocol is the fragment header's next
				 * header, the ports stay 0.
				 */
				out->ext_headers |= EXT_FRA1;
				out->proto = nh;
				return DEC_IPV6;
			}
			out->ext_headers |= EXT_FRA0;
			out->is_first_fragment = 1;
			continue;
		}

		if (nh == NH_AH)
			len = ((uint32_t)ip[h + 1] + 2) * 4;
		else
			len = ((uint32_t)ip[h + 1] + 1) * 8;
		if ((r = room(h, len, end, avail, DEC_MALFORMED_EXT_TRUNC)))
			return r;
		out->ext_headers |= flag;
		nh = ip[h];
		h += len;
	}
}

static int
decode_ip4(const uint8_t *p, uint32_t caplen, uint32_t off, struct pkt *out)
{
	const uint8_t *ip = p + off;

	if (caplen - off < IP4_HDR_LEN)
		return DEC_MALFORMED_IP4_HDR;
	if (ip[0] >> 4 != 4)
		return DEC_MALFORMED_IP_VERSION;
	if ((ip[0] & 0x0f) < 5)
		return DEC_MALFORMED_IP4_HDR;
	out->l3_off = (uint16_t)off;
	out->ip_len = be16(ip + 2);
	return DEC_IPV4;
}

/* raw IP: the version nibble is all there is */
static int
decode_ip(const uint8_t *p, uint32_t caplen, uint32_t off, struct pkt *out)
{
	if (caplen <= off)
		return DEC_MALFORMED_LINK; /* not even a version nibble */
	switch (p[off] >> 4) {
	case 6:
		return decode_ip6(p, caplen, off, out);
	case 4:
		return decode_ip4(p, caplen, off, out);
	default:
		return DEC_MALFORMED_IP_VERSION;
	}
}

/*
 * From an ethertype at hand, with its payload at off: skip any stack of
 * 802.1Q / 802.1ad / old QinQ tags, keeping the outermost VLAN id.
 */
static int
decode_ethertype(const uint8_t *p, uint32_t caplen, uint16_t et, uint32_t off,
		 struct pkt *out)
{
	int tags = 0;

	while (et == ETH_P_8021Q || et == ETH_P_8021AD ||
	       et == ETH_P_QINQ_OLD) {
		if (++tags > DEC_MAX_VLAN_TAGS)
			return DEC_MALFORMED_VLAN_DEPTH;
		if (caplen - off < 4)
			return DEC_MALFORMED_LINK;
		if (tags == 1)
			out->vlan = be16(p + off) & 0x0fff;
		et = be16(p + off + 2);
		off += 4;
	}
	switch (et) {
	case ETH_P_IPV6:
		return decode_ip6(p, caplen, off, out);
	case ETH_P_IPV4:
		return decode_ip4(p, caplen, off, out);
	default:
		return DEC_OTHER;
	}
}

/* BSD loopback: a 4-byte address family, in either byte order */
static int
decode_loop(const uint8_t *p, uint32_t caplen, struct pkt *out)
{
	uint32_t af;

	if (caplen < 4)
		return DEC_MALFORMED_LINK;
	af = be32(p);
	if (af > 0xffff)
		af = __builtin_bswap32(af);
	switch (af) {
	case 2: /* AF_INET everywhere */
		return decode_ip4(p, caplen, 4, out);
	case 10: /* AF_INET6: Linux */
	case 24: /* NetBSD, OpenBSD */
	case 28: /* FreeBSD, DragonFly */
	case 30: /* Darwin */
		return decode_ip6(p, caplen, 4, out);
	default:
		return DEC_OTHER;
	}
}

int
decode_packet(int dlt, const uint8_t *p, uint32_t caplen, struct pkt *out)
{
	memset(out, 0, sizeof(*out));
	switch (dlt) {
	case NS_DLT_EN10MB:
		if (caplen < 14)
			return DEC_MALFORMED_LINK;
		return decode_ethertype(p, caplen, be16(p + 12), 14, out);
	case NS_DLT_LINUX_SLL:
		/* type, ARPHRD, address length, 8 address bytes, protocol */
		if (caplen < 16)
			return DEC_MALFORMED_LINK;
		return decode_ethertype(p, caplen, be16(p + 14), 16, out);
	case NS_DLT_LINUX_SLL2:
		/* protocol, reserved, ifindex, ARPHRD, type, addr len, addr */
		if (caplen < 20)
			return DEC_MALFORMED_LINK;
		return decode_ethertype(p, caplen, be16(p), 20, out);
	case NS_DLT_RAW:
	case NS_DLT_RAW_OPENBSD:
	case NS_LINKTYPE_RAW:
		return decode_ip(p, caplen, 0, out);
	case NS_DLT_IPV6:
		return decode_ip6(p, caplen, 0, out);
	case NS_DLT_IPV4:
		return decode_ip4(p, caplen, 0, out);
	case NS_DLT_NULL:
	case NS_DLT_LOOP:
		return decode_loop(p, caplen, out);
	default:
		return DEC_OTHER;
	}
}

const char *
decode_reason_name(int result)
{
	if (result < 0 || result >= DEC_NRESULTS)
		return "unknown";
	return reason_names[result];
}
