/* test_cache.c: the flow cache: keys, growth, aging reasons, full policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fields.h"
#include "../../sampled/sampled.h"
#include "../../sampled/sampled_fields.h"

/* push_row stub: remember what was aged, and why */
static uint64_t aged_packets, aged_bytes;
static unsigned aged[END_MAX], aged_total;

void
push_row(struct slot *s, struct binding *b, struct flow *f, int reason)
{
	(void)s;
	(void)b;
	aged[reason]++;
	aged_total++;
	aged_packets += f->packets;
	aged_bytes += f->bytes;
}

static uint32_t match5[] = { F_SRC_ADDR, F_DST_ADDR, F_PROTOCOL, F_SRC_PORT,
	F_DST_PORT };
static uint32_t coll[] = { F_PACKETS, F_BYTES };
static Netstream__Plan plan;
static Netstream__Record rec;
static Netstream__Binding pb;
static struct slot slot;
static struct binding bnd;

static int
setup(void **state)
{
	(void)state;
	netstream__plan__init(&plan);
	netstream__record__init(&rec);
	netstream__binding__init(&pb);
	rec.n_match = 5;
	rec.match = match5;
	rec.n_collect = 2;
	rec.collect = coll;
	rec.template_id = 258;
	memset(&slot, 0, sizeof(slot));
	memset(&bnd, 0, sizeof(bnd));
	slot.plan = &plan;
	slot.flows_max = 1u << 20;
	slot.active_ms = 60000;
	slot.inactive_ms = 30000;
	bnd.pb = &pb;
	bnd.rec = &rec;
	bnd.cache = cache_new(&plan, &rec);
	memset(aged, 0, sizeof(aged));
	aged_total = 0;
	aged_packets = aged_bytes = 0;
	return bnd.cache == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	cache_free(bnd.cache);
	return 0;
}

static struct pkt
pkt(unsigned flow, uint8_t flags, uint32_t len)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.src[0] = 0x20;
	p.src[12] = (uint8_t)(flow >> 24);
	p.src[13] = (uint8_t)(flow >> 16);
	p.src[14] = (uint8_t)(flow >> 8);
	p.src[15] = (uint8_t)flow;
	p.dst[15] = 1;
	p.proto = 6;
	p.sport = 1000;
	p.dport = 80;
	p.tcp_flags = flags;
	p.ip_len = len;
	return p;
}

/* Flows 0..n-1, one 100-byte packet each, the one of flow i at t + i * step. */
static void
feed(unsigned n, uint32_t t, uint32_t step)
{
	struct pkt p;
	unsigned i;

	for (i = 0; i < n; i++) {
		p = pkt(i, 0x10, 100);
		cache_packet(&slot, &bnd, &p, t + i * step);
	}
}

static void
key_is_the_match_fields(void **state)
{
	(void)state;
	assert_int_equal(bnd.cache->key_len, 16 + 16 + 1 + 2 + 2);
	/* packets, bytes, and ICMP_TYPE (32, 2 bytes): a record with
	 * protocol and destination-port carries it (DESIGN.md) */
	assert_int_equal(bnd.cache->layout.rec_len, 37 + 8 + 8 + 2);
	assert_int_equal(bnd.cache->layout.n_fields, 5 + 2 + 1);
	assert_int_equal(bnd.cache->layout.f[7].type, 32);
	assert_int_equal(bnd.cache->layout.f[7].len, 2);
	assert_int_equal(bnd.cache->off_src, 0);
	assert_int_equal(bnd.cache->off_dst, 16);
	assert_int_equal(bnd.cache->off_proto, 32);
	assert_int_equal(bnd.cache->off_dport, 35);
	/* a 5-tuple flow is one cache line of the array */
	assert_int_equal(bnd.cache->esize, 64);
}

