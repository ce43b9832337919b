/*
 * gso.c: a GSO/GRO super-packet of a live capture counted as the segments
 * the wire carries. The kernel hands a packet socket what its offloads
 * made: one frame of up to 64 kB (more with BIG TCP) where the wire has
 * segments of gso_size bytes of payload, each with the headers repeated.
 * The virtio-net header the ring puts before each frame (PACKET_VNET_HDR)
 * says which frame is one, its type and segment size, and where its L4
 * header starts (csum_start); the segments are then rebuilt as
 * tcp_gso_segment() and __udp_gso_segment() cut them: the same headers,
 * each segment's own IP length (UDP length), FIN and PSH only on the
 * last segment, CWR only on the first; BIG TCP's hop-by-hop jumbo
 * header (IPv6 payload length 0) is in none of them.
 */
#include <linux/virtio_net.h>
#include <string.h>

#include "sampled.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* UDP_SEGMENT, Linux 4.18 on */
#endif

#define TH_FIN_PSH 0x09
#define TH_CWR_BIT 0x80

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The offset of the IP header, its version in *v: Ethernet behind up to
 * two tags still in the frame, or a frame that starts with IP. -1: none.
 */
static int
ip_offset(int dlt, const uint8_t *p, uint32_t caplen, int *v)
{
	uint32_t off = 0, et, tags = 0;

	if (dlt == DLT_EN10MB) {
		off = 14;
		if (caplen < off)
			return -1;
		et = rd16(p + 12);
		while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) &&
		    tags++ < 2 && caplen >= off + 4) {
			et = rd16(p + off + 2);
			off += 4;
		}
		if (et != 0x86dd && et != 0x0800)
			return -1;
	}
	if (caplen <= off)
		return -1;
	*v = p[off] >> 4;
	return *v == 6 || *v == 4 ? (int)off : -1;
}

/*
 * Plans the segments of frame p (caplen bytes of len), whose virtio-net
 * header says it is a super-packet. The L4 header is where the kernel
 * says (csum_start, from the frame's link header as the ring shows it:
 * shift when a VLAN tag was put back into it) and has to be captured,
 * its length too; else -1, and the frame is not split: nothing is
 * guessed.
 */
int
gso_plan(int dlt, const uint8_t *p, uint32_t caplen, uint32_t len,
    uint8_t gso_type, uint16_t gso_size, uint16_t csum_start, int shift,
    struct gso_plan *g)
{
	int l3, v;
	uint32_t l4, thl = 8; /* UDP's */

	memset(g, 0, sizeof(*g));
	switch (gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		g->proto = 6;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		g->proto = 17;
		break;
	default: /* UFO: IP fragments, not segments */
		return -1;
	}
	if (gso_size == 0 || (l3 = ip_offset(dlt, p, caplen, &v)) < 0)
		return -1;
	l4 = (uint32_t)csum_start + (uint32_t)shift;
	if (l4 < (uint32_t)l3 + (v == 6 ? 40 : 20) ||
	    l4 + (g->proto == 6 ? 14 : 8) > caplen)
		return -1;
	/* BIG TCP: a hop-by-hop header with only the jumbo payload option,
	 * which the segments do not carry (ipv6_gso_segment) */
	if (v == 6 && p[l3 + 6] == 0 && rd16(p + l3 + 4) == 0) {
		if (l4 != (uint32_t)l3 + 48 || p[l3 + 41] != 0 ||
		    p[l3 + 42] != 0xc2 || p[l3 + 43] != 4)
			return -1;
		g->jumbo = 8;
	}
	if (g->proto == 6 && ((thl = (uint32_t)(p[l4 + 12] >> 4) * 4) < 20))
		return -1;
	g->l3 = (uint32_t)l3;
	g->l4 = l4 - g->jumbo; /* in a segment */
	g->v6 = v == 6;
	g->hdrs = g->l4 + thl;
	if (len <= g->hdrs + g->jumbo)
		return -1;
	g->payload = len - g->jumbo - g->hdrs;
	g->size = gso_size;
	g->nseg = (g->payload + gso_size - 1) / gso_size;
	return 0;
}

/*
 * Segment i of the plan, its captured part rebuilt in seg (at most the
 * frame's caplen bytes, at most LIVE_SNAPLEN + 4; *segcap of them); its
 * length on the wire.
 */
uint32_t
gso_segment(const struct gso_plan *g, const uint8_t *p, uint32_t caplen,
    uint32_t i, uint8_t *seg, uint32_t *segcap)
{
	uint32_t n = i + 1 < g->nseg ? g->size : g->payload - i * g->size;
	uint32_t wire = g->hdrs + n, ip = g->l3 + 40;
	uint8_t fl;

	if (g->jumbo) { /* without the hop-by-hop header */
		memcpy(seg, p, ip);
		memcpy(seg + ip, p + ip + g->jumbo, caplen - ip - g->jumbo);
		seg[g->l3 + 6] = p[ip];
		caplen -= g->jumbo;
		p = seg;
	} else
		memcpy(seg, p, caplen);
	*segcap = caplen;
	if (g->v6)
		wr16(seg + g->l3 + 4, wire - g->l3 - 40);
	else
		wr16(seg + g->l3 + 2, wire - g->l3);
	if (g->proto == 17) {
		wr16(seg + g->l4 + 4, wire - g->l4);
		return wire;
	}
	fl = p[g->l4 + 13];
	if (i > 0)
		fl &= (uint8_t)~TH_CWR_BIT;
	if (i + 1 < g->nseg)
		fl &= (uint8_t)~TH_FIN_PSH;
	seg[g->l4 + 13] = fl;
	return wire;
}

/*
 * A frame the ring's virtio-net header vh says is a super-packet: its
 * segments, each as a packet of its own. 0: counted so; -1: it could not
 * be split (gso_unsplit), and is counted as the one frame it is.
 */
int
live_gso(struct slot *s, struct capture *c, const struct pcap_pkthdr *h,
    const uint8_t *frame, int out, const void *vh, int shift)
{
	struct virtio_net_hdr v;
	struct gso_plan g;
	struct pcap_pkthdr sh = *h;
	uint8_t seg[LIVE_SNAPLEN + 4];
	uint32_t i, cap = h->caplen, segcap;

	memcpy(&v, vh, sizeof(v)); /* host order: a legacy header */
	if (cap > sizeof(seg) || !(v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
	    gso_plan(c->dlt, frame, cap, h->len, v.gso_type, v.gso_size,
	    v.csum_start, shift, &g) == -1) {
		s->gso_unsplit++;
		return -1;
	}
	s->gso_frames++;
	s->gso_segments += g.nseg;
	for (i = 0; i < g.nseg; i++) {
		sh.len = gso_segment(&g, frame, cap, i, seg, &segcap);
		sh.caplen = segcap < sh.len ? segcap : sh.len;
		capture_live_packet(s, c, &sh, seg, out);
	}
	return 0;
}
