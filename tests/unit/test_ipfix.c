/* test_ipfix.c: IPFIX export messages (RFC 7011) from the xpkt builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "exportd.h"
#include "fields.h"
#include "xpkt.h"

#define UPTIME 0x00012345u
#define SECS 1700000000u /* 0x6553f100 */
#define SEQ 42u
#define DOMAIN 3u

/* a flow template (53-byte records) and the sampler options template */
static void
fixture_templates(struct tmpl *data, struct tmpl *opts)
{
	memset(data, 0, sizeof(*data));
	data->id = 256;
	tmpl_add_field(data, F_SRC_ADDR, 16);
	tmpl_add_field(data, F_DST_ADDR, 16);
	tmpl_add_field(data, F_SRC_PORT, 2);
	tmpl_add_field(data, F_DST_PORT, 2);
	tmpl_add_field(data, F_PROTOCOL, 1);
	tmpl_add_field(data, F_PACKETS, 8);
	tmpl_add_field(data, F_BYTES, 8);

	memset(opts, 0, sizeof(*opts));
	opts->id = 257;
	opts->n_scope = 1;
	tmpl_add_field(opts, F_INPUT_IF, 4);
	tmpl_add_field(opts, F_SAMPLER_ID, 1);
	tmpl_add_field(opts, F_SAMPLER_MODE, 1);
	tmpl_add_field(opts, F_SAMPLER_INTERVAL, 4);
	tmpl_add_field(opts, F_DIRECTION, 1);
}

/* flow i: 2001:db8::1 port 1000+i -> 2001:db8::(2+i) port 443, TCP */
static void
fixture_row(uint8_t *row, size_t len, unsigned i)
{
	static const uint8_t prefix[4] = {0x20, 0x01, 0x0d, 0xb8};
	struct wbuf w;

	wbuf_init(&w, row, len);
	wbuf_put_bytes(&w, prefix, sizeof(prefix));
	wbuf_put_zero(&w, 11);
	wbuf_put_u8(&w, 1);
	wbuf_put_bytes(&w, prefix, sizeof(prefix));
	wbuf_put_zero(&w, 11);
	wbuf_put_u8(&w, (uint8_t)(2 + i));
	wbuf_put_u16(&w, (uint16_t)(1000 + i));
	wbuf_put_u16(&w, 443);
	wbuf_put_u8(&w, 6);
	wbuf_put_u64(&w, 10 + i);
	wbuf_put_u64(&w, 1000 * (i + 1));
	assert_false(w.overflow);
	assert_int_equal(w.len, len);
}

/* sampler 1, random 1 in 1000, on ifindex 2 inbound */
static void
fixture_sampler_row(uint8_t *row, size_t len)
{
	struct wbuf w;

	wbuf_init(&w, row, len);
	wbuf_put_u32(&w, 2);
	wbuf_put_u8(&w, 1);
	wbuf_put_u8(&w, 2);
	wbuf_put_u32(&w, 1000);
	wbuf_put_u8(&w, 0);
	assert_false(w.overflow);
	assert_int_equal(w.len, len);
}

/* data template, options template, two flow records (and a sampler record) */
static size_t
fixture_packet(int format, uint8_t *buf, size_t mtu, int with_sampler)
{
	struct tmpl data, opts;
	struct xpkt x;
	uint8_t row[53];

	fixture_templates(&data, &opts);
	assert_int_equal(data.rec_len, sizeof(row));
	xpkt_begin(&x, format, buf, mtu, UPTIME, SECS, SEQ, DOMAIN);
	assert_int_equal(xpkt_add_template(&x, &data), 0);
	assert_int_equal(xpkt_add_template(&x, &opts), 0);
	for (unsigned i = 0; i < 2; i++) {
		fixture_row(row, sizeof(row), i);
		assert_int_equal(xpkt_add_data(&x, &data, row), 0);
	}
	if (with_sampler) {
		fixture_sampler_row(row, opts.rec_len);
		assert_int_equal(xpkt_add_data(&x, &opts, row), 0);
	}
	assert_int_equal(xpkt_data_records(&x), 2 + !!with_sampler);
	return xpkt_finish(&x);
}

// clang-format off
#define ADDR(last) 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last
#define U64_16(v) 0, 0, 0, 0, 0, 0, ((v) >> 8) & 0xff, (v) & 0xff

