/* test_cdecode.c: the collector's decoder against the project's own encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "cdecode.h"
#include "fields.h"
#include "xpkt.h"

#define SECS 1700000000u
#define DOMAIN 3u
#define MAXREC 64

/* what the callback saw */
struct seen_rec {
	int version, options;
	uint32_t domain, seq;
	uint16_t tmpl_id;
	unsigned n_fields;
	struct {
		uint16_t type, len;
		uint32_t pen;
		int scope;
		uint8_t val[300];
	} f[8];
};

struct seen {
	unsigned n;
	struct seen_rec r[MAXREC];
};

static void
on_rec(const struct cdecode_rec *rec, void *arg)
{
	struct seen *s = arg;
	struct seen_rec *o;

	if (s->n >= MAXREC)
		return;
	o = &s->r[s->n++];
	o->version = rec->version;
	o->options = rec->options;
	o->domain = rec->domain;
	o->seq = rec->seq;
	o->tmpl_id = rec->tmpl_id;
	o->n_fields = rec->n_fields;
	for (unsigned i = 0; i < rec->n_fields && i < 8; i++) {
		o->f[i].type = rec->f[i].type;
		o->f[i].len = rec->f[i].len;
		o->f[i].pen = rec->f[i].pen;
		o->f[i].scope = rec->f[i].scope;
		assert_true(rec->f[i].len <= sizeof(o->f[i].val));
		memcpy(o->f[i].val, rec->f[i].val, rec->f[i].len);
	}
}

static struct sockaddr_storage
exporter(uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in s4;

	memset(&ss, 0, sizeof(ss));
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(port);
	s4.sin_addr.s_addr = htonl(0x7f000001);
	memcpy(&ss, &s4, sizeof(s4));
	return ss;
}

static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* the flow template (53-byte records) and the sampler options template */
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
fixture_row(uint8_t *row, unsigned i)
{
	static const uint8_t prefix[4] = {0x20, 0x01, 0x0d, 0xb8};
	struct wbuf w;

	wbuf_init(&w, row, 53);
	wbuf_put_bytes(&w, prefix, 4);
	wbuf_put_zero(&w, 11);
	wbuf_put_u8(&w, 1);
	wbuf_put_bytes(&w, prefix, 4);
	wbuf_put_zero(&w, 11);
	wbuf_put_u8(&w, (uint8_t)(2 + i));
	wbuf_put_u16(&w, (uint16_t)(1000 + i));
	wbuf_put_u16(&w, 443);
	wbuf_put_u8(&w, 6);
	wbuf_put_u64(&w, 10 + i);
	wbuf_put_u64(&w, 1000 * (i + 1));
	assert_int_equal(w.len, 53);
}

/*
 * A packet of the project's encoder: templates (when asked), n_flows flow
 * records and (when asked) one sampler options record.
 */
static size_t
build(int format, uint8_t *buf, size_t cap, uint32_t seq, int templates,
      unsigned n_flows, int sampler)
{
	struct tmpl data, opts;
	struct xpkt x;
	uint8_t row[53];

	fixture_templates(&data, &opts);
	xpkt_begin(&x, format, buf, cap, 1000, SECS, seq, DOMAIN);
	if (templates) {
		assert_int_equal(xpkt_add_template(&x, &data), 0);
		assert_int_equal(xpkt_add_template(&x, &opts), 0);
	}
	for (unsigned i = 0; i < n_flows; i++) {
		fixture_row(row, i);
		assert_int_equal(xpkt_add_data(&x, &data, row), 0);
	}
	if (sampler) {
		struct wbuf w;

		wbuf_init(&w, row, sizeof(row));
		wbuf_put_u32(&w, 2);
		wbuf_put_u8(&w, 1);
		wbuf_put_u8(&w, 2);
		wbuf_put_u32(&w, 1000);
		wbuf_put_u8(&w, 0);
		assert_int_equal(xpkt_add_data(&x, &opts, row), 0);
	}
	return xpkt_finish(&x);
}

static const struct cdecode_source *
src_of(const struct cdecode *st, int version)
{
	struct sockaddr_storage from = exporter(40000);
	const struct cdecode_source *s =
	    cdecode_find_source(st, &from, version, DOMAIN);

	assert_non_null(s);
	return s;
}

