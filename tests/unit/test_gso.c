/* test_gso.c: a GSO/GRO super-packet of a live capture as its segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/virtio_net.h>

#include "../../sampled/sampled.h"

/* what capture_live_packet got: each segment, decoded */
#define SEG_MAX 160
static struct {
	uint32_t len, caplen, ip_len, udp_len;
	uint8_t flags;
	int r;
	uint16_t sport, vlan;
} seg[SEG_MAX];
static unsigned nseg;

void
capture_live_packet(struct slot *s, struct capture *c,
    const struct pcap_pkthdr *h, const u_char *data, int outbound)
{
	struct pkt pk;

	(void)s;
	(void)outbound;
	if (nseg == SEG_MAX)
		return;
	seg[nseg].r = decode_packet(c->dlt, data, h->caplen, &pk);
	seg[nseg].len = h->len;
	seg[nseg].caplen = h->caplen;
	seg[nseg].ip_len = pk.ip_len;
	seg[nseg].flags = pk.tcp_flags;
	seg[nseg].sport = pk.sport;
	seg[nseg].vlan = pk.vlan;
	if (pk.proto == 17)
		seg[nseg].udp_len = (uint32_t)(data[h->caplen - 4] << 8 |
		    data[h->caplen - 3]); /* the frame is cut after UDP */
	nseg++;
}

/* Ethernet (a tag if vlan), IPv6, 16 bytes of destination options, TCP
 * with 12 bytes of options or UDP; payload bytes not in the buffer. */
static uint32_t
frame(uint8_t *f, int vlan, int udp, uint32_t payload, int plen_zero,
    uint32_t *l4)
{
	uint32_t o = 12, ip, thl = udp ? 8 : 32, pl;

	memset(f, 0, 256);
	if (vlan) {
		f[o] = 0x81, f[o + 2] = 0, f[o + 3] = 100;
		o += 4;
	}
	f[o] = 0x86, f[o + 1] = 0xdd;
	ip = o + 2;
	f[ip] = 0x60;
	pl = plen_zero ? 0 : 16 + thl + payload;
	f[ip + 4] = (uint8_t)(pl >> 8), f[ip + 5] = (uint8_t)pl;
	f[ip + 6] = 60, f[ip + 7] = 64;
	f[ip + 8] = 0x20, f[ip + 9] = 0x01, f[ip + 23] = 1;
	f[ip + 24] = 0x20, f[ip + 25] = 0x01, f[ip + 39] = 2;
	f[ip + 40] = udp ? 17 : 6, f[ip + 41] = 1; /* 16 bytes */
	*l4 = ip + 56;
	f[*l4] = 0x03, f[*l4 + 1] = 0xe8; /* port 1000 */
	f[*l4 + 3] = 80;
	if (!udp) {
		f[*l4 + 12] = 8 << 4;
		f[*l4 + 13] = 0x80 | 0x10 | 0x08 | 0x01; /* CWR ACK PSH FIN */
	}
	return *l4 + thl + payload;
}

static int
run(int vlan_in_meta, int udp, uint32_t payload, uint16_t size, int plen0,
    uint8_t flags, struct slot *s)
{
	uint8_t f[256];
	struct capture c = { .dlt = DLT_EN10MB };
	struct virtio_net_hdr v = { .flags = flags,
		.gso_type = udp ? 5 : VIRTIO_NET_HDR_GSO_TCPV6, .gso_size = size };
	struct pcap_pkthdr h;
	uint32_t l4, len = frame(f, 1, udp, payload, plen0, &l4);

	/* the kernel's csum_start does not count a tag it took out */
	v.csum_start = (uint16_t)(l4 - (vlan_in_meta ? 4 : 0));
	v.csum_offset = udp ? 6 : 16;
	h.len = len;
	h.caplen = l4 + (udp ? 8 : 32) < 196 ? l4 + (udp ? 8 : 32) : 196;
	nseg = 0;
	memset(seg, 0, sizeof(seg));
	return live_gso(s, &c, &h, f, 0, &v, vlan_in_meta ? 4 : 0);
}

static void
test_tcp6(void **state)
{
	struct slot s;
	unsigned i;

	(void)state;
	for (int meta = 0; meta <= 1; meta++) {
		memset(&s, 0, sizeof(s));
		assert_int_equal(run(meta, 0, 10000, 1400, 0, 1, &s), 0);
		assert_int_equal(nseg, 8); /* ceil(10000 / 1400) */
		assert_int_equal(s.gso_frames, 1);
		assert_int_equal(s.gso_segments, 8);
		for (i = 0; i < 8; i++) {
			uint32_t n = i < 7 ? 1400 : 10000 - 7 * 1400;

			assert_int_equal(seg[i].r, DEC_IPV6);
			assert_int_equal(seg[i].ip_len, 40 + 16 + 32 + n);
			assert_int_equal(seg[i].len, 18 + 40 + 16 + 32 + n);
			assert_int_equal(seg[i].sport, 1000);
			assert_int_equal(seg[i].vlan, 100);
			/* CWR on the first only, FIN and PSH on the last */
			assert_int_equal(seg[i].flags, 0x10 |
			    (i == 0 ? 0x80 : 0) | (i == 7 ? 0x09 : 0));
		}
	}
}