static const uint8_t ipfix_want[] = {
	/* message header (RFC 7011 section 3.1) */
	0x00, 0x0a,             /*  0 Version 10 */
	0x00, 0xc2,             /*  2 Length 194 */
	0x65, 0x53, 0xf1, 0x00, /*  4 Export Time */
	0x00, 0x00, 0x00, 0x2a, /*  8 Sequence Number */
	0x00, 0x00, 0x00, 0x03, /* 12 Observation Domain ID */
	/* template set (sections 3.3.2, 3.4.1) at 16 */
	0x00, 0x02,             /* 16 Set ID 2 */
	0x00, 0x24,             /* 18 Length 36 = 4 + 4 + 7 * 4 */
	0x01, 0x00,             /* 20 Template ID 256 */
	0x00, 0x07,             /* 22 Field Count */
	0x00, 27, 0x00, 16,     /* 24 sourceIPv6Address */
	0x00, 28, 0x00, 16,     /*    destinationIPv6Address */
	0x00, 7, 0x00, 2,       /*    sourceTransportPort */
	0x00, 11, 0x00, 2,      /*    destinationTransportPort */
	0x00, 4, 0x00, 1,       /*    protocolIdentifier */
	0x00, 2, 0x00, 8,       /*    packetDeltaCount */
	0x00, 1, 0x00, 8,       /*    octetDeltaCount */
	/* options template set (section 3.4.2.2) at 52 */
	0x00, 0x03,             /* 52 Set ID 3 */
	0x00, 0x1e,             /* 54 Length 30 = 4 + 6 + 5 * 4, no padding:
				 * optional (3.3.1), and python3-ipfix reads
				 * padding there as a record */
	0x01, 0x01,             /* 56 Template ID 257 */
	0x00, 0x05,             /* 58 Field Count, scope included */
	0x00, 0x01,             /* 60 Scope Field Count */
	0x00, 10, 0x00, 4,      /* 62 scope ingressInterface */
	0x00, 48, 0x00, 1,      /* 66 samplerId */
	0x00, 49, 0x00, 1,      /* 70 samplerMode */
	0x00, 50, 0x00, 4,      /* 74 samplerRandomInterval */
	0x00, 61, 0x00, 1,      /* 78 flowDirection */
	/* data set (section 3.3.2) at 82 */
	0x01, 0x00,             /* 82 Set ID = Template ID 256 */
	0x00, 0x70,             /* 84 Length 112 = 4 + 2 * 53 + 2 padding */
	ADDR(1), ADDR(2), 0x03, 0xe8, 0x01, 0xbb, 6, U64_16(10), U64_16(1000),
	ADDR(1), ADDR(3), 0x03, 0xe9, 0x01, 0xbb, 6, U64_16(11), U64_16(2000),
	0x00, 0x00,             /* 192 padding */
};
// clang-format on

static uint16_t
be16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] << 8 | p[off + 1]);
}

static uint32_t
be32(const uint8_t *p, size_t off)
{
	return (uint32_t)be16(p, off) << 16 | be16(p, off + 2);
}

static void
test_message_bytes(void **state)
{
	uint8_t buf[1400];
	size_t len;

	(void)state;
	assert_int_equal(sizeof(ipfix_want), 194);
	memset(buf, 0xee, sizeof(buf));
	len = fixture_packet(XPKT_IPFIX, buf, sizeof(buf), 0);
	assert_int_equal(len, sizeof(ipfix_want));
	assert_memory_equal(buf, ipfix_want, sizeof(ipfix_want));
}