static void
check_round_trip(int format)
{
	struct sockaddr_storage from = exporter(40000);
	static struct seen seen;
	const struct cdecode_source *s;
	struct cdecode st;
	uint8_t pkt[1400];
	size_t len;

	memset(&seen, 0, sizeof(seen));
	cdecode_init(&st, 0);
	len = build(format, pkt, sizeof(pkt), 42, 1, 2, 1);
	assert_true(len > 0);
	assert_int_equal(cdecode_packet(&st, &from, pkt, len, on_rec, &seen),
			 CD_OK);
	assert_int_equal(seen.n, 3);
	for (unsigned i = 0; i < 2; i++) {
		struct seen_rec *r = &seen.r[i];

		assert_int_equal(r->version, format);
		assert_int_equal(r->domain, DOMAIN);
		assert_int_equal(r->seq, 42);
		assert_int_equal(r->tmpl_id, 256);
		assert_false(r->options);
		assert_int_equal(r->n_fields, 7);
		assert_int_equal(r->f[0].type, F_SRC_ADDR);
		assert_int_equal(r->f[0].len, 16);
		assert_int_equal(r->f[0].val[15], 1);
		assert_int_equal(r->f[1].type, F_DST_ADDR);
		assert_int_equal(r->f[1].val[15], 2 + i);
		assert_int_equal(be(r->f[2].val, 2), 1000 + i);
		assert_int_equal(be(r->f[3].val, 2), 443);
		assert_int_equal(r->f[4].val[0], 6);
		assert_int_equal(r->f[5].type, F_PACKETS);
		assert_int_equal(be(r->f[5].val, 8), 10 + i);
		assert_int_equal(r->f[6].type, F_BYTES);
		assert_int_equal(be(r->f[6].val, 8), 1000 * (i + 1));
		assert_false(r->f[0].scope);
	}
	assert_true(seen.r[2].options);
	assert_int_equal(seen.r[2].tmpl_id, 257);
	assert_int_equal(seen.r[2].n_fields, 5);
	assert_true(seen.r[2].f[0].scope);
	assert_false(seen.r[2].f[1].scope);
	/* v9 names the scope by a scope type: 2 Interface */
	assert_int_equal(seen.r[2].f[0].type, format == 9 ? 2 : F_INPUT_IF);
	assert_int_equal(be(seen.r[2].f[0].val, 4), 2);
	assert_int_equal(seen.r[2].f[3].type, F_SAMPLER_INTERVAL);
	assert_int_equal(be(seen.r[2].f[3].val, 4), 1000);

	s = src_of(&st, format);
	assert_int_equal(s->packets, 1);
	assert_int_equal(s->data_records, 2);
	assert_int_equal(s->options_records, 1);
	assert_int_equal(s->templates, 1);
	assert_int_equal(s->options_templates, 1);
	assert_int_equal(s->active_templates, 2);
	assert_int_equal(s->count_mismatch, 0);
	assert_int_equal(s->no_template, 0);
	for (int i = 0; i < CD_NREASONS; i++)
		assert_int_equal(st.malformed[i], 0);
	cdecode_free(&st);
}

static void
test_round_trip_v9(void **state)
{
	(void)state;
	check_round_trip(XPKT_V9);
}

static void
test_round_trip_ipfix(void **state)
{
	(void)state;
	check_round_trip(XPKT_IPFIX);
}

/* data before its template is counted and skipped, later decoded */
static void
test_unknown_template(void **state)
{
	struct sockaddr_storage from = exporter(40000), other = exporter(40001);
	static struct seen seen;
	struct cdecode st;
	uint8_t pkt[1400];
	size_t len;

	(void)state;
	for (int format = 9; format <= 10; format++) {
		memset(&seen, 0, sizeof(seen));
		cdecode_init(&st, 0);
		len = build(format, pkt, sizeof(pkt), 0, 0, 2, 1);
		assert_int_equal(
		    cdecode_packet(&st, &from, pkt, len, on_rec, &seen), CD_OK);
		assert_int_equal(seen.n, 0);
		assert_int_equal(src_of(&st, format)->no_template, 2);

		len = build(format, pkt, sizeof(pkt), 1, 1, 0, 0);
		cdecode_packet(&st, &from, pkt, len, on_rec, &seen);
		len = build(format, pkt, sizeof(pkt), format == 9 ? 2 : 0, 0, 2,
			    0);
		assert_int_equal(
		    cdecode_packet(&st, &from, pkt, len, on_rec, &seen), CD_OK);
		assert_int_equal(seen.n, 2);
		/* templates are per exporter port: another one knows none */
		assert_int_equal(
		    cdecode_packet(&st, &other, pkt, len, on_rec, &seen),
		    CD_OK);
		assert_int_equal(seen.n, 2);
		assert_int_equal(st.n_src, 2);
		assert_int_equal(src_of(&st, format)->no_template, 2);
		cdecode_free(&st);
	}
}