/* thousands of flows through several growths: every one found again */
static void
grows_and_finds_every_flow(void **state)
{
	struct pkt p;
	unsigned i;

	(void)state;
	feed(5000, 1, 0);
	feed(5000, 2, 0);
	assert_int_equal(bnd.cache->used, 5000);
	assert_int_equal(bnd.cache->created, 5000);
	cache_flush(&slot, &bnd, END_FORCED);
	assert_int_equal(aged[END_FORCED], 5000);
	assert_int_equal(aged_packets, 10000);
	assert_int_equal(aged_bytes, 1000000);
	assert_int_equal(slot.flows_total, 0);
	assert_int_equal(bnd.cache->used, 0);
	/* the flushed cache starts again empty: every flow is new */
	for (i = 0; i < 3000; i++) {
		p = pkt(i, 0x10, 100);
		cache_packet(&slot, &bnd, &p, 3);
		cache_packet(&slot, &bnd, &p, 3);
	}
	assert_int_equal(bnd.cache->used, 3000);
	assert_int_equal(bnd.cache->created, 8000);
	cache_flush(&slot, &bnd, END_FORCED);
	assert_int_equal(aged[END_FORCED], 8000);
	assert_int_equal(aged_packets, 16000);
}

/*
 * A limit that is not a power of two, reached; then a plan raises it and
 * the cache keeps its flows: the array moves to a bigger reservation and
 * every flow, old and new, is found again with its counts.
 */
static void
raised_limit_moves_the_flows(void **state)
{
	(void)state;
	slot.flows_max = 3000;
	slot.drop_new = 1;
	feed(3100, 1, 0);
	assert_int_equal(bnd.cache->used, 3000);
	assert_int_equal(bnd.cache->dropped_full, 100);
	slot.flows_max = 1u << 20;
	feed(9000, 2, 0);
	assert_int_equal(bnd.cache->used, 9000);
	assert_int_equal(bnd.cache->created, 9000);
	assert_true(bnd.cache->reserved >= slot.flows_max);
	cache_flush(&slot, &bnd, END_FORCED);
	assert_int_equal(aged[END_FORCED], 9000);
	/* 3000 flows of two packets, 6000 of one */
	assert_int_equal(aged_packets, 3000 * 2 + 6000);
	assert_int_equal(aged_bytes, (3000 * 2 + 6000) * 100);
}

/*
 * Keys that share one hash group, n of them, from flow numbers at and
 * after *from; same_tag: their tags are equal too, so only the key tells
 * them apart. The cache must hold a flow already (its groups exist).
 */
static unsigned
same_group(unsigned *out, unsigned n, unsigned *from, int same_tag)
{
	uint8_t key[LAYOUT_MAX_ROW];
	struct pkt p = pkt(0, 0x10, 100);
	uint32_t want = cache_key(&slot, &bnd, &p, key), h;
	uint32_t mask = bnd.cache->gmask | (same_tag ? 0xff000000u : 0);
	unsigned k = 0, i;

	for (i = *from; k < n && i < *from + 100000000u; i++) {
		p = pkt(i, 0x10, 100);
		h = cache_key(&slot, &bnd, &p, key);
		if ((h & mask) == (want & mask))
			out[k++] = i;
	}
	*from = i;
	return k;
}

/* n packets of 100 bytes, one to each flow of f[], at time t */
static void
feed_these(const unsigned *f, unsigned n, uint8_t flags, uint32_t t)
{
	struct pkt p;
	unsigned i;

	for (i = 0; i < n; i++) {
		p = pkt(f[i], flags, 100);
		cache_packet(&slot, &bnd, &p, t);
	}
}

static int
groups_are_empty(const struct cache *c)
{
	uint32_t g;
	unsigned s;

	for (g = 0; g <= c->gmask; g++) {
		if (c->groups[g].over != 0)
			return 0;
		for (s = 0; s < HG_SLOTS; s++)
			if (c->groups[g].tag[s] != 0)
				return 0;
	}
	return 1;
}

/*
 * More flows in one hash group than it has slots, their tags equal: the
 * ones that spill go on to the next groups, every one is found again by
 * its key, those that end leave their slots and the spill counts as
 * they were, and flows come back into the freed slots.
 */