/* the same message read field by field at the RFC 7011 offsets */
static void
test_message_fields(void **state)
{
	uint8_t p[1400];
	size_t len, off, end;
	unsigned sets = 0;

	(void)state;
	len = fixture_packet(XPKT_IPFIX, p, sizeof(p), 0);
	assert_int_equal(be16(p, 0), 10);
	assert_int_equal(be16(p, 2), len);  /* Length, not a record count */
	assert_int_equal(be32(p, 4), SECS); /* Export Time: sysUpTime unused */
	assert_int_equal(be32(p, 8), SEQ);
	assert_int_equal(be32(p, 12), DOMAIN);

	for (off = IPFIX_HDR_LEN; off < len; off = end) {
		/* data sets are padded to 4 bytes, template sets are not */
		if (be16(p, off) >= 256)
			assert_true(be16(p, off + 2) % 4 == 0);
		end = off + be16(p, off + 2);
		assert_true(end <= len);
		sets++;
	}
	assert_int_equal(off, len);
	assert_int_equal(sets, 3);

	assert_int_equal(be16(p, 16), IPFIX_SET_TEMPLATE);
	assert_int_equal(be16(p, 20), 256);
	assert_int_equal(be16(p, 22), 7);

	assert_int_equal(be16(p, 52), IPFIX_SET_OPTIONS);
	assert_int_equal(be16(p, 56), 257);
	assert_int_equal(be16(p, 58), 5);
	assert_int_equal(be16(p, 60), 1);
	assert_int_equal(be16(p, 62), F_INPUT_IF); /* no v9 scope type here */
	assert_int_equal(be16(p, 64), 4);
	assert_int_equal(be16(p, 78), F_DIRECTION);
	assert_int_equal(be16(p, 54), 30);

	assert_int_equal(be16(p, 82), 256);
	assert_int_equal(be16(p, 84), 112);
	assert_int_equal(be16(p, 86 + 32), 1000);
	assert_int_equal(be16(p, 86 + 53 + 32), 1001);
	assert_int_equal(be16(p, 192), 0);
}

/* at mtu 192 the second record fits the buffer but not its padding */
static void
test_mtu_record_does_not_fit(void **state)
{
	struct tmpl data, opts;
	uint8_t buf[196], row[53];
	struct xpkt x;

	(void)state;
	fixture_templates(&data, &opts);
	for (size_t mtu = 142; mtu < 194; mtu++) {
		xpkt_begin(&x, XPKT_IPFIX, buf, mtu, 0, SECS, SEQ, DOMAIN);
		assert_int_equal(xpkt_add_template(&x, &data), 0);
		assert_int_equal(xpkt_add_template(&x, &opts), 0);
		fixture_row(row, sizeof(row), 0);
		assert_int_equal(xpkt_add_data(&x, &data, row), 0);
		fixture_row(row, sizeof(row), 1);
		assert_int_equal(xpkt_add_data(&x, &data, row), -1);
		assert_int_equal(xpkt_data_records(&x), 1);
		assert_int_equal(xpkt_finish(&x), 142); /* 82 + 4 + 53 + 3 */
		assert_int_equal(be16(buf, 2), 142);
		assert_int_equal(be16(buf, 84), 60);
	}
}

static void
test_mtu_exact_fill(void **state)
{
	uint8_t buf[196];

	(void)state;
	assert_int_equal(fixture_packet(XPKT_IPFIX, buf, 194, 0), 194);
	assert_memory_equal(buf, ipfix_want, sizeof(ipfix_want));
}

/* records fill a 1400-byte message; the one that would pass it is refused */
static void
test_mtu_fill_many(void **state)
{
	struct tmpl data, opts;
	uint8_t buf[1400], row[53] = {0};
	struct xpkt x;
	unsigned n = 0;
	size_t len;

	(void)state;
	fixture_templates(&data, &opts);
	xpkt_begin(&x, XPKT_IPFIX, buf, sizeof(buf), 0, SECS, SEQ, DOMAIN);
	while (xpkt_add_data(&x, &data, row) == 0)
		n++;
	/* (1400 - 16 - 4) / 53 = 26 records, 1378 + 2 padding */
	assert_int_equal(n, 26);
	len = xpkt_finish(&x);
	assert_int_equal(len, 16 + 4 + 26 * 53 + 2);
	assert_true(len <= sizeof(buf));
	assert_int_equal(be16(buf, 2), len);
}

/* mtu above what a 16-bit Length can say is clamped */
static void
test_mtu_clamped(void **state)
{
	static uint8_t buf[70000];
	struct tmpl data, opts;
	uint8_t row[53] = {0};
	struct xpkt x;
	size_t len;

	(void)state;
	fixture_templates(&data, &opts);
	xpkt_begin(&x, XPKT_IPFIX, buf, sizeof(buf), 0, SECS, SEQ, DOMAIN);
	while (xpkt_add_data(&x, &data, row) == 0)
		;
	len = xpkt_finish(&x);
	assert_true(len <= XPKT_MAX_LEN);
	assert_int_equal(be16(buf, 2), len);
}

