/*
 * test_plan.c: a plan off the bus is checked before a process follows it
 * (lib/plancheck.c), and sampled survives one that was not: a binding
 * naming a record past the plan's, a fix-packets sampler of 0 packets.
 * The ranges expected are the config's (DESIGN.md), not the code's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fields.h"
#include "plan.h"
#include "../../sampled/sampled.h"

/* One valid plan: a record, an interface file, its inbound binding. */
struct fx {
	Netstream__Plan p;
	Netstream__Record r, *rp[1];
	Netstream__Interface i, *ip[1];
	Netstream__Binding b, *bp[1];
	Netstream__Sampler sm;
	Netstream__Host h, *hp[1];
	Netstream__Slot sl, *slp[1];
	uint32_t match[5], collect[2];
	char why[256];
};

static struct fx *
fx_new(void)
{
	struct fx *x = calloc(1, sizeof(*x));
	static const uint32_t m[] = { F_SRC_ADDR, F_DST_ADDR, F_PROTOCOL,
		F_SRC_PORT, F_DST_PORT };

	netstream__plan__init(&x->p);
	netstream__record__init(&x->r);
	netstream__interface__init(&x->i);
	netstream__binding__init(&x->b);
	netstream__sampler__init(&x->sm);
	netstream__host__init(&x->h);
	netstream__slot__init(&x->sl);
	memcpy(x->match, m, sizeof(m));
	x->collect[0] = F_PACKETS;
	x->collect[1] = F_BYTES;
	x->r.name = "five";
	x->r.template_id = 258;
	x->r.n_match = 5;
	x->r.match = x->match;
	x->r.n_collect = 2;
	x->r.collect = x->collect;
	x->i.name = "GigabitEthernet1/0/0";
	x->i.slot = 1;
	x->i.file = "/nonexistent/a.pcap";
	x->h.address = "127.0.0.1";
	x->h.port = 9995;
	x->b.interface = "GigabitEthernet1/0/0";
	x->b.slot = 1;
	x->b.record = 0;
	x->b.n_hosts = 1;
	x->b.hosts = x->hp;
	x->b.sampler = &x->sm;
	x->sm.mode = NETSTREAM__SAMPLER_MODE__FIX_PACKETS;
	x->sm.value = 10;
	x->sl.id = 1;
	x->rp[0] = &x->r;
	x->ip[0] = &x->i;
	x->bp[0] = &x->b;
	x->hp[0] = &x->h;
	x->slp[0] = &x->sl;
	x->p.generation = 1;
	x->p.n_records = 1;
	x->p.records = x->rp;
	x->p.n_interfaces = 1;
	x->p.interfaces = x->ip;
	x->p.n_bindings = 1;
	x->p.bindings = x->bp;
	x->p.n_slots = 1;
	x->p.slots = x->slp;
	x->p.active_seconds = 1800;
	x->p.inactive_seconds = 30;
	return x;
}

static enum plan_bad
check(struct fx *x)
{
	return plan_check(&x->p, x->why, sizeof(x->why));
}

static void
test_valid(void **state)
{
	struct fx *x = fx_new();

	(void)state;
	assert_int_equal(check(x), PLAN_OK);
	x->b.record = -1; /* no record applies: counted only */
	assert_int_equal(check(x), PLAN_OK);
	x->sm.mode = NETSTREAM__SAMPLER_MODE__FIX_TIME;
	x->sm.value = 5;
	assert_int_equal(check(x), PLAN_OK);
	free(x);
}

static void
test_record_index(void **state)
{
	struct fx *x = fx_new();

	(void)state;
	x->b.record = 9999;
	assert_int_equal(check(x), PLAN_BAD_RECORD);
	assert_non_null(strstr(x->why, "9999"));
	x->b.record = 1; /* one past the only record */
	assert_int_equal(check(x), PLAN_BAD_RECORD);
	x->b.record = -2;
	assert_int_equal(check(x), PLAN_BAD_RECORD);
	free(x);
}