static void
feed(struct cdecode *st, int format, uint32_t seq, unsigned n_flows)
{
	struct sockaddr_storage from = exporter(40000);
	uint8_t pkt[1400];
	size_t len = build(format, pkt, sizeof(pkt), seq, 1, n_flows, 0);

	assert_int_equal(cdecode_packet(st, &from, pkt, len, NULL, NULL),
			 CD_OK);
}

static void
test_sequence_v9(void **state)
{
	const struct cdecode_source *s;
	struct cdecode st;

	(void)state;
	cdecode_init(&st, 0);
	feed(&st, 9, 7, 2);
	feed(&st, 9, 8, 2);
	s = src_of(&st, 9);
	assert_int_equal(s->seq_gaps, 0);
	feed(&st, 9, 11, 2); /* 9 and 10 lost */
	assert_int_equal(s->seq_gaps, 1);
	assert_int_equal(s->seq_lost, 2);
	feed(&st, 9, 10, 2); /* a late one */
	assert_int_equal(s->seq_ooo, 1);
	feed(&st, 9, 12, 2); /* in step with 11 again */
	assert_int_equal(s->seq_gaps, 1);
	assert_int_equal(s->seq_ooo, 1);
	cdecode_free(&st);

	/* flow mode: Sequence counts data records */
	cdecode_init(&st, CDECODE_V9_FLOW_SEQ);
	feed(&st, 9, 0, 3);
	feed(&st, 9, 3, 2);
	feed(&st, 9, 5, 1);
	s = src_of(&st, 9);
	assert_int_equal(s->seq_gaps, 0);
	feed(&st, 9, 7, 1);
	assert_int_equal(s->seq_gaps, 1);
	assert_int_equal(s->seq_lost, 1);
	cdecode_free(&st);

	/* flow-mode packets seen in packet mode are gaps */
	cdecode_init(&st, 0);
	feed(&st, 9, 0, 3);
	feed(&st, 9, 3, 3);
	assert_int_equal(src_of(&st, 9)->seq_gaps, 1);
	cdecode_free(&st);
}

static void
test_sequence_ipfix(void **state)
{
	const struct cdecode_source *s;
	struct cdecode st;

	(void)state;
	cdecode_init(&st, 0);
	feed(&st, 10, 100, 3);
	feed(&st, 10, 103, 1);
	feed(&st, 10, 104, 0); /* templates only */
	feed(&st, 10, 104, 2);
	s = src_of(&st, 10);
	assert_int_equal(s->seq_gaps, 0);
	feed(&st, 10, 110, 1); /* 4 records lost */
	assert_int_equal(s->seq_gaps, 1);
	assert_int_equal(s->seq_lost, 4);
	feed(&st, 10, 105, 1);
	assert_int_equal(s->seq_ooo, 1);
	feed(&st, 10, 111, 1);
	assert_int_equal(s->seq_gaps, 1);
	cdecode_free(&st);

	/* wraps around 2^32 */
	cdecode_init(&st, 0);
	feed(&st, 10, 0xfffffffeu, 1);
	feed(&st, 10, 0xffffffffu, 2);
	feed(&st, 10, 1, 1);
	s = src_of(&st, 10);
	assert_int_equal(s->seq_gaps, 0);
	assert_int_equal(s->seq_ooo, 0);
	cdecode_free(&st);
}

/* every prefix of a valid packet, in a buffer of exactly that size */
static void
check_truncations(int format, int fix_length)
{
	struct sockaddr_storage from = exporter(40000);
	static struct seen seen;
	struct cdecode st;
	uint8_t pkt[1400];
	size_t len = build(format, pkt, sizeof(pkt), 0, 1, 2, 1);

	cdecode_init(&st, 0);
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		int rc;

		assert_non_null(cut);
		memcpy(cut, pkt, n);
		if (fix_length && n >= 4) {
			cut[2] = (uint8_t)(n >> 8);
			cut[3] = (uint8_t)n;
		}
		seen.n = 0;
		rc = cdecode_packet(&st, &from, n ? cut : NULL, n, on_rec,
				    &seen);
		/* IPFIX Length gives away any cut; v9 cuts between sets not */
		if (format == XPKT_IPFIX && !fix_length)
			assert_int_not_equal(rc, CD_OK);
		assert_true(seen.n <= 3);
		free(cut);
	}
	cdecode_free(&st);
}