/* builds IPv4 + UDP 127.0.0.1:40000 -> 127.0.0.1:port around a payload */
static size_t
udp_frame(uint8_t *frame, size_t cap, uint16_t port, const uint8_t *payload,
	  size_t len)
{
	struct wbuf w;
	uint32_t sum = 0;

	wbuf_init(&w, frame, cap);
	wbuf_put_u8(&w, 0x45);
	wbuf_put_u8(&w, 0);
	wbuf_put_u16(&w, (uint16_t)(20 + 8 + len));
	wbuf_put_u16(&w, 1);	  /* id */
	wbuf_put_u16(&w, 0x4000); /* don't fragment */
	wbuf_put_u8(&w, 64);
	wbuf_put_u8(&w, 17);
	wbuf_put_u16(&w, 0); /* checksum, below */
	wbuf_put_u32(&w, 0x7f000001);
	wbuf_put_u32(&w, 0x7f000001);
	wbuf_put_u16(&w, 40000);
	wbuf_put_u16(&w, port);
	wbuf_put_u16(&w, (uint16_t)(8 + len));
	wbuf_put_u16(&w, 0); /* no UDP checksum: allowed over IPv4 */
	wbuf_put_bytes(&w, payload, len);
	assert_false(w.overflow);
	for (size_t i = 0; i < 20; i += 2)
		sum += be16(frame, i);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	wbuf_patch_u16(&w, 10, (uint16_t)~sum);
	return w.len;
}

/*
 * Writes a v9 packet (to port 2055) and an IPFIX message (to 4739) into a
 * pcap and reads them back. With NS_XPKT_PCAP set the file is kept there
 * for tests/unit/tshark_check.sh to decode.
 */
static void
test_pcap(void **state)
{
	uint8_t pkt[2][1400], frame[1500];
	static const uint16_t port[2] = {2055, 4739};
	size_t len[2];
	char path[256];
	const char *keep = getenv("NS_XPKT_PCAP");
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_dumper_t *d;
	pcap_t *p;

	(void)state;
	if (keep != NULL)
		snprintf(path, sizeof(path), "%s", keep);
	else
		snprintf(path, sizeof(path), "/tmp/netstreamd-xpkt-%ld.pcap",
			 (long)getpid());
	len[0] = fixture_packet(XPKT_V9, pkt[0], sizeof(pkt[0]), 1);
	len[1] = fixture_packet(XPKT_IPFIX, pkt[1], sizeof(pkt[1]), 1);
	/* 11-byte sampler record + 1 padding in a set of its own */
	assert_int_equal(len[0], 200 + 16);
	assert_int_equal(len[1], 194 + 16);

	p = pcap_open_dead(DLT_RAW, 65535);
	assert_non_null(p);
	d = pcap_dump_open(p, path);
	assert_non_null(d);
	for (int i = 0; i < 2; i++) {
		struct pcap_pkthdr ph = {0};

		ph.ts.tv_sec = SECS;
		ph.ts.tv_usec = i;
		ph.caplen = ph.len = (bpf_u_int32)udp_frame(
		    frame, sizeof(frame), port[i], pkt[i], len[i]);
		pcap_dump((u_char *)d, &ph, frame);
	}
	pcap_dump_close(d);
	pcap_close(p);

	p = pcap_open_offline(path, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pcap_next_ex(p, &h, &data), 1);
		assert_int_equal(h->caplen, 28 + len[i]);
		assert_int_equal(be16(data, 22), port[i]);
		assert_memory_equal(data + 28, pkt[i], len[i]);
	}
	assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	if (keep == NULL)
		unlink(path);
}

/* one options template per set (pmacct 1.7, nfdump 1.7: DESIGN.md) */
static void
test_options_template_alone(void **state)
{
	struct tmpl data, opts, opts2;
	uint8_t buf[200];
	struct xpkt x;
	size_t one = 4 + 6 + 4 * 5; /* set header, id and counts, 5 fields */

	(void)state;
	fixture_templates(&data, &opts);
	opts2 = opts;
	opts2.id = 258;
	xpkt_begin(&x, XPKT_IPFIX, buf, sizeof(buf), 0, 0, 0, DOMAIN);
	assert_int_equal(xpkt_add_template(&x, &opts), 0);
	assert_int_equal(xpkt_add_template(&x, &opts2), 0);
	assert_int_equal(xpkt_finish(&x), IPFIX_HDR_LEN + 2 * one);
	assert_int_equal(be16(buf, 16), IPFIX_SET_OPTIONS);
	assert_int_equal(be16(buf, 18), one); /* not padded */
	assert_int_equal(be16(buf, 20), 257);
	assert_int_equal(be16(buf, 16 + one), IPFIX_SET_OPTIONS);
	assert_int_equal(be16(buf, 18 + one), one);
	assert_int_equal(be16(buf, 20 + one), 258);
}

