/* test_decode.c: the packet decoder (sampled/decode.c) on hand-built frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "decode.h"

_Static_assert(NS_DLT_NULL == DLT_NULL, "DLT_NULL");
_Static_assert(NS_DLT_EN10MB == DLT_EN10MB, "DLT_EN10MB");
_Static_assert(NS_DLT_RAW == DLT_RAW, "DLT_RAW (Linux numbering)");
_Static_assert(NS_DLT_LOOP == DLT_LOOP, "DLT_LOOP");
_Static_assert(NS_DLT_LINUX_SLL == DLT_LINUX_SLL, "DLT_LINUX_SLL");
_Static_assert(NS_DLT_LINUX_SLL2 == DLT_LINUX_SLL2, "DLT_LINUX_SLL2");
_Static_assert(NS_DLT_IPV4 == DLT_IPV4, "DLT_IPV4");
_Static_assert(NS_DLT_IPV6 == DLT_IPV6, "DLT_IPV6");

/* A frame under construction; ip6 is where the IPv6 header starts. */
struct frame {
	uint8_t b[4096];
	uint32_t len;
	uint32_t ip6;
};

static const uint8_t SRC[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t DST[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, 2};

static void
put8(struct frame *f, uint8_t v)
{
	assert_true(f->len < sizeof(f->b));
	f->b[f->len++] = v;
}

static void
put16(struct frame *f, uint16_t v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void
put32(struct frame *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void
putn(struct frame *f, const uint8_t *p, size_t n)
{
	while (n--)
		put8(f, *p++);
}

static void
zeros(struct frame *f, size_t n)
{
	while (n--)
		put8(f, 0);
}

static void
eth(struct frame *f, uint16_t ethertype)
{
	static const uint8_t macs[12] = {0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10};

	putn(f, macs, sizeof(macs));
	put16(f, ethertype);
}

/* a tag: TCI (priority + VID), then the ethertype that follows it */
static void
tag(struct frame *f, uint16_t tci, uint16_t next)
{
	put16(f, tci);
	put16(f, next);
}

static void
ip6(struct frame *f, uint8_t tc, uint32_t label, uint8_t nh)
{
	f->ip6 = f->len;
	put32(f, 6u << 28 | (uint32_t)tc << 20 | label);
	put16(f, 0); /* payload length: ip6_done() */
	put8(f, nh);
	put8(f, 64);
	putn(f, SRC, 16);
	putn(f, DST, 16);
}

/* sets the payload length to what follows the IPv6 header, plus extra */
static void
ip6_done(struct frame *f, uint32_t extra)
{
	uint32_t plen = f->len - f->ip6 - 40 + extra;

	f->b[f->ip6 + 4] = plen >> 8;
	f->b[f->ip6 + 5] = plen & 0xff;
}

/* hop-by-hop, destination options, routing...: (units + 1) * 8 bytes */
static void
ext(struct frame *f, uint8_t nh, uint8_t units)
{
	put8(f, nh);
	put8(f, units);
	zeros(f, (units + 1u) * 8 - 2); /* Pad1 options */
}

static void
frag(struct frame *f, uint8_t nh, uint16_t offset_bytes, int more, uint32_t id)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, offset_bytes | (more ? 1 : 0));
	put32(f, id);
}

static void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000); /* seq */
	put32(f, 0);	/* ack */
	put8(f, 5 << 4);
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0); /* checksum, urgent */
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t datalen)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 8 + datalen);
	put16(f, 0);
}

static void
icmp6(struct frame *f, uint8_t type, uint8_t code)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put32(f, 0x00010001); /* echo id, seq */
}

/* Ethernet + IPv6 + TCP 1234 -> 80, SYN|ACK, tc 0x20, label 0x12345 */
static void
eth_tcp(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	eth(f, 0x86dd);
	ip6(f, 0x20, 0x12345, 6);
	tcp(f, 1234, 80, 0x12);
	ip6_done(f, 0);
}

/*
 * Decodes from a heap copy of exactly caplen bytes, so the ASan build
 * catches any read past the end.
 */