/* DESIGN.md: fix-packets / random-packets 1..65535, fix-time 5..30000 */
static void
test_sampler(void **state)
{
	struct fx *x = fx_new();

	(void)state;
	x->sm.value = 0;
	assert_int_equal(check(x), PLAN_BAD_SAMPLER);
	x->sm.value = 65536;
	assert_int_equal(check(x), PLAN_BAD_SAMPLER);
	x->sm.mode = NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS;
	x->sm.value = 0;
	assert_int_equal(check(x), PLAN_BAD_SAMPLER);
	x->sm.mode = NETSTREAM__SAMPLER_MODE__FIX_TIME;
	x->sm.value = 4;
	assert_int_equal(check(x), PLAN_BAD_SAMPLER);
	x->sm.value = 30001;
	assert_int_equal(check(x), PLAN_BAD_SAMPLER);
	x->sm.mode = (Netstream__SamplerMode)7;
	x->sm.value = 10;
	assert_int_equal(check(x), PLAN_BAD_SAMPLER);
	free(x);
}

static void
test_fields_and_ranges(void **state)
{
	struct fx *x = fx_new();

	(void)state;
	x->match[2] = 9999; /* no such field */
	assert_int_equal(check(x), PLAN_BAD_FIELD);
	x->match[2] = F_PACKETS; /* a counter is no key */
	assert_int_equal(check(x), PLAN_BAD_FIELD);
	x->match[2] = F_SRC_ADDR; /* twice */
	assert_int_equal(check(x), PLAN_BAD_FIELD);
	x->match[2] = F_PROTOCOL;
	x->r.template_id = 5; /* under 256: v9's own sets */
	assert_int_equal(check(x), PLAN_BAD_TEMPLATE);
	x->r.template_id = 258;
	x->b.slot = 256;
	assert_int_equal(check(x), PLAN_BAD_SLOT);
	x->b.slot = 1;
	x->b.direction = (Netstream__Direction)2;
	assert_int_equal(check(x), PLAN_BAD_BINDING);
	x->b.direction = NETSTREAM__DIRECTION__OUTBOUND;
	x->h.port = 0;
	assert_int_equal(check(x), PLAN_BAD_HOST);
	x->h.port = 9995;
	x->h.address = "not an address";
	assert_int_equal(check(x), PLAN_BAD_HOST);
	x->h.address = "::1";
	x->p.inactive_seconds = 0; /* inactive 5..600 s */
	assert_int_equal(check(x), PLAN_BAD_TIMER);
	x->p.inactive_seconds = 30;
	x->i.file = "relative.pcap";
	assert_int_equal(check(x), PLAN_BAD_INTERFACE);
	x->i.file = "/a.pcap";
	assert_int_equal(check(x), PLAN_OK);
	x->p.generation = 0; /* revisions count from 1 */
	assert_int_equal(check(x), PLAN_BAD_GENERATION);
	free(x);
}

/* A heap copy, as a plan off the bus is (slot_apply keeps and frees it). */
static Netstream__Plan *
copy(const Netstream__Plan *p)
{
	size_t n = netstream__plan__get_packed_size(p);
	uint8_t *buf = malloc(n ? n : 1);
	Netstream__Plan *q;

	netstream__plan__pack(p, buf);
	q = netstream__plan__unpack(NULL, n, buf);
	free(buf);
	assert_non_null(q);
	return q;
}

/*
 * What slips past the check (or comes from a caller that does not make
 * it) does not crash sampled: the binding of a record out of range is
 * counted only, a fix-packets sampler of 0 takes every packet.
 */
static void
test_unchecked_plan_survives(void **state)
{
	struct fx *x = fx_new();
	struct slot s;
	int k, taken = 0;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.id = 1;
	s.no_export = 1;
	x->p.n_interfaces = 0; /* no capture is opened */
	x->b.record = 9999;
	x->sm.value = 0;
	slot_apply(&s, copy(&x->p));
	assert_int_equal(s.nb, 1);
	assert_null(s.b[0].cache);
	for (k = 0; k < 5; k++)
		taken += sampler_take(&s.b[0].sampler, k);
	assert_int_equal(taken, 5);
	/* and a record in range next to it is still followed */
	x->p.generation = 2;
	x->b.record = 0;
	slot_apply(&s, copy(&x->p));
	assert_non_null(s.b[0].cache);
	for (k = 0, taken = 0; k < 5; k++)
		taken += sampler_take(&s.b[0].sampler, k);
	assert_int_equal(taken, 5);
	slot_close(&s, END_FORCED);
	free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_record_index),
		cmocka_unit_test(test_sampler),
		cmocka_unit_test(test_fields_and_ranges),
		cmocka_unit_test(test_unchecked_plan_survives),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
