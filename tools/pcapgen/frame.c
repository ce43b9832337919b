/*
 * frame.c: builds the frame a struct gpkt describes: link header, VLAN
 * tags, IPv4 or IPv6 with extension headers, the L4 header with its
 * checksum, and as much of the zero payload as gets captured.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "pcapgen.h"
#include "wbuf.h"

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
size_t
build_frame(const struct gpkt *g, int link, uint8_t *buf, size_t cap,
	    size_t zero_to, char *errbuf, size_t errlen)
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