static int
dec(int dlt, const struct frame *f, uint32_t caplen, struct pkt *out)
{
	uint8_t *copy = malloc(caplen ? caplen : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, f->b, caplen);
	r = decode_packet(dlt, copy, caplen, out);
	free(copy);
	return r;
}

static void
assert_tuple(const struct pkt *k, uint8_t proto, uint16_t sport, uint16_t dport)
{
	assert_memory_equal(k->src, SRC, 16);
	assert_memory_equal(k->dst, DST, 16);
	assert_int_equal(k->proto, proto);
	assert_int_equal(k->sport, sport);
	assert_int_equal(k->dport, dport);
}

static void
test_eth_tcp(void **state)
{
	struct frame f;
	struct pkt k;

	(void)state;
	eth_tcp(&f);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 6, 1234, 80);
	assert_int_equal(k.tcp_flags, 0x12);
	assert_int_equal(k.tclass, 0x20);
	assert_int_equal(k.flow_label, 0x12345);
	assert_int_equal(k.hop_limit, 64);
	assert_int_equal(k.ip_len, 60);
	assert_int_equal(k.l3_off, 14);
	assert_int_equal(k.vlan, 0);
	assert_int_equal(k.ext_headers, 0);
	assert_int_equal(k.is_fragment, 0);
	assert_int_equal(k.is_first_fragment, 0);
}

static void
test_eth_udp_payload_and_padding(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0xb8, 0xfffff, 17);
	udp(&f, 53, 40000, 100);
	zeros(&f, 100);
	ip6_done(&f, 0);
	zeros(&f, 4); /* trailer/FCS the capture kept: not part of the packet */
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 17, 53, 40000);
	assert_int_equal(k.ip_len, 40 + 8 + 100);
	assert_int_equal(k.tclass, 0xb8);
	assert_int_equal(k.flow_label, 0xfffff);
	assert_int_equal(k.tcp_flags, 0);

	/* snaplen cut inside the payload: still a complete key */
	assert_int_equal(dec(NS_DLT_EN10MB, &f, 14 + 40 + 8, &k), DEC_IPV6);
	assert_int_equal(k.ip_len, 148);
}

static void
test_no_next_header_in_padded_frame(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 59);
	ip6_done(&f, 0);
	zeros(&f, 6); /* Ethernet minimum frame padding */
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 59, 0, 0);
	assert_int_equal(k.ip_len, 40);
}

static void
test_vlan(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x8100);
	tag(&f, 0xa000 | 10, 0x86dd); /* priority 5 must not leak into VID */
	ip6(&f, 0, 0, 6);
	tcp(&f, 1, 2, 0x01);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_int_equal(k.vlan, 10);
	assert_int_equal(k.l3_off, 18);
	assert_tuple(&k, 6, 1, 2);
	assert_int_equal(k.tcp_flags, 0x01);
}

static void
test_qinq_records_outer_vid(void **state)
{
	static const uint16_t outer_tpid[] = {0x88a8, 0x9100, 0x8100};
	struct frame f;
	struct pkt k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(outer_tpid) / sizeof(outer_tpid[0]); i++) {
		memset(&f, 0, sizeof(f));
		eth(&f, outer_tpid[i]);
		tag(&f, 20, 0x8100);
		tag(&f, 0x1000 | 10, 0x86dd);
		ip6(&f, 0, 0, 17);
		udp(&f, 5000, 6000, 0);
		ip6_done(&f, 0);
		assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
		assert_int_equal(k.vlan, 20);
		assert_int_equal(k.l3_off, 22);
		assert_tuple(&k, 17, 5000, 6000);
	}
}

static void
test_vlan_stack_too_deep(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;
	int i;

	(void)state;
	eth(&f, 0x8100);
	for (i = 0; i < DEC_MAX_VLAN_TAGS; i++)
		tag(&f, 100 + i, 0x8100);
	tag(&f, 999, 0x86dd);
	ip6(&f, 0, 0, 59);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k),
			 DEC_MALFORMED_VLAN_DEPTH);
}