static void
test_truncations(void **state)
{
	(void)state;
	check_truncations(XPKT_V9, 0);
	check_truncations(XPKT_IPFIX, 0);
	check_truncations(XPKT_IPFIX, 1);
}

static void
test_short_and_bad_version(void **state)
{
	static const uint8_t v5[24] = {0, 5};
	uint8_t pkt[1400];
	struct cdecode st;
	size_t len;

	(void)state;
	cdecode_init(&st, 0);
	assert_int_equal(cdecode_packet(&st, NULL, v5, sizeof(v5), NULL, NULL),
			 CD_BAD_VERSION);
	assert_int_equal(cdecode_packet(&st, NULL, v5, 1, NULL, NULL),
			 CD_SHORT_HEADER);
	len = build(XPKT_V9, pkt, sizeof(pkt), 0, 1, 1, 0);
	assert_int_equal(cdecode_packet(&st, NULL, pkt, 19, NULL, NULL),
			 CD_SHORT_HEADER);
	/* IPFIX Length must be the datagram's */
	len = build(XPKT_IPFIX, pkt, sizeof(pkt), 0, 1, 1, 0);
	assert_int_equal(cdecode_packet(&st, NULL, pkt, len - 4, NULL, NULL),
			 CD_LENGTH);
	assert_int_equal(st.malformed[CD_BAD_VERSION], 1);
	assert_int_equal(st.malformed[CD_SHORT_HEADER], 2);
	assert_int_equal(st.malformed[CD_LENGTH], 1);
	cdecode_free(&st);
}

/* set lengths of 0, 3 and past the end stop the packet */
static void
test_set_length(void **state)
{
	static struct seen seen;
	uint8_t pkt[1400];
	struct cdecode st;
	size_t len;

	(void)state;
	for (int format = 9; format <= 10; format++) {
		size_t hdr = format == 9 ? V9_HDR_LEN : IPFIX_HDR_LEN;
		static const uint16_t bad[] = {0, 3, 1000};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			cdecode_init(&st, 0);
			memset(&seen, 0, sizeof(seen));
			len = build(format, pkt, sizeof(pkt), 0, 1, 2, 0);
			pkt[hdr + 2] = (uint8_t)(bad[i] >> 8);
			pkt[hdr + 3] = (uint8_t)bad[i];
			assert_int_equal(
			    cdecode_packet(&st, NULL, pkt, len, on_rec, &seen),
			    CD_SET_LENGTH);
			assert_int_equal(seen.n, 0);
			assert_int_equal(st.malformed[CD_SET_LENGTH], 1);
			assert_int_equal(st.src[0].malformed[CD_SET_LENGTH], 1);
			cdecode_free(&st);
		}
	}
}

/* a hand-made v9 packet: header then one set of the given bytes */
static size_t
v9_with_set(uint8_t *buf, size_t cap, uint16_t set_id, const uint8_t *body,
	    size_t n)
{
	struct wbuf w;

	wbuf_init(&w, buf, cap);
	v9_header(&w, 0, SECS, 0, DOMAIN);
	wbuf_put_u16(&w, set_id);
	wbuf_put_u16(&w, (uint16_t)(4 + n));
	wbuf_put_bytes(&w, body, n);
	v9_finish(&w, 1);
	assert_false(w.overflow);
	return w.len;
}

