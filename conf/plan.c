/*
 * plan.c: compiles a validated config into the effective plan: for every
 * enabled interface direction the record that applies, where its flows go
 * (monitor > slot > system) and its sampler, with each seed rule of
 * DESIGN.md resolved and every item that does not take effect listed with
 * its reason. The data plane executes this and never sees the file.
 */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "conf.h"
#include "validate.h"
#include "fields.h"
#include "layout.h"
#include "plan.h"
#include "routes.h"
#include "util.h"

static const char *dirname_[2] = { "inbound", "outbound" };

char *
pstrdup(const char *s)
{
	return xstrdup(s ? s : "");
}

/* Appends to a protobuf repeated field of pointers. */
#define PUSH(arr, n, item)                                                \
	do {                                                              \
		(arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr)));      \
		(arr)[(n)++] = (item);                                    \
	} while (0)

static const struct conf_record *
record_named(const struct conf *c, const char *name, int *idx)
{
	int i;

	for (i = 0; i < c->n_records; i++)
		if (strcmp(c->records[i].name, name) == 0) {
			*idx = i;
			return &c->records[i];
		}
	*idx = -1;
	return NULL;
}

static const struct conf_slot *
slot_conf(const struct conf *c, unsigned id)
{
	int i;

	for (i = 0; i < c->n_slots; i++)
		if (c->slots[i].id == id)
			return &c->slots[i];
	return NULL;
}

/*
 * The key a template id is stable for: the record's name and the exact
 * field list it is exported with (AS and BGP next hop fields included).
 */
static char *
record_key(const struct conf *c, const struct conf_record *r, int icmp)
{
	struct sbuf b;
	char *k;
	int i;

	sbuf_init(&b);
	sbuf_printf(&b, "%s|m", r->name);
	for (i = 0; i < r->n_match; i++)
		sbuf_printf(&b, ",%u", r->match[i]);
	sbuf_printf(&b, "|c");
	for (i = 0; i < r->n_collect; i++)
		sbuf_printf(&b, ",%u", r->collect[i]);
	sbuf_printf(&b, "|as%d|nh%d|if%d", c->export_as, c->bgp_nexthop,
	    c->interface_32bit);
	if (icmp) /* the rows carry ICMP_TYPE (layout.c) */
		sbuf_printf(&b, "|icmp");
	k = xstrdup(b.s);
	sbuf_free(&b);
	return k;
}

static Netstream__Record *
make_record(const struct conf *c, const struct conf_record *r, unsigned id)
{
	Netstream__Record *pr = xmalloc(sizeof(*pr));
	int i;

	netstream__record__init(pr);
	pr->id = id;
	pr->name = pstrdup(r->name);
	pr->key = NULL;
	pr->n_match = (size_t)r->n_match;
	pr->match = xcalloc((size_t)r->n_match, sizeof(uint32_t));
	for (i = 0; i < r->n_match; i++)
		pr->match[i] = r->match[i];
	pr->n_collect = (size_t)r->n_collect;
	pr->collect = xcalloc((size_t)r->n_collect, sizeof(uint32_t));
	for (i = 0; i < r->n_collect; i++)
		pr->collect[i] = r->collect[i];
	pr->key = record_key(c, r, layout_icmp(pr));
	return pr;
}

static Netstream__Host *
make_host(const struct conf *c, const struct conf_host *h,
    const struct conf_view_export *ex, const char *view)
{
	const struct conf_source *src = conf_host_source(c, h, ex);
	Netstream__Host *ph = xmalloc(sizeof(*ph));

	netstream__host__init(ph);
	ph->address = pstrdup(h->address);
	ph->port = h->port;
	ph->ipfix = h->ipfix && c->compat_extended;
	ph->dscp = h->dscp;
	ph->pace_pps = h->pace_pps;
	ph->tcp = h->tcp;
	ph->file = pstrdup(h->file);
	ph->vpn_instance = pstrdup(h->vpn);
	ph->source_address = pstrdup(src != NULL ? src->address : "");
	ph->source_port = src != NULL ? src->port : 0;
	ph->view = pstrdup(view);
	return ph;
}