static void
a_full_group_spills_and_empties(void **state)
{
	enum { N = 3 * HG_SLOTS };
	unsigned f[N], from = 1;

	(void)state;
	feed(1, 1, 0);
	assert_int_equal(same_group(f, N, &from, 1), N);
	feed_these(f, N, 0x10, 2);
	assert_int_equal(bnd.cache->used, N + 1);
	feed_these(f, N, 0x10, 3); /* every one found: none created */
	assert_int_equal(bnd.cache->created, N + 1);
	/* a FIN ends the first third (in the home group) and the last */
	feed_these(f, HG_SLOTS, 0x11, 4);
	feed_these(f + 2 * HG_SLOTS, HG_SLOTS, 0x11, 4);
	assert_int_equal(aged[END_FLOW], 2 * HG_SLOTS);
	assert_int_equal(bnd.cache->used, HG_SLOTS + 1);
	feed_these(f + HG_SLOTS, HG_SLOTS, 0x10, 5); /* still found */
	assert_int_equal(bnd.cache->created, N + 1);
	feed_these(f, N, 0x10, 6); /* two thirds back, new */
	assert_int_equal(bnd.cache->created, N + 1 + 2 * HG_SLOTS);
	assert_int_equal(bnd.cache->used, N + 1);
	/* all of them ended one by one (flow 0 too): the hash is empty */
	feed_these(f, N, 0x11, 7);
	f[0] = 0;
	feed_these(f, 1, 0x11, 8);
	assert_int_equal(bnd.cache->used, 0);
	assert_true(groups_are_empty(bnd.cache));
}

/*
 * More than 255 flows spill past one group: its count sticks at its
 * maximum, and the flows are still each found, ended and made again.
 */
static void
a_saturated_spill_count_stays_exact(void **state)
{
	enum { N = 280 };
	unsigned f[N], from = 1;
	struct pkt p = pkt(0, 0x10, 100);
	uint8_t key[LAYOUT_MAX_ROW];
	uint32_t g;

	(void)state;
	feed(1, 1, 0);
	assert_int_equal(same_group(f, N, &from, 0), N);
	g = cache_key(&slot, &bnd, &p, key) & bnd.cache->gmask;
	feed_these(f, N, 0x10, 2);
	feed_these(f, N, 0x10, 3);
	assert_int_equal(bnd.cache->created, N + 1);
	assert_int_equal(bnd.cache->groups[g].over, UINT8_MAX);
	feed_these(f, N, 0x11, 4);
	assert_int_equal(aged[END_FLOW], N);
	assert_int_equal(bnd.cache->used, 1);
	assert_int_equal(bnd.cache->groups[g].over, UINT8_MAX);
	feed_these(f, N, 0x10, 5);
	feed_these(f, N, 0x10, 6);
	assert_int_equal(bnd.cache->created, 2 * N + 1);
	assert_int_equal(bnd.cache->used, N + 1);
	cache_flush(&slot, &bnd, END_FORCED);
	assert_int_equal(aged_packets, 1 + N * 3 + N * 2);
	assert_true(groups_are_empty(bnd.cache));
}

/* the key ops write every match field as field_put_key does */
static void
key_ops_write_what_field_put_key_writes(void **state)
{
	static uint32_t m[] = { F_SRC_ADDR, F_DST_ADDR, F_PROTOCOL,
		F_TRAFFIC_CLASS, F_TCP_FLAGS, F_SRC_PORT, F_DST_PORT,
		F_SRC_VLAN, F_FLOW_LABEL, F_DIRECTION };
	Netstream__Record r2;
	struct binding b2 = bnd;
	struct fctx x = { .rs = NULL };
	uint8_t got[LAYOUT_MAX_ROW], want[LAYOUT_MAX_ROW];
	struct pkt p = pkt(0x01020304, 0x12, 100);
	unsigned k, off = 0;

	(void)state;
	p.dst[0] = 0xfe;
	p.tclass = 0xb8;
	p.sport = 0xabcd;
	p.dport = 0x0102;
	p.vlan = 0x0fed;
	p.flow_label = 0xbeef5;
	netstream__record__init(&r2);
	r2.n_match = sizeof(m) / sizeof(m[0]);
	r2.match = m;
	r2.template_id = 259;
	b2.rec = &r2;
	b2.cache = cache_new(&plan, &r2);
	assert_non_null(b2.cache);
	assert_int_equal(b2.cache->kop_fields, 1); /* flow label, direction */
	cache_key(&slot, &b2, &p, got);
	for (k = 0; k < r2.n_match; k++) {
		field_put_key(want + off, b2.cache->layout.f[k].type,
		    b2.cache->layout.f[k].len, &p, &x);
		off += b2.cache->layout.f[k].len;
	}
	assert_int_equal(off, b2.cache->key_len);
	assert_memory_equal(got, want, off);
	cache_free(b2.cache);
}