static void
test_sll(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	put16(&f, 0);	   /* packet type: to us */
	put16(&f, 1);	   /* ARPHRD_ETHER */
	put16(&f, 6);	   /* address length */
	zeros(&f, 8);	   /* address */
	put16(&f, 0x8100); /* libpcap re-inserts the tag after the header */
	tag(&f, 300, 0x86dd);
	ip6(&f, 0, 7, 6);
	tcp(&f, 443, 51000, 0x18);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_LINUX_SLL, &f, f.len, &k), DEC_IPV6);
	assert_int_equal(k.l3_off, 20);
	assert_int_equal(k.vlan, 300);
	assert_int_equal(k.flow_label, 7);
	assert_tuple(&k, 6, 443, 51000);
	assert_int_equal(k.tcp_flags, 0x18);
}

static void
test_sll2(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	put16(&f, 0x86dd); /* protocol */
	put16(&f, 0);	   /* reserved */
	put32(&f, 3);	   /* ifindex */
	put16(&f, 1);	   /* ARPHRD_ETHER */
	put8(&f, 4);	   /* outgoing */
	put8(&f, 6);
	zeros(&f, 8);
	ip6(&f, 0, 0, 17);
	udp(&f, 123, 123, 48);
	zeros(&f, 48);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_LINUX_SLL2, &f, f.len, &k), DEC_IPV6);
	assert_int_equal(k.l3_off, 20);
	assert_int_equal(k.ip_len, 96);
	assert_tuple(&k, 17, 123, 123);
}

static void
test_raw_link_types(void **state)
{
	static const int dlts[] = {NS_DLT_RAW, NS_DLT_RAW_OPENBSD,
				   NS_LINKTYPE_RAW, NS_DLT_IPV6};
	struct frame f = {.len = 0};
	struct pkt k;
	size_t i;

	(void)state;
	ip6(&f, 0, 0, 6);
	tcp(&f, 22, 60000, 0x10);
	ip6_done(&f, 0);
	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		assert_int_equal(dec(dlts[i], &f, f.len, &k), DEC_IPV6);
		assert_int_equal(k.l3_off, 0);
		assert_tuple(&k, 6, 22, 60000);
	}
	/* IPv6 bytes on the IPv4-only link type */
	assert_int_equal(dec(NS_DLT_IPV4, &f, f.len, &k),
			 DEC_MALFORMED_IP_VERSION);
	/* version 5 on a raw link */
	f.b[0] = 0x50;
	assert_int_equal(dec(NS_DLT_RAW, &f, f.len, &k),
			 DEC_MALFORMED_IP_VERSION);
	assert_int_equal(dec(NS_DLT_RAW, &f, 0, &k), DEC_MALFORMED_LINK);
}

static void
test_loopback(void **state)
{
	static const struct {
		int dlt;
		uint8_t af[4];
		int want;
	} cases[] = {
	    {NS_DLT_NULL, {10, 0, 0, 0}, DEC_IPV6}, /* Linux, LE host */
	    {NS_DLT_NULL, {0, 0, 0, 28}, DEC_IPV6}, /* FreeBSD, BE host */
	    {NS_DLT_NULL, {30, 0, 0, 0}, DEC_IPV6}, /* Darwin */
	    {NS_DLT_LOOP, {0, 0, 0, 24}, DEC_IPV6}, /* OpenBSD */
	    {NS_DLT_NULL, {7, 0, 0, 0}, DEC_OTHER},
	};
	struct frame f;
	struct pkt k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f, 0, sizeof(f));
		putn(&f, cases[i].af, 4);
		ip6(&f, 0, 0, 17);
		udp(&f, 1, 2, 0);
		ip6_done(&f, 0);
		assert_int_equal(dec(cases[i].dlt, &f, f.len, &k),
				 cases[i].want);
		if (cases[i].want == DEC_IPV6) {
			assert_int_equal(k.l3_off, 4);
			assert_tuple(&k, 17, 1, 2);
		}
	}
}

