/* test_v9.c: NetFlow v9 export packets (RFC 3954) from the xpkt builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fields.h"
#include "xpkt.h"

#define UPTIME 0x00012345u
#define SECS 1700000000u /* 0x6553f100 */
#define SEQ 7u
#define SOURCE_ID 3u

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

/* data template, options template, two flow records */
static size_t
fixture_packet(uint8_t *buf, size_t mtu)
{
	struct tmpl data, opts;
	struct xpkt x;
	uint8_t row[53];

	fixture_templates(&data, &opts);
	assert_int_equal(data.rec_len, sizeof(row));
	xpkt_begin(&x, XPKT_V9, buf, mtu, UPTIME, SECS, SEQ, SOURCE_ID);
	assert_int_equal(xpkt_add_template(&x, &data), 0);
	assert_int_equal(xpkt_add_template(&x, &opts), 0);
	for (unsigned i = 0; i < 2; i++) {
		fixture_row(row, sizeof(row), i);
		assert_int_equal(xpkt_add_data(&x, &data, row), 0);
	}
	assert_int_equal(xpkt_records(&x), 4);
	assert_int_equal(xpkt_data_records(&x), 2);
	return xpkt_finish(&x);
}

// clang-format off
#define ADDR(last) 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last
#define U64_16(v) 0, 0, 0, 0, 0, 0, ((v) >> 8) & 0xff, (v) & 0xff