static void
test_bad_templates(void **state)
{
	static const struct {
		uint16_t set_id;
		uint8_t body[16];
		size_t n;
		int want;
	} cases[] = {
	    {0, {1, 0, 0, 0}, 4, CD_TMPL_NO_FIELDS},
	    {0, {1, 0, 0, 1, 0, 8, 0xff, 0xff}, 8, CD_TMPL_FIELD_LEN},
	    {0, {1, 0, 0, 1, 0, 8, 0, 0}, 8, CD_TMPL_FIELD_LEN},
	    {0, {0, 9, 0, 1, 0, 8, 0, 4}, 8, CD_TMPL_ID},
	    {0, {1, 0, 0, 2, 0, 8, 0, 4}, 8, CD_TMPL_SHORT},
	    {1, {1, 0, 0, 0, 0, 4, 0, 8, 0, 4}, 10, CD_TMPL_SCOPE},
	    {1, {1, 0, 0, 3, 0, 4, 0, 2, 0, 4}, 10, CD_TMPL_SCOPE},
	    {1, {1, 0, 0, 4, 0, 4, 0, 2, 0, 4}, 10, CD_TMPL_SHORT},
	};
	uint8_t pkt[256];
	struct cdecode st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = v9_with_set(pkt, sizeof(pkt), cases[i].set_id,
					 cases[i].body, cases[i].n);

		cdecode_init(&st, 0);
		assert_int_equal(
		    cdecode_packet(&st, NULL, pkt, len, NULL, NULL),
		    cases[i].want);
		assert_int_equal(st.n_templates, 0);
		cdecode_free(&st);
	}
}

/* a record cut by its set's end (4 or more bytes left) is malformed */
static void
test_record_longer_than_set(void **state)
{
	uint8_t pkt[1400], body[64];
	struct cdecode st;
	size_t len;

	(void)state;
	cdecode_init(&st, 0);
	len = build(XPKT_V9, pkt, sizeof(pkt), 0, 1, 0, 0);
	assert_int_equal(cdecode_packet(&st, NULL, pkt, len, NULL, NULL), 0);
	memset(body, 0, sizeof(body));
	len = v9_with_set(pkt, sizeof(pkt), 256, body, 40); /* < 53 */
	assert_int_equal(cdecode_packet(&st, NULL, pkt, len, NULL, NULL),
			 CD_RECORD_LEN);
	/* three bytes are padding */
	len = v9_with_set(pkt, sizeof(pkt), 256, body, 3);
	assert_int_equal(cdecode_packet(&st, NULL, pkt, len, NULL, NULL),
			 CD_OK);
	cdecode_free(&st);
}

/* IPFIX: varlen string, enterprise element, withdrawal */
static size_t
ipfix_varlen(uint8_t *buf, size_t cap, int long_form)
{
	struct wbuf w;
	size_t set;
	uint8_t name[300];

	memset(name, 'x', sizeof(name));
	wbuf_init(&w, buf, cap);
	ipfix_header(&w, SECS, 0, DOMAIN);
	wbuf_put_u16(&w, IPFIX_SET_TEMPLATE);
	wbuf_put_u16(&w, 4 + 4 + 3 * 4 + 4);
	wbuf_put_u16(&w, 300);
	wbuf_put_u16(&w, 3);
	wbuf_put_u16(&w, F_IF_NAME);
	wbuf_put_u16(&w, 0xffff);
	wbuf_put_u16(&w, 0x8000 | 7); /* enterprise element 7 of PEN 2011 */
	wbuf_put_u16(&w, 2);
	wbuf_put_u32(&w, 2011);
	wbuf_put_u16(&w, F_INPUT_IF);
	wbuf_put_u16(&w, 4);
	set = w.len;
	wbuf_put_u16(&w, 300);
	wbuf_put_u16(&w, 0); /* patched */
	/* "eth0", then 300 x's in the 3-byte length form */
	wbuf_put_u8(&w, 4);
	wbuf_put_bytes(&w, "eth0", 4);
	wbuf_put_u16(&w, 0xbeef);
	wbuf_put_u32(&w, 9);
	if (long_form) {
		wbuf_put_u8(&w, 255);
		wbuf_put_u16(&w, sizeof(name));
		wbuf_put_bytes(&w, name, sizeof(name));
		wbuf_put_u16(&w, 0xcafe);
		wbuf_put_u32(&w, 10);
	}
	wbuf_pad4(&w, set);
	wbuf_patch_u16(&w, set + 2, (uint16_t)(w.len - set));
	ipfix_finish(&w);
	assert_false(w.overflow);
	return w.len;
}