/* The hosts of view ex, each from its source (sources.c) */
static void
add_hosts(Netstream__Binding *b, const struct conf *c,
    const struct conf_view_export *ex, const char *view)
{
	int i;

	for (i = 0; i < ex->n_hosts; i++)
		PUSH(b->hosts, b->n_hosts,
		    make_host(c, &ex->hosts[i], ex, view));
	free(b->hosts_from);
	b->hosts_from = pstrdup(view);
}

/* Every monitor as configured, for `nsctl display monitor`. */
static void
add_monitors(Netstream__Plan *p, const struct conf *c)
{
	char view[64];
	int i, k;

	for (i = 0; i < c->n_monitors; i++) {
		const struct conf_monitor *m = &c->monitors[i];
		Netstream__Monitor *pm = xmalloc(sizeof(*pm));

		netstream__monitor__init(pm);
		pm->name = pstrdup(m->name);
		pm->record = pstrdup(m->record);
		pm->line = (uint32_t)m->line;
		snprintf(view, sizeof(view), "monitor %s", m->name);
		for (k = 0; k < m->ex.n_hosts; k++)
			PUSH(pm->hosts, pm->n_hosts, make_host(c,
			    &m->ex.hosts[k], &m->ex, view));
		PUSH(p->monitors, p->n_monitors, pm);
	}
}

void
not_effective(Netstream__Plan *p, struct diags *d, int line, const char *item,
    const char *reason)
{
	Netstream__NotEffective *ne = xmalloc(sizeof(*ne));

	netstream__not_effective__init(ne);
	ne->item = pstrdup(item);
	ne->reason = pstrdup(reason);
	ne->line = (uint32_t)line;
	PUSH(p->not_effective, p->n_not_effective, ne);
	diag_add(d, DIAG_NOT_EFFECTIVE, line, "%s: %s", item, reason);
}

static int
all_hosts_ipfix(const struct conf_view_export *ex)
{
	int i;

	for (i = 0; i < ex->n_hosts; i++)
		if (!ex->hosts[i].ipfix)
			return 0;
	return 1;
}

/* Rule 3 for a monitor: not effective only when everything says ipfix. */
static int
monitor_record_effective(const struct conf *c, const struct conf_monitor *m)
{
	if (c->compat_extended)
		return 1;
	return !(c->version_ipfix && all_hosts_ipfix(&m->ex));
}

static int
system_record_effective(const struct conf *c)
{
	return c->compat_extended || !c->version_ipfix;
}

/*
 * The sampler id (48) of a mode and value: one id per distinct sampler, as
 * a router's sampler map has, so that it fits the one byte of v9's
 * FLOW_SAMPLER_ID and the inbound and outbound samplers of an interface
 * differ when their rates do. 0 when no id is left.
 */
static unsigned
sampler_id(const Netstream__Plan *p, unsigned mode, unsigned value)
{
	unsigned max = 0;
	size_t i;

	for (i = 0; i < p->n_bindings; i++) {
		const Netstream__Sampler *s = p->bindings[i]->sampler;

		if (s == NULL || s->id == 0)
			continue;
		if ((unsigned)s->mode == mode && s->value == value)
			return s->id;
		if (s->id > max)
			max = s->id;
	}
	return max < PLAN_SAMPLER_ID_MAX ? max + 1 : 0;
}

static Netstream__Sampler *
make_sampler(const Netstream__Plan *p, const struct conf *c,
    const struct conf_iface *ifc, int dir, struct diags *d)
{
	const struct conf_sampler *s = ifc->sampler[dir].mode ?
	    &ifc->sampler[dir] : &c->sampler[dir];
	Netstream__Sampler *ps = xmalloc(sizeof(*ps));

	netstream__sampler__init(ps);
	ps->mode = (Netstream__SamplerMode)s->mode;
	ps->value = s->value;
	if (s->mode != 0 &&
	    (ps->id = sampler_id(p, (unsigned)s->mode, s->value)) == 0)
		diag_add(d, DIAG_ERROR, s->line ? s->line : ifc->line,
		    "interface %s: more than %d distinct samplers (mode and "
		    "value): the sampler id exported is one byte",
		    ifc->name, PLAN_SAMPLER_ID_MAX);
	return ps;
}

