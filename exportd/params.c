/*
 * params.c: the export parameters exportd takes from the plan cfgd
 * publishes (timers, MTU, stats interval). A plan off the bus is checked
 * whole first (lib/plancheck.c); one that fails is counted by reason in
 * bad_plans{reason} and the parameters in force stay.
 */
#include <stdio.h>

#include "exportd.h"
#include "log.h"
#include "plan.h"

void
params_default(struct xd_params *p)
{
	p->generation = 0;
	p->tmpl_timeout_min = 30;
	p->tmpl_refresh_pkts = 20;
	p->opt_timeout_s = 60;
	p->mtu = 1400;
	p->stats_ms = 1000;
}

/* 1 when the plan was taken, 0 when it is old or refused. */
int
params_take(struct exportd *xd, const Netstream__Plan *p)
{
	struct xd_params *x = &xd->prm;
	if (!plan_take_check(p, xd->bad_plans))
		return 0;
	if (p->generation <= x->generation)
		return 0;
	x->generation = p->generation;
	x->tmpl_timeout_min = p->template_timeout_minutes ?
	    p->template_timeout_minutes : 30;
	x->tmpl_refresh_pkts = p->template_refresh_packets;
	x->opt_timeout_s = p->options_timeout_seconds ?
	    p->options_timeout_seconds : 60;
	/* checked 576..9000 (0: the default), as cfgd does */
	if (p->mtu != 0 && p->mtu <= XPKT_MAX_LEN)
		x->mtu = p->mtu;
	if (p->stats_interval_ms != 0)
		x->stats_ms = p->stats_interval_ms;
	log_info("plan generation %llu: mtu %u, templates every %u min "
	    "and %u packets, options every %u s",
	    (unsigned long long)x->generation, x->mtu, x->tmpl_timeout_min,
	    x->tmpl_refresh_pkts, x->opt_timeout_s);
	return 1;
}