static void
test_ipfix_varlen(void **state)
{
	static struct seen seen;
	uint8_t pkt[1400];
	struct cdecode st;
	size_t len;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	cdecode_init(&st, 0);
	len = ipfix_varlen(pkt, sizeof(pkt), 1);
	assert_int_equal(cdecode_packet(&st, NULL, pkt, len, on_rec, &seen),
			 CD_OK);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.r[0].f[0].type, F_IF_NAME);
	assert_int_equal(seen.r[0].f[0].len, 4);
	assert_memory_equal(seen.r[0].f[0].val, "eth0", 4);
	assert_int_equal(seen.r[0].f[1].pen, 2011);
	assert_int_equal(seen.r[0].f[1].type, 7);
	assert_int_equal(be(seen.r[0].f[1].val, 2), 0xbeef);
	assert_int_equal(be(seen.r[0].f[2].val, 4), 9);
	assert_int_equal(seen.r[1].f[0].len, 300);
	assert_int_equal(seen.r[1].f[0].val[299], 'x');
	assert_int_equal(be(seen.r[1].f[2].val, 4), 10);

	/* a varlen length past the set */
	len = ipfix_varlen(pkt, sizeof(pkt), 1);
	pkt[16 + 24 + 4 + 11 + 1] = 0xff; /* 2nd record's 3-byte length */
	pkt[16 + 24 + 4 + 11 + 2] = 0xff;
	assert_int_equal(cdecode_packet(&st, NULL, pkt, len, NULL, NULL),
			 CD_RECORD_LEN);
	cdecode_free(&st);
}

static size_t
ipfix_withdraw(uint8_t *buf, size_t cap, uint16_t set_id, uint16_t id)
{
	struct wbuf w;

	wbuf_init(&w, buf, cap);
	ipfix_header(&w, SECS, 0, DOMAIN);
	wbuf_put_u16(&w, set_id);
	wbuf_put_u16(&w, 8);
	wbuf_put_u16(&w, id);
	wbuf_put_u16(&w, 0);
	ipfix_finish(&w);
	return w.len;
}

static void
test_ipfix_withdrawal(void **state)
{
	const struct cdecode_source *s;
	uint8_t pkt[1400];
	struct cdecode st;
	size_t len;

	(void)state;
	cdecode_init(&st, 0);
	feed(&st, 10, 0, 1);
	s = src_of(&st, 10);
	assert_int_equal(s->active_templates, 2);
	len = ipfix_withdraw(pkt, sizeof(pkt), IPFIX_SET_TEMPLATE, 256);
	assert_int_equal(cdecode_packet(&st, NULL, pkt, len, NULL, NULL), 0);
	/* NULL exporter is another source: nothing withdrawn there */
	assert_int_equal(s->active_templates, 2);
	{
		struct sockaddr_storage from = exporter(40000);

		assert_int_equal(
		    cdecode_packet(&st, &from, pkt, len, NULL, NULL), 0);
		assert_int_equal(s->active_templates, 1);
		assert_int_equal(s->withdrawals, 1);
		len = build(XPKT_IPFIX, pkt, sizeof(pkt), 1, 0, 2, 1);
		assert_int_equal(
		    cdecode_packet(&st, &from, pkt, len, NULL, NULL), 0);
		assert_int_equal(s->no_template, 1);
		assert_int_equal(s->options_records, 1);
		/* all options templates: set 3, id 3 */
		len = ipfix_withdraw(pkt, sizeof(pkt), IPFIX_SET_OPTIONS, 3);
		assert_int_equal(
		    cdecode_packet(&st, &from, pkt, len, NULL, NULL), 0);
		assert_int_equal(s->active_templates, 0);
		assert_int_equal(st.n_templates, 0);
	}
	cdecode_free(&st);
}

/* templates past CDECODE_MAX_TEMPLATES are refused, not stored */
static void
test_template_limit(void **state)
{
	struct sockaddr_storage from;
	uint8_t pkt[64];
	struct cdecode st;
	struct tmpl t;
	struct xpkt x;
	size_t len;

	(void)state;
	cdecode_init(&st, 0);
	memset(&t, 0, sizeof(t));
	tmpl_add_field(&t, F_BYTES, 8);
	for (unsigned i = 0; i < CDECODE_MAX_TEMPLATES + 10; i++) {
		from = exporter((uint16_t)(1000 + i / 60000));
		t.id = (uint16_t)(256 + i % 60000);
		xpkt_begin(&x, XPKT_IPFIX, pkt, sizeof(pkt), 0, SECS, 0,
			   DOMAIN);
		assert_int_equal(xpkt_add_template(&x, &t), 0);
		len = xpkt_finish(&x);
		assert_int_equal(
		    cdecode_packet(&st, &from, pkt, len, NULL, NULL), CD_OK);
	}
	assert_int_equal(st.n_templates, CDECODE_MAX_TEMPLATES);
	assert_int_equal(st.templates_refused, 10);
	/* a refresh of a stored template still works */
	t.id = 256;
	xpkt_begin(&x, XPKT_IPFIX, pkt, sizeof(pkt), 0, SECS, 0, DOMAIN);
	xpkt_add_template(&x, &t);
	len = xpkt_finish(&x);
	from = exporter(1000);
	cdecode_packet(&st, &from, pkt, len, NULL, NULL);
	assert_int_equal(st.n_templates, CDECODE_MAX_TEMPLATES);
	assert_int_equal(st.templates_refused, 10);
	cdecode_free(&st);
}