static void
fin_on_first_packet_does_not_end(void **state)
{
	struct pkt p = pkt(1, 0x11, 60);

	(void)state;
	cache_packet(&slot, &bnd, &p, 1);
	assert_int_equal(aged_total, 0);
	p = pkt(1, 0x10, 60);
	cache_packet(&slot, &bnd, &p, 2);
	p = pkt(1, 0x04, 60); /* RST */
	cache_packet(&slot, &bnd, &p, 3);
	assert_int_equal(aged[END_FLOW], 1);
	assert_int_equal(aged_packets, 3);
}

/* past 3,435,973,836 bytes a flow is aged (forced) */
static void
byte_overflow_ages(void **state)
{
	struct pkt p = pkt(2, 0x10, 2000000000u);

	(void)state;
	cache_packet(&slot, &bnd, &p, 1);
	assert_int_equal(aged_total, 0);
	cache_packet(&slot, &bnd, &p, 2);
	assert_int_equal(aged[END_FORCED], 1);
	assert_int_equal(aged_bytes, 4000000000ULL);
	assert_int_equal(bnd.cache->used, 0);
}

static void
inactive_and_active(void **state)
{
	struct pkt a = pkt(3, 0x10, 100), b = pkt(4, 0x10, 100);
	struct pkt c = pkt(5, 0x10, 100);
	uint32_t t;

	(void)state;
	/* b every second from 0 to 70 s; a only at 0 */
	cache_packet(&slot, &bnd, &a, 0);
	for (t = 0; t <= 70000; t += 1000) {
		cache_packet(&slot, &bnd, &b, t);
		cache_age(&slot, &bnd, t);
		/* due at 30 s: aged once that 100 ms tick is over */
		if (t == 30000)
			assert_int_equal(aged[END_IDLE], 0);
		if (t == 31000)
			assert_int_equal(aged[END_IDLE], 1);
	}
	/* the packet at 60 s starts a new flow: 60 packets in the first */
	assert_int_equal(aged[END_ACTIVE], 1);
	assert_int_equal(aged_packets, 1 + 60);
	assert_int_equal(bnd.cache->used, 1);
	/* a packet after the inactive time starts a new flow too */
	cache_packet(&slot, &bnd, &c, 80000);
	cache_packet(&slot, &bnd, &c, 110000);
	assert_int_equal(aged[END_IDLE], 2);
}

/*
 * A slot up for more than 49.7 days: flow times are ms since boot mod
 * 2^32, and the slot clock goes on past 2^32 ms. A flow seen just before
 * the wrap ages on its inactive timer just after it, and one seen after
 * the wrap ages on time too (the wheel had stopped, its ticks computed
 * from the wrapped times).
 */
static void
aging_across_the_wrap(void **state)
{
	struct pkt a = pkt(3, 0x10, 100), b = pkt(4, 0x10, 100);
	const uint64_t wrap = UINT64_C(1) << 32;
	uint64_t t;

	(void)state;
	/* the clock runs from 10 s before the wrap, a tick at a time */
	for (t = wrap - 10000; t < wrap - 9000; t += 100) {
		slot.now_ms = (int64_t)t;
		cache_age(&slot, &bnd, t);
	}
	cache_packet(&slot, &bnd, &a, (uint32_t)t); /* 9 s before the wrap */
	for (; t < wrap + 30000; t += 100) {
		slot.now_ms = (int64_t)t;
		cache_age(&slot, &bnd, t);
		if (t == wrap + 5000)
			cache_packet(&slot, &bnd, &b, (uint32_t)t);
	}
	/* a: due 21 s after the wrap, b: 35 s after it, not yet */
	assert_int_equal(aged[END_IDLE], 1);
	assert_int_equal(bnd.cache->used, 1);
	for (; t <= wrap + 36000; t += 100) {
		slot.now_ms = (int64_t)t;
		cache_age(&slot, &bnd, t);
	}
	assert_int_equal(aged[END_IDLE], 2);
	assert_int_equal(bnd.cache->used, 0);
}