/*
 * Records applied to a sampled interface direction carry the sampler id
 * in their rows, so their template (and the key its id is stable for)
 * says so.
 */
static void
mark_sampled_records(Netstream__Plan *p)
{
	size_t i;

	for (i = 0; i < p->n_bindings; i++) {
		const Netstream__Binding *b = p->bindings[i];
		Netstream__Record *r;
		char *k;

		if (b->record < 0 || (size_t)b->record >= p->n_records ||
		    b->sampler == NULL || b->sampler->id == 0)
			continue;
		r = p->records[b->record];
		if (r->sampler_id)
			continue;
		r->sampler_id = 1;
		k = xmalloc(strlen(r->key) + 8);
		sprintf(k, "%s|smp1", r->key);
		free(r->key);
		r->key = k;
	}
}

/* One binding: the monitor's record, or the system's with slot/system hosts. */
static Netstream__Binding *
make_binding(Netstream__Plan *p, const struct conf *c,
    const struct conf_iface *ifc, int dir, struct diags *d)
{
	Netstream__Binding *b = xmalloc(sizeof(*b));
	const struct conf_monitor *m = NULL;
	const struct conf_slot *sl = slot_conf(c, ifc->slot);
	char item[160], view[64];
	int i, ri = -1, bline = 0;

	netstream__binding__init(b);
	b->interface = pstrdup(ifc->name);
	b->description = pstrdup(ifc->description);
	b->slot = ifc->slot;
	b->direction = (Netstream__Direction)dir;
	b->monitor = pstrdup("");
	b->hosts_from = pstrdup("");
	b->record = -1;
	b->sampler = make_sampler(p, c, ifc, dir, d);
	for (i = 0; i < ifc->n_binds; i++) {
		int j;

		if (ifc->binds[i].dir == dir && c->monitor_idx != NULL &&
		    (j = keyidx_find(c->monitor_idx,
		    ifc->binds[i].monitor)) >= 0) {
			m = &c->monitors[j];
			bline = ifc->binds[i].line;
		}
	}
	if (m != NULL) {
		snprintf(item, sizeof(item), "monitor %s on %s %s", m->name,
		    ifc->name, dirname_[dir]);
		snprintf(view, sizeof(view), "monitor %s", m->name);
		if (m->record[0] == '\0')
			not_effective(p, d, bline, item,
			    "the monitor applies no record; the system "
			    "record applies");
		else if (m->ex.n_hosts == 0)
			not_effective(p, d, m->line, item,
			    "the monitor has no export host; the system "
			    "record applies");
		else if (!monitor_record_effective(c, m))
			not_effective(p, d, m->record_line, item,
			    "flexible flows are exported only as NetFlow v9, "
			    "and the system version and all the monitor's "
			    "hosts are ipfix");
		else {
			record_named(c, m->record, &ri);
			b->record = ri;
			free(b->monitor);
			b->monitor = pstrdup(m->name);
			add_hosts(b, c, &m->ex, view);
			return b;
		}
	}
	if (c->apply_record[0] == '\0' || !system_record_effective(c))
		return b;
	record_named(c, c->apply_record, &ri);
	b->record = ri;
	if (sl != NULL && sl->ex.n_hosts > 0) {
		snprintf(view, sizeof(view), "slot %u", sl->id);
		add_hosts(b, c, &sl->ex, view);
	} else
		add_hosts(b, c, &c->sys, "system");
	return b;
}

/*
 * An enabled interface direction that no record applies to: its packets
 * are counted, but no flow is built or exported. Legal (a record may be
 * added later), and easy to miss: say so at its netstream line.
 */
static void
no_record_notice(const struct conf *c, const struct conf_iface *ifc, int dir,
    struct diags *d)
{
	const char *why = c->apply_record[0] == '\0' ?
	    "no system apply_record, and no monitor applies a record there" :
	    "the system apply_record is not effective, and no monitor "
	    "applies a record there";

	diag_add(d, DIAG_NOTICE, ifc->netstream[dir] > 0 ? ifc->netstream[dir] :
	    ifc->line, "interface %s: netstream %s is enabled but no record "
	    "applies (%s): its packets are counted, no flow is built or "
	    "exported", ifc->name, dirname_[dir], why);
}