/* a refresh of a template keeps the others of its hash chain */
static void
test_template_refresh(void **state)
{
	static const uint8_t row[8] = {0, 0, 0, 0, 0, 0, 0, 7};
	static const uint16_t ids[] = {256, 256 + 4096, 256 + 8192, 256};
	struct sockaddr_storage from = exporter(1000);
	uint8_t pkt[64];
	struct cdecode st;
	struct tmpl t;
	struct xpkt x;
	size_t len;

	(void)state;
	cdecode_init(&st, 0);
	memset(&t, 0, sizeof(t));
	tmpl_add_field(&t, F_BYTES, 8);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		t.id = ids[i];
		xpkt_begin(&x, XPKT_IPFIX, pkt, sizeof(pkt), 0, SECS, 0,
			   DOMAIN);
		assert_int_equal(xpkt_add_template(&x, &t), 0);
		len = xpkt_finish(&x);
		cdecode_packet(&st, &from, pkt, len, NULL, NULL);
	}
	assert_int_equal(st.n_templates, 3);
	for (size_t i = 0; i < 3; i++) {
		t.id = ids[i];
		xpkt_begin(&x, XPKT_IPFIX, pkt, sizeof(pkt), 0, SECS, 0,
			   DOMAIN);
		assert_int_equal(xpkt_add_data(&x, &t, row), 0);
		len = xpkt_finish(&x);
		cdecode_packet(&st, &from, pkt, len, NULL, NULL);
	}
	assert_int_equal(st.src[0].data_records, 3);
	assert_int_equal(st.src[0].no_template, 0);
	cdecode_free(&st);
}

static uint32_t rng = 12345;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* random bytes and random mutations of valid packets: no crash */
static void
test_random(void **state)
{
	struct sockaddr_storage from = exporter(40000);
	static struct seen seen;
	uint8_t valid[2][1400];
	size_t vlen[2];
	struct cdecode st;

	(void)state;
	cdecode_init(&st, 0);
	vlen[0] = build(XPKT_V9, valid[0], sizeof(valid[0]), 0, 1, 2, 1);
	vlen[1] = build(XPKT_IPFIX, valid[1], sizeof(valid[1]), 0, 1, 2, 1);
	for (unsigned i = 0; i < 50000; i++) {
		size_t n = rnd() % 300;
		uint8_t *p;

		if (i % 2) { /* a mutated valid packet */
			int k = (int)(i / 2 % 2);

			n = vlen[k] - rnd() % 8;
			p = malloc(n);
			assert_non_null(p);
			memcpy(p, valid[k], n);
			for (unsigned m = rnd() % 4 + 1; m > 0; m--)
				p[rnd() % n] = (uint8_t)rnd();
		} else {
			p = malloc(n ? n : 1);
			assert_non_null(p);
			for (size_t j = 0; j < n; j++)
				p[j] = (uint8_t)rnd();
			if (n >= 2) { /* make most get past the version */
				p[0] = 0;
				p[1] = (uint8_t)(9 + (i / 2) % 2);
			}
		}
		seen.n = 0;
		cdecode_packet(&st, &from, p, n, on_rec, &seen);
		free(p);
	}
	cdecode_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_v9),
	    cmocka_unit_test(test_round_trip_ipfix),
	    cmocka_unit_test(test_unknown_template),
	    cmocka_unit_test(test_sequence_v9),
	    cmocka_unit_test(test_sequence_ipfix),
	    cmocka_unit_test(test_truncations),
	    cmocka_unit_test(test_short_and_bad_version),
	    cmocka_unit_test(test_set_length),
	    cmocka_unit_test(test_bad_templates),
	    cmocka_unit_test(test_record_longer_than_set),
	    cmocka_unit_test(test_ipfix_varlen),
	    cmocka_unit_test(test_ipfix_withdrawal),
	    cmocka_unit_test(test_template_limit),
	    cmocka_unit_test(test_template_refresh),
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