static const uint8_t v9_want[] = {
	/* header (RFC 3954 section 5.1) */
	0x00, 0x09,             /*  0 Version 9 */
	0x00, 0x04,             /*  2 Count: 1 + 1 templates, 2 data records */
	0x00, 0x01, 0x23, 0x45, /*  4 sysUpTime */
	0x65, 0x53, 0xf1, 0x00, /*  8 UNIX Secs */
	0x00, 0x00, 0x00, 0x07, /* 12 Sequence Number */
	0x00, 0x00, 0x00, 0x03, /* 16 Source ID */
	/* template flowset (section 5.2) at 20 */
	0x00, 0x00,             /* 20 FlowSet ID 0 */
	0x00, 0x24,             /* 22 Length 36 = 4 + 4 + 7 * 4 */
	0x01, 0x00,             /* 24 Template ID 256 */
	0x00, 0x07,             /* 26 Field Count */
	0x00, 27, 0x00, 16,     /* 28 IPV6_SRC_ADDR */
	0x00, 28, 0x00, 16,     /*    IPV6_DST_ADDR */
	0x00, 7, 0x00, 2,       /*    L4_SRC_PORT */
	0x00, 11, 0x00, 2,      /*    L4_DST_PORT */
	0x00, 4, 0x00, 1,       /*    PROTOCOL */
	0x00, 2, 0x00, 8,       /*    IN_PKTS */
	0x00, 1, 0x00, 8,       /*    IN_BYTES */
	/* options template flowset (section 6.1) at 56 */
	0x00, 0x01,             /* 56 FlowSet ID 1 */
	0x00, 0x20,             /* 58 Length 32 = 4 + 6 + 5 * 4 + 2 padding */
	0x01, 0x01,             /* 60 Template ID 257 */
	0x00, 0x04,             /* 62 Option Scope Length: 1 scope field */
	0x00, 0x10,             /* 64 Option Length: 4 option fields */
	0x00, 0x02, 0x00, 4,    /* 66 scope Interface (2), 4 bytes */
	0x00, 48, 0x00, 1,      /* 70 FLOW_SAMPLER_ID */
	0x00, 49, 0x00, 1,      /* 74 FLOW_SAMPLER_MODE */
	0x00, 50, 0x00, 4,      /* 78 FLOW_SAMPLER_RANDOM_INTERVAL */
	0x00, 61, 0x00, 1,      /* 82 DIRECTION */
	0x00, 0x00,             /* 86 padding */
	/* data flowset (section 5.3) at 88 */
	0x01, 0x00,             /* 88 FlowSet ID = Template ID 256 */
	0x00, 0x70,             /* 90 Length 112 = 4 + 2 * 53 + 2 padding */
	ADDR(1), ADDR(2), 0x03, 0xe8, 0x01, 0xbb, 6, U64_16(10), U64_16(1000),
	ADDR(1), ADDR(3), 0x03, 0xe9, 0x01, 0xbb, 6, U64_16(11), U64_16(2000),
	0x00, 0x00,             /* 198 padding */
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
test_packet_bytes(void **state)
{
	uint8_t buf[1400];
	size_t len;

	(void)state;
	assert_int_equal(sizeof(v9_want), 200);
	memset(buf, 0xee, sizeof(buf));
	len = fixture_packet(buf, sizeof(buf));
	assert_int_equal(len, sizeof(v9_want));
	assert_memory_equal(buf, v9_want, sizeof(v9_want));
}

/* the same packet read field by field at the RFC 3954 offsets */
static void
test_packet_fields(void **state)
{
	uint8_t p[1400];
	size_t len, off, end;
	unsigned flowsets = 0;

	(void)state;
	len = fixture_packet(p, sizeof(p));
	assert_int_equal(be16(p, 0), 9);
	assert_int_equal(be16(p, 2), 4);
	assert_int_equal(be32(p, 4), UPTIME);
	assert_int_equal(be32(p, 8), SECS);
	assert_int_equal(be32(p, 12), SEQ);
	assert_int_equal(be32(p, 16), SOURCE_ID);

	/* every flowset is 4-aligned and the flowsets tile the packet */
	for (off = V9_HDR_LEN; off < len; off = end) {
		assert_true(off % 4 == 0);
		assert_true(be16(p, off + 2) % 4 == 0);
		end = off + be16(p, off + 2);
		assert_true(end <= len);
		flowsets++;
	}
	assert_int_equal(off, len);
	assert_int_equal(flowsets, 3);

	assert_int_equal(be16(p, 20), V9_SET_TEMPLATE);
	assert_int_equal(be16(p, 24), 256);
	assert_int_equal(be16(p, 26), 7);

	assert_int_equal(be16(p, 56), V9_SET_OPTIONS);
	assert_int_equal(be16(p, 60), 257);
	assert_int_equal(be16(p, 62), 4);  /* bytes of scope definitions */
	assert_int_equal(be16(p, 64), 16); /* bytes of option definitions */
	assert_int_equal(be16(p, 66), 2);  /* Interface scope */
	assert_int_equal(be16(p, 68), 4);
	assert_int_equal(be16(p, 70), F_SAMPLER_ID);
	assert_int_equal(be16(p, 78), F_SAMPLER_INTERVAL);
	assert_int_equal(be16(p, 80), 4);
	assert_int_equal(be16(p, 82), F_DIRECTION);
	assert_int_equal(be16(p, 86), 0);

	assert_int_equal(be16(p, 88), 256);
	assert_int_equal(be16(p, 90), 112);
	assert_int_equal(be16(p, 92 + 32), 1000); /* record 1 source port */
	assert_int_equal(be16(p, 92 + 53 + 32),
			 1001); /* record 2 source port */
	assert_int_equal(p[198], 0);
	assert_int_equal(p[199], 0);
}

/* an options data record: flowset id = options template id, padded */
static void
test_options_data(void **state)
{
	// clang-format off
	static const uint8_t want[] = {
		0x01, 0x01, 0x00, 0x10,   /* FlowSet 257, Length 16 */
		0x00, 0x00, 0x00, 0x02,   /* ifindex 2 */
		0x01, 0x02,               /* sampler 1, mode 2 (random) */
		0x00, 0x00, 0x03, 0xe8,   /* 1 in 1000 */
		0x00,                     /* inbound */
		0x00,                     /* padding */
	};
	// clang-format on
	struct tmpl data, opts;
	uint8_t buf[100], row[11];
	struct wbuf w;
	struct xpkt x;

	(void)state;
	fixture_templates(&data, &opts);
	wbuf_init(&w, row, sizeof(row));
	wbuf_put_u32(&w, 2);
	wbuf_put_u8(&w, 1);
	wbuf_put_u8(&w, 2);
	wbuf_put_u32(&w, 1000);
	wbuf_put_u8(&w, 0);
	assert_int_equal(w.len, opts.rec_len);
	xpkt_begin(&x, XPKT_V9, buf, sizeof(buf), UPTIME, SECS, SEQ, SOURCE_ID);
	assert_int_equal(xpkt_add_data(&x, &opts, row), 0);
	assert_int_equal(xpkt_finish(&x), V9_HDR_LEN + sizeof(want));
	assert_int_equal(be16(buf, 2), 1);
	assert_memory_equal(buf + V9_HDR_LEN, want, sizeof(want));
}

/* data of two templates interleaved: a new flowset each time the id changes */
static void
test_flowset_switch(void **state)
{
	struct tmpl data, opts;
	uint8_t buf[1400], row[53] = {0};
	struct xpkt x;
	size_t len;

	(void)state;
	fixture_templates(&data, &opts);
	xpkt_begin(&x, XPKT_V9, buf, sizeof(buf), UPTIME, SECS, SEQ, SOURCE_ID);
	assert_int_equal(xpkt_add_data(&x, &data, row), 0);
	assert_int_equal(xpkt_add_data(&x, &data, row), 0);
	assert_int_equal(xpkt_add_data(&x, &opts, row), 0);
	assert_int_equal(xpkt_add_data(&x, &data, row), 0);
	len = xpkt_finish(&x);
	/* 256: 4 + 106 + 2, 257: 4 + 11 + 1, 256: 4 + 53 + 3 */
	assert_int_equal(len, V9_HDR_LEN + 112 + 16 + 60);
	assert_int_equal(be16(buf, 2), 4);
	assert_int_equal(be16(buf, 20), 256);
	assert_int_equal(be16(buf, 22), 112);
	assert_int_equal(be16(buf, 132), 257);
	assert_int_equal(be16(buf, 134), 16);
	assert_int_equal(be16(buf, 148), 256);
	assert_int_equal(be16(buf, 150), 60);
}

/*
 * The fixture is 200 bytes. At mtu 198 the second record's 106 bytes would
 * fit the buffer but not the 2 padding bytes its flowset needs: refused.
 */
static void
test_mtu_record_does_not_fit(void **state)
{
	struct tmpl data, opts;
	uint8_t buf[200], row[53], one[200];
	struct xpkt x;
	size_t len, one_len;

	(void)state;
	fixture_templates(&data, &opts);
	for (size_t mtu = 148; mtu < 200; mtu++) {
		memset(buf, 0xee, sizeof(buf));
		xpkt_begin(&x, XPKT_V9, buf, mtu, UPTIME, SECS, SEQ, SOURCE_ID);
		assert_int_equal(xpkt_add_template(&x, &data), 0);
		assert_int_equal(xpkt_add_template(&x, &opts), 0);
		fixture_row(row, sizeof(row), 0);
		assert_int_equal(xpkt_add_data(&x, &data, row), 0);
		fixture_row(row, sizeof(row), 1);
		assert_int_equal(xpkt_add_data(&x, &data, row), -1);
		assert_int_equal(xpkt_records(&x), 3);
		assert_int_equal(xpkt_data_records(&x), 1);
		len = xpkt_finish(&x);
		assert_int_equal(len, 148); /* 88 + 4 + 53 + 3 padding */
		assert_true(len <= mtu);
		assert_int_equal(be16(buf, 2), 3);
		assert_int_equal(be16(buf, 90), 60);
		/* the same bytes as a packet that never tried the second */
		xpkt_begin(&x, XPKT_V9, one, sizeof(one), UPTIME, SECS, SEQ,
			   SOURCE_ID);
		xpkt_add_template(&x, &data);
		xpkt_add_template(&x, &opts);
		fixture_row(row, sizeof(row), 0);
		xpkt_add_data(&x, &data, row);
		one_len = xpkt_finish(&x);
		assert_int_equal(one_len, len);
		assert_memory_equal(buf, one, len);
	}
}

static void
test_mtu_exact_fill(void **state)
{
	uint8_t buf[200];

	(void)state;
	assert_int_equal(fixture_packet(buf, 200), 200);
	assert_memory_equal(buf, v9_want, sizeof(v9_want));
}

/* a template that does not fit is refused whole; a smaller one still fits */
static void
test_mtu_template_does_not_fit(void **state)
{
	struct tmpl data, opts;
	uint8_t buf[100];
	struct xpkt x;

	(void)state;
	fixture_templates(&data, &opts);
	/* header 20 + data template flowset 36 = 56; options needs 32 more */
	xpkt_begin(&x, XPKT_V9, buf, 87, UPTIME, SECS, SEQ, SOURCE_ID);
	assert_int_equal(xpkt_add_template(&x, &data), 0);
	assert_int_equal(xpkt_add_template(&x, &opts), -1);
	assert_int_equal(xpkt_records(&x), 1);
	assert_int_equal(xpkt_finish(&x), 56);
	assert_int_equal(be16(buf, 2), 1);
	assert_int_equal(be16(buf, 22), 36);

	xpkt_begin(&x, XPKT_V9, buf, 88, UPTIME, SECS, SEQ, SOURCE_ID);
	assert_int_equal(xpkt_add_template(&x, &data), 0);
	assert_int_equal(xpkt_add_template(&x, &opts), 0);
	assert_int_equal(xpkt_finish(&x), 88);
}

/* two templates share one template flowset */
static void
test_templates_share_flowset(void **state)
{
	struct tmpl data, opts, data2;
	uint8_t buf[200];
	struct xpkt x;

	(void)state;
	fixture_templates(&data, &opts);
	data2 = data;
	data2.id = 300;
	xpkt_begin(&x, XPKT_V9, buf, sizeof(buf), UPTIME, SECS, SEQ, SOURCE_ID);
	assert_int_equal(xpkt_add_template(&x, &data), 0);
	assert_int_equal(xpkt_add_template(&x, &data2), 0);
	assert_int_equal(xpkt_finish(&x), V9_HDR_LEN + 4 + 2 * 32);
	assert_int_equal(be16(buf, 2), 2);
	assert_int_equal(be16(buf, 20), 0);
	assert_int_equal(be16(buf, 22), 4 + 2 * 32);
	assert_int_equal(be16(buf, 56), 300);
}

/*
 * Options templates each get a set of their own: pmacct 1.7 and nfdump
 * 1.7 read only the first options template of a set (DESIGN.md).
 */
static void
test_options_template_alone(void **state)
{
	struct tmpl data, opts, opts2;
	uint8_t buf[200];
	struct xpkt x;
	size_t one = 4 + 6 + 4 * 5; /* set header, id and lengths, 5 fields */

	(void)state;
	fixture_templates(&data, &opts);
	opts2 = opts;
	opts2.id = 258;
	xpkt_begin(&x, XPKT_V9, buf, sizeof(buf), UPTIME, SECS, SEQ, SOURCE_ID);
	assert_int_equal(xpkt_add_template(&x, &opts), 0);
	assert_int_equal(xpkt_add_template(&x, &opts2), 0);
	assert_int_equal(xpkt_finish(&x), V9_HDR_LEN + 2 * (one + 2));
	assert_int_equal(be16(buf, 2), 2);
	/* flowset 1, its length (padded), template 257; then the second */
	assert_int_equal(be16(buf, 20), 1);
	assert_int_equal(be16(buf, 22), one + 2);
	assert_int_equal(be16(buf, 24), 257);
	assert_int_equal(be16(buf, 20 + one + 2), 1);
	assert_int_equal(be16(buf, 22 + one + 2), one + 2);
	assert_int_equal(be16(buf, 24 + one + 2), 258);
}

static void
test_bad_input(void **state)
{
	struct tmpl data, opts, bad;
	uint8_t buf[200], row[53] = {0};
	struct xpkt x;

	(void)state;
	fixture_templates(&data, &opts);
	xpkt_begin(&x, XPKT_V9, buf, sizeof(buf), UPTIME, SECS, SEQ, SOURCE_ID);
	bad = data;
	bad.id = 255; /* reserved for set ids */
	assert_int_equal(xpkt_add_template(&x, &bad), -1);
	assert_int_equal(xpkt_add_data(&x, &bad, row), -1);
	bad = data;
	bad.rec_len++; /* does not match its fields */
	assert_int_equal(xpkt_add_template(&x, &bad), -1);
	bad = opts;
	bad.n_scope = bad.n_fields; /* no option field */
	assert_int_equal(xpkt_add_template(&x, &bad), -1);
	bad = data;
	bad.f[0].len = 65535; /* variable length */
	assert_int_equal(xpkt_add_template(&x, &bad), -1);
	bad = data;
	bad.f[0].type |= 0x8000; /* enterprise bit */
	assert_int_equal(xpkt_add_template(&x, &bad), -1);
	assert_int_equal(xpkt_finish(&x), V9_HDR_LEN);
	assert_int_equal(be16(buf, 2), 0);

	/* not even the header fits: nothing is ever added */
	xpkt_begin(&x, XPKT_V9, buf, V9_HDR_LEN - 1, 0, 0, 0, 0);
	assert_int_equal(xpkt_add_data(&x, &data, row), -1);
	assert_int_equal(xpkt_finish(&x), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_packet_bytes),
	    cmocka_unit_test(test_packet_fields),
	    cmocka_unit_test(test_options_data),
	    cmocka_unit_test(test_flowset_switch),
	    cmocka_unit_test(test_mtu_record_does_not_fit),
	    cmocka_unit_test(test_mtu_exact_fill),
	    cmocka_unit_test(test_mtu_template_does_not_fit),
	    cmocka_unit_test(test_templates_share_flowset),
	    cmocka_unit_test(test_options_template_alone),
	    cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