static void
add_interfaces(Netstream__Plan *p, const struct conf *c, struct diags *d)
{
	char item[160];
	const char *from;
	int i, dir;

	for (i = 0; i < c->n_ifaces; i++) {
		const struct conf_iface *ifc = &c->ifaces[i];
		Netstream__Interface *pi = xmalloc(sizeof(*pi));

		netstream__interface__init(pi);
		pi->name = pstrdup(ifc->name);
		pi->slot = ifc->slot;
		pi->device = pstrdup(ifc->device);
		pi->file = pstrdup(ifc->file);
		pi->realtime = ifc->realtime;
		pi->file_direction = (Netstream__Direction)ifc->file_dir;
		pi->buffer_kb = ifc->buffer_kb;
		pi->description = pstrdup(ifc->description);
		/* a device's own index when it exists here, else a stable one */
		pi->ifindex = ifc->ifindex;
		from = "config";
		if (pi->ifindex == 0 && ifc->device[0]) {
			pi->ifindex = if_nametoindex(ifc->device);
			from = "device";
		}
		if (pi->ifindex == 0) {
			pi->ifindex = 1000 + (unsigned)i;
			from = ifc->device[0] ? "stand-in" : "file";
		}
		pi->ifindex_from = pstrdup(from);
		PUSH(p->interfaces, p->n_interfaces, pi);

		for (dir = 0; dir < 2; dir++) {
			Netstream__Binding *b;

			if (!ifc->netstream[dir]) {
				for (int k = 0; k < ifc->n_binds; k++) {
					if (ifc->binds[k].dir != dir)
						continue;
					snprintf(item, sizeof(item),
					    "monitor %s on %s %s",
					    ifc->binds[k].monitor, ifc->name,
					    dirname_[dir]);
					not_effective(p, d, ifc->binds[k].line,
					    item,
					    dir == 0 ?
						"ipv6 netstream inbound is "
						"not enabled on the interface" :
						"ipv6 netstream outbound is "
						"not enabled on the interface");
				}
				continue;
			}
			b = make_binding(p, c, ifc, dir, d);
			b->ifindex = pi->ifindex;
			if (b->record < 0)
				no_record_notice(c, ifc, dir, d);
			PUSH(p->bindings, p->n_bindings, b);
		}
	}
}

static int
slot_used(const Netstream__Plan *p, unsigned id)
{
	size_t i;

	for (i = 0; i < p->n_slots; i++)
		if (p->slots[i]->id == id)
			return 1;
	return 0;
}

static void
add_slots(Netstream__Plan *p, const struct conf *c, struct diags *d)
{
	char item[64];
	int i;

	for (i = 0; i < c->n_ifaces; i++) {
		const struct conf_slot *sl = slot_conf(c, c->ifaces[i].slot);
		Netstream__Slot *ps;

		if (slot_used(p, c->ifaces[i].slot))
			continue;
		ps = xmalloc(sizeof(*ps));
		netstream__slot__init(ps);
		ps->id = c->ifaces[i].slot;
		ps->sequence_flow = sl != NULL && sl->sequence_flow;
		ps->workers = sl != NULL && sl->workers > 1 ? sl->workers : 1;
		ps->remote = sl != NULL && sl->remote;
		PUSH(p->slots, p->n_slots, ps);
	}
	for (i = 0; i < c->n_slots; i++) {
		if (slot_used(p, c->slots[i].id))
			continue;
		snprintf(item, sizeof(item), "slot %u", c->slots[i].id);
		not_effective(p, d, c->slots[i].line, item,
		    "no interface is in this slot");
	}
}

/* A monitor no interface direction names takes effect nowhere. */
static void
check_monitors_bound(Netstream__Plan *p, const struct conf *c,
    struct diags *d)
{
	char item[64];
	int i, k, j, bound;