static void
test_hop_dst_routing_before_tcp(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 0);
	ext(&f, 60, 0); /* hop-by-hop, 8 bytes */
	ext(&f, 43, 1); /* dst opts, 16 bytes */
	ext(&f, 6, 2);	/* routing, 24 bytes */
	tcp(&f, 8080, 9090, 0x02);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 6, 8080, 9090);
	assert_int_equal(k.tcp_flags, 0x02);
	assert_int_equal(k.ext_headers, EXT_HOP | EXT_DST | EXT_RH);
	assert_int_equal(k.ip_len, 40 + 8 + 16 + 24 + 20);
}

static void
test_first_fragment(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 44);
	frag(&f, 17, 0, 1, 7);
	udp(&f, 4000, 4001, 1400);
	zeros(&f, 1232 - 8);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 17, 4000, 4001);
	assert_int_equal(k.is_fragment, 1);
	assert_int_equal(k.is_first_fragment, 1);
	assert_int_equal(k.ext_headers, EXT_FRA0);
	assert_int_equal(k.ip_len, 40 + 8 + 1232);
}

static void
test_later_fragment_has_no_ports(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 0);
	ext(&f, 44, 0);
	frag(&f, 17, 1232, 0, 7);
	zeros(&f, 176); /* looks like nothing; must not be read as UDP */
	f.b[f.len - 176] = 0x12;
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 17, 0, 0);
	assert_int_equal(k.is_fragment, 1);
	assert_int_equal(k.is_first_fragment, 0);
	assert_int_equal(k.ext_headers, EXT_HOP | EXT_FRA1);
	assert_int_equal(k.ip_len, 40 + 8 + 8 + 176);
}

static void
test_ah(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 51);
	put8(&f, 6);   /* next header */
	put8(&f, 4);   /* (4 + 2) * 4 = 24 bytes */
	zeros(&f, 22); /* reserved, SPI, sequence, 12-byte ICV */
	tcp(&f, 179, 33000, 0x18);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 6, 179, 33000);
	assert_int_equal(k.ext_headers, EXT_AH);
	assert_int_equal(k.ip_len, 40 + 24 + 20);
}

static void
test_esp_ends_parsing(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 60);
	ext(&f, 50, 0);
	put32(&f, 0x1000); /* SPI */
	put32(&f, 1);	   /* sequence */
	zeros(&f, 32);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 50, 0, 0);
	assert_int_equal(k.ext_headers, EXT_DST | EXT_ESP);
}

static void
test_other_extension_headers(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 135); /* mobility: walked, flagged UNK */
	ext(&f, 108, 0);
	put8(&f, 6); /* IPComp: compressed from here on */
	zeros(&f, 3);
	zeros(&f, 20);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 108, 0, 0);
	assert_int_equal(k.ext_headers, EXT_UNK | EXT_PAY);
}

static void
test_icmpv6(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 58);
	icmp6(&f, 128, 0);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 58, 0, 32768);

	f.b[f.ip6 + 40] = 1; /* destination unreachable, port unreachable */
	f.b[f.ip6 + 41] = 4;
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 58, 0, 0x0104);
}

static void
test_sctp(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 132);
	put16(&f, 2905);
	put16(&f, 2906);
	zeros(&f, 8);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_tuple(&k, 132, 2905, 2906);
}

static void
test_jumbogram(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 0);
	put8(&f, 6);
	put8(&f, 0);
	put8(&f, 0xc2);
	put8(&f, 4);
	put32(&f, 100000); /* jumbo payload length */
	tcp(&f, 1, 2, 0x10);
	/* payload length field stays 0; the capture holds the headers only */
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);
	assert_int_equal(k.ip_len, 40 + 100000);
	assert_int_equal(k.ext_headers, EXT_HOP);
	assert_tuple(&k, 6, 1, 2);

	/* payload length 0 without the option: nothing after the header */
	f.b[f.ip6 + 42] = 1;
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k),
			 DEC_MALFORMED_PAYLOAD_LEN);
}