static void
test_udp_and_big_tcp(void **state)
{
	struct slot s;
	unsigned i;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(run(0, 1, 48700, 1200, 0, 1, &s), 0);
	assert_int_equal(nseg, 41);
	for (i = 0; i < 41; i++) {
		uint32_t n = i < 40 ? 1200 : 700;

		assert_int_equal(seg[i].ip_len, 40 + 16 + 8 + n);
		assert_int_equal(seg[i].udp_len, 8 + n);
	}
	/* BIG TCP: payload length 0, no jumbo option: the frame's length */
	memset(&s, 0, sizeof(s));
	assert_int_equal(run(1, 0, 100000, 1400, 1, 1, &s), 0);
	assert_int_equal(s.gso_segments, 72); /* ceil(100000 / 1400) */
	assert_int_equal(seg[71].ip_len, 40 + 16 + 32 + 100000 - 71 * 1400);
}

/* BIG TCP as Linux 6.18 hands it over: payload length 0, a hop-by-hop
 * header with only the jumbo option; no segment carries it */
static void
test_big_tcp_jumbo_header(void **state)
{
	uint8_t f[256] = { 0 };
	struct slot s;
	struct capture c = { .dlt = DLT_EN10MB };
	struct virtio_net_hdr v = { .flags = 1,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .gso_size = 1428,
		.csum_start = 14 + 48, .csum_offset = 16 };
	struct pcap_pkthdr h;
	uint32_t payload = 184306 - 14 - 48 - 32, i;

	(void)state;
	f[12] = 0x86, f[13] = 0xdd, f[14] = 0x60;
	f[20] = 0, f[21] = 64; /* next header hop-by-hop */
	f[22] = 0x20, f[23] = 0x01, f[37] = 1, f[38] = 0x20, f[39] = 0x01;
	f[53] = 2;
	f[54] = 6, f[55] = 0, f[56] = 0xc2, f[57] = 4; /* jumbo payload */
	f[58] = (uint8_t)((payload + 40) >> 16), f[59] = (uint8_t)((payload + 40) >> 8);
	f[60] = (uint8_t)(payload + 40);
	f[62] = 0x03, f[63] = 0xe8, f[65] = 80, f[74] = 8 << 4, f[75] = 0x10;
	h.len = 184306;
	h.caplen = 192;
	memset(&s, 0, sizeof(s));
	nseg = 0;
	assert_int_equal(live_gso(&s, &c, &h, f, 0, &v, 0), 0);
	assert_int_equal(nseg, (payload + 1427) / 1428);
	for (i = 0; i < nseg; i++) {
		uint32_t n = i + 1 < nseg ? 1428 : payload - i * 1428;

		assert_int_equal(seg[i].r, DEC_IPV6);
		assert_int_equal(seg[i].ip_len, 40 + 32 + n);
		assert_int_equal(seg[i].len, 14 + 40 + 32 + n);
		assert_int_equal(seg[i].sport, 1000);
	}
}

static void
test_unsplit(void **state)
{
	struct slot s;

	(void)state;
	memset(&s, 0, sizeof(s));
	/* no checksum offset: where the L4 header is, is not said */
	assert_int_equal(run(0, 0, 10000, 1400, 0, 0, &s), -1);
	/* no segment size */
	assert_int_equal(run(0, 0, 10000, 0, 0, 1, &s), -1);
	assert_int_equal(s.gso_unsplit, 2);
	assert_int_equal(s.gso_frames, 0);
	assert_int_equal(nseg, 0);
}

/* Whatever the header and the capture say, nothing is read or written
 * beyond caplen (the sanitizer build checks), and segments are bounded. */
static void
test_any_header(void **state)
{
	uint8_t f[256];
	struct slot s;
	struct capture c = { .dlt = DLT_EN10MB };
	struct virtio_net_hdr v = { .flags = 1, .gso_size = 1 };
	struct pcap_pkthdr h;
	uint32_t l4, cap, cs, t;

	(void)state;
	memset(&s, 0, sizeof(s));
	for (t = 0; t < 8; t++)
		for (cap = 0; cap <= 196; cap += 7)
			for (cs = 0; cs < 210; cs += 3) {
				uint8_t *b = malloc(cap ? cap : 1);

				frame(f, t & 1, t & 2, 0, 0, &l4);
				memcpy(b, f, cap);
				v.gso_type = (uint8_t)(t & 4 ? 0x84 : 5);
				v.gso_size = (uint16_t)(t & 4 ? 1 : 0xffff);
				v.csum_start = (uint16_t)cs;
				h.caplen = cap;
				h.len = cap + 50;
				nseg = 0;
				live_gso(&s, &c, &h, b, 0, &v, (int)(t & 1) * 4);
				assert_true(nseg <= 50);
				free(b);
			}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_udp_and_big_tcp),
		cmocka_unit_test(test_big_tcp_jumbo_header),
		cmocka_unit_test(test_unsplit),
		cmocka_unit_test(test_any_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