	for (i = 0; i < c->n_monitors; i++) {
		const struct conf_monitor *m = &c->monitors[i];

		bound = 0;
		for (k = 0; k < c->n_ifaces && !bound; k++)
			for (j = 0; j < c->ifaces[k].n_binds; j++)
				if (strcmp(c->ifaces[k].binds[j].monitor,
				    m->name) == 0)
					bound = 1;
		if (bound)
			continue;
		snprintf(item, sizeof(item), "monitor %s", m->name);
		not_effective(p, d, m->line, item,
		    "no interface direction binds it (an interface's "
		    "monitors = ( { name; direction; } ))");
	}
}

/*
 * A live device of a slot with workers: the kernel hands each packet to
 * one worker by the IPv6 addresses the records of the device all match on
 * (plan_fanout_fields), so that a flow lives in one worker only. A device
 * whose records share neither address cannot be split.
 */
static void
check_workers(const Netstream__Plan *p, const struct conf *c,
    struct diags *d)
{
	int i, k;

	for (i = 0; i < c->n_slots; i++) {
		const struct conf_slot *sl = &c->slots[i];
		int live = 0;

		if (sl->workers <= 1)
			continue;
		for (k = 0; k < c->n_ifaces; k++) {
			const struct conf_iface *ifc = &c->ifaces[k];

			if (ifc->slot != sl->id || !ifc->device[0])
				continue;
			live = 1;
			if (plan_fanout_fields(p, ifc->name) == 0)
				diag_add(d, DIAG_ERROR, sl->workers_line,
				    "slot %u: workers = %u, but the records of "
				    "interface %s (line %d) do not all match "
				    "on source-address or all on "
				    "destination-address: its flows could not "
				    "each live in one worker", sl->id,
				    sl->workers, ifc->name, ifc->line);
		}
		if (!live)
			diag_add(d, DIAG_NOTICE, sl->workers_line,
			    "slot %u: workers = %u applies to live capture, "
			    "and the slot has none: its files are read by one "
			    "thread", sl->id, sl->workers);
	}
}

/* Rule 4, the ipfix host rule, and what has no export host at all. */
static void
check_hosts(Netstream__Plan *p, const struct conf *c, struct diags *d)
{
	char item[200];
	size_t i, j;
	int k;

	for (i = 0; i < p->n_bindings; i++) {
		Netstream__Binding *b = p->bindings[i];
		const struct conf_slot *sl = slot_conf(c, b->slot);

		if (b->record < 0)
			continue;
		if (b->n_hosts == 0) {
			snprintf(item, sizeof(item), "record %s on %s %s",
			    c->records[b->record].name, b->interface,
			    dirname_[b->direction]);
			not_effective(p, d, c->apply_line, item,
			    "no export host in the monitor, slot or system "
			    "view; flows are aggregated but not exported");
		}
		for (j = 0; j < b->n_hosts; j++)
			if (b->hosts[j]->ipfix && sl != NULL &&
			    sl->sequence_flow) {
				snprintf(item, sizeof(item),
				    "slot %u sequence_mode flow for host %s",
				    sl->id, b->hosts[j]->address);
				not_effective(p, d, sl->line, item,
				    "flow sequence mode applies to NetFlow "
				    "v9 only");
			}
	}
	if (c->compat_extended)
		return;
	for (k = 0; k < c->sys.n_hosts; k++)
		if (c->sys.hosts[k].ipfix && !c->version_ipfix) {
			snprintf(item, sizeof(item), "host %s version ipfix",
			    c->sys.hosts[k].address);
			not_effective(p, d, c->sys.hosts[k].line, item,
			    "flexible flows are exported only as NetFlow v9; "
			    "this host receives v9 (compat = \"extended\" "
			    "sends IPFIX)");
		}
}

static void
add_notices(const struct conf *c, struct diags *d)
{
	int i;

	if (!conf_has_source(&c->sys) && c->sys.n_hosts > 0)
		diag_add(d, DIAG_NOTICE, 0,
		    "no export source in the system view: the kernel picks "
		    "the source address and port (a router would export "
		    "nothing)");
	for (i = 0; i < c->n_records; i++) {
		int used = strcmp(c->apply_record, c->records[i].name) == 0;

		for (int j = 0; j < c->n_monitors && !used; j++)
			used = strcmp(c->monitors[j].record,
			    c->records[i].name) == 0;
		if (!used)
			diag_add(d, DIAG_NOTICE, c->records[i].line,
			    "record %s is not applied anywhere",
			    c->records[i].name);
	}
}