static void
test_ipv4_and_arp(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x8100);
	tag(&f, 42, 0x0800);
	put8(&f, 0x45);
	put8(&f, 0);
	put16(&f, 84);
	zeros(&f, 16);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV4);
	assert_int_equal(k.ip_len, 84);
	assert_int_equal(k.vlan, 42);
	assert_int_equal(dec(NS_DLT_RAW, &f, 0, &k), DEC_MALFORMED_LINK);
	/* IHL below 5 */
	f.b[18] = 0x44;
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k),
			 DEC_MALFORMED_IP4_HDR);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0806);
	zeros(&f, 28);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_OTHER);
	/* unknown link type */
	assert_int_equal(dec(147, &f, f.len, &k), DEC_OTHER);
}

static void
test_bad_version(void **state)
{
	struct frame f;
	struct pkt k;

	(void)state;
	eth_tcp(&f);
	f.b[14] = 0x45;
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k),
			 DEC_MALFORMED_IP_VERSION);
}

static void
test_ext_chain_limit(void **state)
{
	struct frame f;
	struct pkt k;
	int n, i;

	(void)state;
	for (n = DEC_MAX_EXT_HEADERS; n <= DEC_MAX_EXT_HEADERS + 1; n++) {
		memset(&f, 0, sizeof(f));
		eth(&f, 0x86dd);
		ip6(&f, 0, 0, 60);
		for (i = 0; i < n; i++)
			ext(&f, i == n - 1 ? 17 : 60, 0);
		udp(&f, 1, 2, 0);
		ip6_done(&f, 0);
		assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k),
				 n > DEC_MAX_EXT_HEADERS
				     ? DEC_MALFORMED_EXT_CHAIN
				     : DEC_IPV6);
	}
}

static void
test_length_checks(void **state)
{
	struct frame f = {.len = 0};
	struct pkt k;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 0, 60);
	ext(&f, 6, 3); /* 32 bytes */
	tcp(&f, 1, 2, 0);
	zeros(&f, 200);
	ip6_done(&f, 0);
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k), DEC_IPV6);

	/* snaplen inside the extension header: truncated */
	assert_int_equal(dec(NS_DLT_EN10MB, &f, 14 + 40 + 20, &k),
			 DEC_MALFORMED_EXT_TRUNC);
	/* snaplen inside the TCP header */
	assert_int_equal(dec(NS_DLT_EN10MB, &f, 14 + 40 + 32 + 19, &k),
			 DEC_MALFORMED_L4_TRUNC);
	/* the fields read before the failure are there */
	assert_int_equal(k.ext_headers, EXT_DST);
	assert_int_equal(k.ip_len, 40 + 32 + 20 + 200);

	/* payload length says the extension header does not fit */
	f.b[f.ip6 + 4] = 0;
	f.b[f.ip6 + 5] = 16;
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k),
			 DEC_MALFORMED_PAYLOAD_LEN);
	/* ... or that the TCP header does not */
	f.b[f.ip6 + 5] = 32 + 8;
	assert_int_equal(dec(NS_DLT_EN10MB, &f, f.len, &k),
			 DEC_MALFORMED_PAYLOAD_LEN);
}

/*
 * Every prefix of a packet shorter than the headers the decoder needs
 * (need bytes) is malformed and never read past; from need on, the result
 * is the full packet's.
 */
static void
truncations(int dlt, const struct frame *f, uint32_t need, int want)
{
	struct pkt k;
	uint32_t c;
	int r;

	for (c = 0; c <= f->len; c++) {
		r = dec(dlt, f, c, &k);
		if (c < need && (r < DEC_MALFORMED_LINK || r >= DEC_NRESULTS))
			fail_msg("caplen %u of %u: %s", c, f->len,
				 decode_reason_name(r));
		if (c >= need && r != want)
			fail_msg("caplen %u of %u: %s", c, f->len,
				 decode_reason_name(r));
	}
}