/*
 * IPFIX hosts get flowStart/EndMilliseconds (152/153, 8 bytes, unix ms)
 * for first/last-switched, the sysUpTime ms plus the exporter's boot.
 */
static void
test_times_absolute(void **state)
{
	struct tmpl in, out;
	uint8_t row[4 + 4 + 1], got[8 + 8 + 1];
	struct wbuf w;
	const int64_t boot = 1700000000123LL;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.id = 300;
	tmpl_add_field(&in, F_FIRST_SWITCHED, 4);
	tmpl_add_field(&in, F_LAST_SWITCHED, 4);
	tmpl_add_field(&in, F_PROTOCOL, 1);
	assert_int_equal(ipfix_times(&in, &out), 1);
	assert_int_equal(out.id, 300);
	assert_int_equal(out.n_fields, 3);
	assert_int_equal(out.f[0].type, 152);
	assert_int_equal(out.f[0].len, 8);
	assert_int_equal(out.f[1].type, 153);
	assert_int_equal(out.f[1].len, 8);
	assert_int_equal(out.f[2].type, F_PROTOCOL);
	assert_int_equal(out.rec_len, 17);
	assert_int_equal(tmpl_check(&out), 0);

	wbuf_init(&w, row, sizeof(row));
	wbuf_put_u32(&w, 0xfffff000u); /* 49.7 days of uptime */
	wbuf_put_u32(&w, 0xfffffff0u);
	wbuf_put_u8(&w, 58);
	/* exported at the last one, 49.7 days after boot */
	assert_int_equal(times_row(&in, row, boot + 0xfffffff0LL, boot, 1, 0,
	    got), 0);
	assert_int_equal(be32(got, 0), (uint32_t)((boot + 0xfffff000LL) >> 32));
	assert_int_equal(be32(got, 4), (uint32_t)(boot + 0xfffff000LL));
	assert_int_equal(be32(got, 8), (uint32_t)((boot + 0xfffffff0LL) >> 32));
	assert_int_equal(be32(got, 12), (uint32_t)(boot + 0xfffffff0LL));
	assert_int_equal(got[16], 58);

	/* a record without times is left alone */
	memset(&in, 0, sizeof(in));
	in.id = 301;
	tmpl_add_field(&in, F_PACKETS, 8);
	assert_int_equal(ipfix_times(&in, &out), 0);
	assert_int_equal(out.rec_len, 8);
	assert_int_equal(out.f[0].type, F_PACKETS);

	/* the sampler id becomes selectorId, 8 bytes (RFC 7270) */
	memset(&in, 0, sizeof(in));
	in.id = 302;
	tmpl_add_field(&in, F_PACKETS, 4);
	tmpl_add_field(&in, F_SAMPLER_ID, 1);
	assert_int_equal(ipfix_times(&in, &out), 1);
	assert_int_equal(out.f[1].type, 302);
	assert_int_equal(out.f[1].len, 8);
	assert_int_equal(out.rec_len, 12);
	row[0] = row[1] = row[2] = 0;
	row[3] = 9;
	row[4] = 7;
	assert_int_equal(times_row(&in, row, boot, boot, 1, 0, got), 0);
	assert_int_equal(be32(got, 0), 9);
	assert_int_equal(be32(got, 4), 0);
	assert_int_equal(be32(got, 8), 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_message_bytes),
	    cmocka_unit_test(test_message_fields),
	    cmocka_unit_test(test_mtu_record_does_not_fit),
	    cmocka_unit_test(test_mtu_exact_fill),
	    cmocka_unit_test(test_mtu_fill_many),
	    cmocka_unit_test(test_mtu_clamped),
	    cmocka_unit_test(test_pcap),
	    cmocka_unit_test(test_options_template_alone),
	    cmocka_unit_test(test_times_absolute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