/*
 * The effective plan of c, or NULL when c has errors. Not-effective items
 * go both into the plan (for `nsctl show effective`) and into d.
 */
/*
 * Every process gets the plan in one bus message (published, or answered
 * to GET_PLAN): a plan the bus cannot carry would never arrive, and the
 * group would stay on its old generation, silently. So the validator
 * refuses it, naming the limit. The margin is for what the store adds
 * (revision, generation, template ids) and the reply around the plan.
 */
static Netstream__Plan *
plan_check_size(Netstream__Plan *p, struct diags *d)
{
	size_t sz = netstream__plan__get_packed_size(p);

	if (d->errors) { /* found while compiling: nothing is committed */
		netstream__plan__free_unpacked(p, NULL);
		return NULL;
	}
	if (sz <= PLAN_MAX_BYTES)
		return p;
	diag_add(d, DIAG_ERROR, 0,
	    "the effective plan is %zu bytes, over the %u bytes a plan may "
	    "have on the bus (BUS_MAX_CONTROL %u, less room for the reply "
	    "around it): %zu bindings, %zu slots; the hosts of each view are "
	    "repeated in every binding that exports to them: fewer "
	    "interfaces, directions or hosts",
	    sz, PLAN_MAX_BYTES, BUS_MAX_CONTROL, p->n_bindings, p->n_slots);
	netstream__plan__free_unpacked(p, NULL);
	return NULL;
}

Netstream__Plan *
plan_compile(const struct conf *c, struct diags *d)
{
	Netstream__Plan *p;
	char item[200];
	uint8_t dg[32];
	size_t nroutes;
	int i;

	if (d->errors)
		return NULL;
	p = xmalloc(sizeof(*p));
	netstream__plan__init(p);
	p->source_path = pstrdup(d->file);
	p->routes_file = pstrdup(c->routes_file);
	/* sampled runs the routes file only while it has this digest */
	if (c->routes_file[0] && routes_digest(c->routes_file, dg, &nroutes,
	    item, sizeof(item)) == -1) {
		diag_add(d, DIAG_ERROR, c->routes_line, "routes file: %s", item);
		netstream__plan__free_unpacked(p, NULL);
		return NULL; /* it changed since it was validated, just now */
	} else if (c->routes_file[0]) {
		p->routes_digest.data = memcpy(xmalloc(sizeof(dg)), dg,
		    sizeof(dg));
		p->routes_digest.len = sizeof(dg);
		p->routes_count = (uint32_t)nroutes;
	}
	p->active_seconds = c->active_seconds;
	p->inactive_seconds = c->inactive_seconds;
	p->template_timeout_minutes = c->template_timeout;
	p->template_refresh_packets = c->template_refresh_packets;
	p->options_timeout_seconds = c->options_timeout;
	p->export_as = (uint32_t)c->export_as;
	p->bgp_nexthop = c->bgp_nexthop;
	p->compat_extended = c->compat_extended;
	p->cache_entries = c->cache_entries;
	p->cache_drop_new = c->cache_drop_new;
	p->mtu = c->mtu;
	p->stats_interval_ms = c->stats_interval_ms;
	p->interface_32bit = c->interface_32bit;
	for (i = 0; i < c->n_records; i++)
		PUSH(p->records, p->n_records,
		    make_record(c, &c->records[i], (unsigned)i));
	if (c->apply_record[0] && !system_record_effective(c)) {
		snprintf(item, sizeof(item), "system apply_record %s",
		    c->apply_record);
		not_effective(p, d, c->apply_line, item,
		    "the system export version is ipfix and flexible flows "
		    "are exported only as NetFlow v9");
	}
	add_interfaces(p, c, d);
	add_monitors(p, c);
	mark_sampled_records(p);
	add_slots(p, c, d);
	check_monitors_bound(p, c, d);
	check_workers(p, c, d);
	check_hosts(p, c, d);
	plan_check_sources(p, c, d);
	add_notices(c, d);
	return plan_check_size(p, d);
}