static void
test_every_truncation(void **state)
{
	struct frame f;

	(void)state;
	eth_tcp(&f);
	truncations(NS_DLT_EN10MB, &f, f.len, DEC_IPV6);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x88a8);
	tag(&f, 20, 0x8100);
	tag(&f, 10, 0x86dd);
	ip6(&f, 0, 0, 0);
	ext(&f, 60, 0);
	ext(&f, 43, 1);
	ext(&f, 44, 0);
	frag(&f, 51, 0, 1, 9);
	put8(&f, 58);
	put8(&f, 1);
	zeros(&f, 10);
	icmp6(&f, 128, 0);
	ip6_done(&f, 0);
	/* the ICMPv6 type, code and checksum are needed, not the echo id */
	truncations(NS_DLT_EN10MB, &f, f.len - 4, DEC_IPV6);

	memset(&f, 0, sizeof(f));
	zeros(&f, 14); /* SLL2 with protocol 0x86dd */
	f.b[0] = 0x86;
	f.b[1] = 0xdd;
	zeros(&f, 6);
	ip6(&f, 0, 0, 17);
	udp(&f, 1, 2, 0);
	ip6_done(&f, 0);
	truncations(NS_DLT_LINUX_SLL2, &f, f.len, DEC_IPV6);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	put8(&f, 0x45);
	zeros(&f, 19);
	truncations(NS_DLT_EN10MB, &f, f.len, DEC_IPV4);
}

/* Random bytes, exact-size buffers: no crash, a known result. */
static void
test_random_garbage(void **state)
{
	static const int dlts[] = {NS_DLT_EN10MB,     NS_DLT_LINUX_SLL,
				   NS_DLT_LINUX_SLL2, NS_DLT_RAW,
				   NS_DLT_IPV6,	      NS_DLT_NULL};
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct frame f;
	struct pkt k;
	int i, r;

	(void)state;
	for (i = 0; i < 200000; i++) {
		uint32_t j, len;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		len = (uint32_t)(x % 200);
		memset(&f, 0, sizeof(f));
		eth_tcp(&f); /* mutate a valid packet: reaches deep paths */
		for (j = 0; j < 4; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			f.b[x % 100] = (uint8_t)(x >> 32);
		}
		if (i & 1)
			f.b[12] = 0x86, f.b[13] = 0xdd, f.b[14] = 0x60;
		f.len = len;
		r = dec(dlts[i % 6], &f, len, &k);
		assert_true(r >= 0 && r < DEC_NRESULTS);
	}
}

static void
test_reason_names(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < DEC_NRESULTS; i++) {
		assert_non_null(decode_reason_name(i));
		for (j = 0; j < i; j++)
			assert_string_not_equal(decode_reason_name(i),
						decode_reason_name(j));
	}
	assert_string_equal(decode_reason_name(DEC_IPV6), "ipv6");
	assert_string_equal(decode_reason_name(-1), "unknown");
	assert_string_equal(decode_reason_name(DEC_NRESULTS), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eth_tcp),
	    cmocka_unit_test(test_eth_udp_payload_and_padding),
	    cmocka_unit_test(test_no_next_header_in_padded_frame),
	    cmocka_unit_test(test_vlan),
	    cmocka_unit_test(test_qinq_records_outer_vid),
	    cmocka_unit_test(test_vlan_stack_too_deep),
	    cmocka_unit_test(test_sll),
	    cmocka_unit_test(test_sll2),
	    cmocka_unit_test(test_raw_link_types),
	    cmocka_unit_test(test_loopback),
	    cmocka_unit_test(test_hop_dst_routing_before_tcp),
	    cmocka_unit_test(test_first_fragment),
	    cmocka_unit_test(test_later_fragment_has_no_ports),
	    cmocka_unit_test(test_ah),
	    cmocka_unit_test(test_esp_ends_parsing),
	    cmocka_unit_test(test_other_extension_headers),
	    cmocka_unit_test(test_icmpv6),
	    cmocka_unit_test(test_sctp),
	    cmocka_unit_test(test_jumbogram),
	    cmocka_unit_test(test_ipv4_and_arp),
	    cmocka_unit_test(test_bad_version),
	    cmocka_unit_test(test_ext_chain_limit),
	    cmocka_unit_test(test_length_checks),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_random_garbage),
	    cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
