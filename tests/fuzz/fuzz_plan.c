/*
 * fuzz_plan.c: bytes as a bus message carrying a plan (a PUB snapshot or
 * a GET_PLAN reply), taken as exportd and sampled take it. exportd's
 * params_take() checks it and, if it passes, keeps export parameters that
 * must stay in range. sampled checks it the same way (plan_check) and
 * then builds its slot from it with slot_apply() — bindings, record
 * caches, samplers — runs each sampler and a packet through each cache,
 * and closes the slot (every flow aged; no export, no capture opened).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "exportd.h"
#include "plan.h"
#include "sampled.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
as_exportd(const Netstream__Plan *p)
{
	static struct exportd xd;
	char why[256];
	int taken;

	if (xd.prm.mtu == 0)
		params_default(&xd.prm);
	xd.prm.generation = 0; /* every input may be taken */
	taken = params_take(&xd, p);
	if (taken != (plan_check(p, why, sizeof(why)) == PLAN_OK))
		abort(); /* taken exactly when the plan passes */
	if (xd.prm.mtu < 576 || xd.prm.mtu > 9000 || xd.prm.stats_ms < 100 ||
	    xd.prm.tmpl_timeout_min < 1 || xd.prm.opt_timeout_s < 1)
		abort();
}

/* A TCP packet with every field set, for the caches. */
static void
packet(struct pkt *pk)
{
	memset(pk, 0, sizeof(*pk));
	memset(pk->src, 0x20, sizeof(pk->src));
	memset(pk->dst, 0x30, sizeof(pk->dst));
	pk->proto = 6;
	pk->sport = 1024;
	pk->dport = 80;
	pk->ip_len = 100;
	pk->tcp_flags = 0x02;
}

/* A plan that passed the check: slot_apply keeps it, slot_close frees it. */
static void
as_sampled(Netstream__Plan *p)
{
	struct slot s;
	struct pkt pk;
	size_t i;
	int k;

	/* the slot's own part: no capture file or device, no routes */
	for (i = 0; i < p->n_interfaces; i++)
		netstream__interface__free_unpacked(p->interfaces[i], NULL);
	p->n_interfaces = 0;
	if (p->routes_file[0]) {
		free(p->routes_file);
		p->routes_file = (char *)protobuf_c_empty_string;
	}
	memset(&s, 0, sizeof(s));
	s.id = p->n_bindings ? p->bindings[0]->slot : 1;
	s.no_export = 1;
	s.boot_ms = 1700000000000LL;
	s.now_ms = s.boot_ms;
	slot_apply(&s, p);
	packet(&pk);
	for (i = 0; i < s.nb; i++) {
		for (k = 0; k < 4; k++)
			if (sampler_take(&s.b[i].sampler, s.now_ms + k) &&
			    s.b[i].cache != NULL)
				cache_packet(&s, &s.b[i], &pk, (uint32_t)k);
	}
	slot_close(&s, END_FORCED);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Netstream__Envelope *env;
	Netstream__Plan *p = NULL;
	char why[256];

	if (bus_check(data, size, BUS_MAX_CONTROL, &env) != BUS_OK)
		return 0;
	if (env->msg_case == NETSTREAM__ENVELOPE__MSG_PLAN) {
		p = env->plan;
		env->plan = NULL;
		env->msg_case = NETSTREAM__ENVELOPE__MSG__NOT_SET;
	} else if (env->msg_case == NETSTREAM__ENVELOPE__MSG_REPLY &&
	    env->reply->plan != NULL) {
		p = env->reply->plan;
		env->reply->plan = NULL;
	}
	bus_free(env);
	if (p == NULL)
		return 0;
	as_exportd(p);
	if (plan_check(p, why, sizeof(why)) == PLAN_OK)
		as_sampled(p);
	else /* refused and counted: never applied */
		netstream__plan__free_unpacked(p, NULL);
	return 0;
}