/*
 * The active timer ages a busy flow on the timer path too (no packet at
 * the deadline): reason 2, active, not 1 (a survivor of make mutate).
 */
static void
active_timer_without_a_packet(void **state)
{
	struct pkt b = pkt(4, 0x10, 100);
	uint32_t t;

	(void)state;
	for (t = 0; t < 60000; t += 1000) {
		cache_packet(&slot, &bnd, &b, t);
		cache_age(&slot, &bnd, t);
	}
	assert_int_equal(aged_total, 0);
	cache_age(&slot, &bnd, 60000);
	cache_age(&slot, &bnd, 60100);
	assert_int_equal(aged[END_ACTIVE], 1);
	assert_int_equal(aged[END_IDLE], 0);
	assert_int_equal(aged_packets, 60);
	assert_int_equal(bnd.cache->used, 0);
}

static void
full_evict_oldest(void **state)
{
	(void)state;
	slot.flows_max = 1024;
	feed(1500, 0, 1);
	assert_int_equal(aged[END_RESOURCES], 476);
	assert_int_equal(bnd.cache->used, 1024);
	assert_int_equal(bnd.cache->evicted, 476);
}

static void
full_drop_new(void **state)
{
	(void)state;
	slot.flows_max = 1024;
	slot.drop_new = 1;
	feed(1500, 0, 1);
	assert_int_equal(aged_total, 0);
	assert_int_equal(bnd.cache->used, 1024);
	assert_int_equal(bnd.cache->dropped_full, 476);
	slot.drop_new = 0;
}

/*
 * A 4-byte AS in a 2-byte AS field is AS_TRANS (RFC 6793), never the low
 * 16 bits of the number; 4-byte fields carry it whole.
 */
static void
four_byte_as_is_as_trans_in_two_bytes(void **state)
{
	struct route rs = { .origin_as = 4200000000u, .peer_as = 65000 };
	struct route rd = { .origin_as = 65535, .peer_as = 65536 };
	struct fctx x = { .rs = &rs, .rd = &rd, .export_as = 1 };
	struct flow_vals v = { 0 };
	uint8_t out[4];

	(void)state;
	field_put_collect(out, F_SRC_AS, 2, &v, &x);
	assert_int_equal(out[0] << 8 | out[1], 23456);
	field_put_collect(out, F_DST_AS, 2, &v, &x);
	assert_int_equal(out[0] << 8 | out[1], 65535);
	field_put_collect(out, F_SRC_AS, 4, &v, &x);
	assert_int_equal((uint32_t)out[0] << 24 | out[1] << 16 | out[2] << 8 |
	    out[3], 4200000000u);
	x.export_as = 2; /* peer AS */
	field_put_key(out, F_SRC_AS, 2, NULL, &x);
	assert_int_equal(out[0] << 8 | out[1], 65000);
	field_put_key(out, F_DST_AS, 2, NULL, &x);
	assert_int_equal(out[0] << 8 | out[1], 23456);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(key_is_the_match_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(grows_and_finds_every_flow,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(a_full_group_spills_and_empties,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_saturated_spill_count_stays_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(raised_limit_moves_the_flows,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    key_ops_write_what_field_put_key_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(fin_on_first_packet_does_not_end,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(byte_overflow_ages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(inactive_and_active, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(active_timer_without_a_packet,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(aging_across_the_wrap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(full_evict_oldest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(full_drop_new, setup, teardown),
		cmocka_unit_test(four_byte_as_is_as_trans_in_two_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
