/*
 * sources.c: the export sources of the views: which one each host leaves
 * from (one per address family and view, taken per family from the
 * system view where a monitor has none), and what the validator says
 * about a host no source of its family applies to and a source no host
 * takes.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "validate.h"

static int
family_number(int f)
{
	return f == CONF_IPV4 ? 4 : 6;
}

/*
 * The source host h of view ex leaves from, or NULL (the kernel picks).
 * `export source ADDRESS` and `export source ipv6 ADDRESS` are two
 * settings, so a monitor overrides the system view's per family: its
 * IPv6 source leaves its IPv4 hosts the system's IPv4 one. A slot has no
 * source (the vendor has none in the slot view): its hosts take the
 * system's.
 */
const struct conf_source *
conf_host_source(const struct conf *c, const struct conf_host *h,
    const struct conf_view_export *ex)
{
	int f = conf_family(h->address);

	if (f < 0)
		return NULL;
	if (ex->source[f].address[0] != '\0')
		return &ex->source[f];
	if (c->sys.source[f].address[0] != '\0')
		return &c->sys.source[f];
	return NULL;
}

/*
 * The hosts of view ex: a notice for each with no source of its family
 * when a source of the other family applies to the view (so the other
 * one is not taken for it: each family leaves from its own); and which
 * families of the system view's sources they take (sys_used) and
 * whether any host takes its source from the system view at all.
 */
static void
view_hosts(const struct conf *c, const struct conf_view_export *ex,
    const char *view, int is_monitor, int sys_used[CONF_FAMILIES],
    int *sys_takers, struct diags *d)
{
	int i, f;

	for (i = 0; i < ex->n_hosts; i++) {
		const struct conf_host *h = &ex->hosts[i];
		const struct conf_source *s = conf_host_source(c, h, ex);

		if ((f = conf_family(h->address)) < 0)
			continue;
		if (ex == &c->sys || ex->source[f].address[0] == '\0') {
			(*sys_takers)++;
			if (s != NULL)
				sys_used[f] = 1;
		}
		if (s != NULL ||
		    !(conf_has_source(ex) || conf_has_source(&c->sys)))
			continue;
		diag_add(d, DIAG_NOTICE, h->line,
		    "host %s in %s is IPv%d and no IPv%d export source "
		    "applies to it (none in %s%s): the kernel picks the "
		    "source address and port",
		    h->address, view, family_number(f), family_number(f),
		    is_monitor ? "the monitor" : "the system view",
		    is_monitor ? " nor in the system view" : "");
	}
}

/* A monitor's source of family f when the monitor has hosts, none of f. */
static void
monitor_unused(Netstream__Plan *p, const struct conf_monitor *m,
    struct diags *d)
{
	char item[160], why[160];
	int i, f;

	if (m->ex.n_hosts == 0)
		return; /* the monitor is not effective: said per binding */
	for (f = 0; f < CONF_FAMILIES; f++) {
		const struct conf_source *s = &m->ex.source[f];

		if (s->address[0] == '\0')
			continue;
		for (i = 0; i < m->ex.n_hosts; i++)
			if (conf_family(m->ex.hosts[i].address) == f)
				break;
		if (i < m->ex.n_hosts)
			continue;
		snprintf(item, sizeof(item), "export source %s in monitor %s",
		    s->address, m->name);
		snprintf(why, sizeof(why),
		    "the monitor has no IPv%d export host: each host leaves "
		    "from the source of its own address family",
		    family_number(f));
		not_effective(p, d, s->line, item, why);
	}
}

/*
 * Sources and hosts of every view. A source no host takes is *not
 * effective* (it was an error while a view had one source: a host of the
 * other family could not leave from it); a host with no source of its
 * family gets the kernel's choice, with a notice when a source of the
 * other family is set.
 */
void
plan_check_sources(Netstream__Plan *p, const struct conf *c,
    struct diags *d)
{
	int sys_used[CONF_FAMILIES] = { 0, 0 }, takers = 0, f, i;
	char view[64], item[160], why[200];

	view_hosts(c, &c->sys, "the system view", 0, sys_used, &takers, d);
	for (i = 0; i < c->n_slots; i++) {
		snprintf(view, sizeof(view), "slot %u", c->slots[i].id);
		view_hosts(c, &c->slots[i].ex, view, 0, sys_used, &takers, d);
	}
	for (i = 0; i < c->n_monitors; i++) {
		snprintf(view, sizeof(view), "monitor %s", c->monitors[i].name);
		view_hosts(c, &c->monitors[i].ex, view, 1, sys_used, &takers,
		    d);
	}
	/* no host takes a source of the system view: nothing to say */
	for (f = 0; f < CONF_FAMILIES && takers > 0; f++) {
		const struct conf_source *s = &c->sys.source[f];

		if (s->address[0] == '\0' || sys_used[f])
			continue;
		snprintf(item, sizeof(item),
		    "export source %s in the system view", s->address);
		snprintf(why, sizeof(why),
		    "no IPv%d export host takes it (system, slot, or monitor "
		    "without an IPv%d source): each host leaves from the "
		    "source of its own address family",
		    family_number(f), family_number(f));
		not_effective(p, d, s->line, item, why);
	}
	for (i = 0; i < c->n_monitors; i++)
		monitor_unused(p, &c->monitors[i], d);
}
