/*
 * plancheck.c: the checks a plan passes before a process follows it.
 * cfgd compiles plans from a validated config, but what comes off the bus
 * may be anything (a forged or corrupt message, another version): sampled
 * and exportd index records, divide by sampler values and size buffers
 * by what the plan says, so each takes only a plan whose every value is
 * in the range the config allows (DESIGN.md), and counts the others by
 * reason.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "layout.h"
#include "log.h"
#include "plan.h"
#include "stats.h"

static const char *const plan_bad_names[PLAN_BAD_MAX] = {
	[PLAN_OK] = "ok",
	[PLAN_BAD_GENERATION] = "generation",
	[PLAN_BAD_RECORD] = "record",
	[PLAN_BAD_FIELD] = "field",
	[PLAN_BAD_TEMPLATE] = "template",
	[PLAN_BAD_BINDING] = "binding",
	[PLAN_BAD_SAMPLER] = "sampler",
	[PLAN_BAD_HOST] = "host",
	[PLAN_BAD_INTERFACE] = "interface",
	[PLAN_BAD_SLOT] = "slot",
	[PLAN_BAD_TIMER] = "timer",
	[PLAN_BAD_LIMIT] = "limit",
	[PLAN_BAD_MONITOR] = "monitor",
};

const char *
plan_bad_name(enum plan_bad why)
{
	return (unsigned)why < PLAN_BAD_MAX ? plan_bad_names[why] : "?";
}

static int
str_ok(const char *s, size_t max, int empty_ok)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, max + 1);
	return n <= max && (empty_ok || n > 0);
}

static int
in(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v >= lo && v <= hi;
}

/* an address a socket can be given: IPv6 or IPv4, literal */
static int
addr_ok(const char *s)
{
	unsigned char a[16];

	return str_ok(s, 63, 0) && (inet_pton(AF_INET6, s, a) == 1 ||
	    inet_pton(AF_INET, s, a) == 1);
}

#define BAD(r, ...)                                        \
	do {                                               \
		snprintf(why, len, __VA_ARGS__);           \
		return (r);                                \
	} while (0)

static enum plan_bad
record_check(const Netstream__Plan *p, size_t i, char *why, size_t len)
{
	const Netstream__Record *r = p->records[i];
	const struct field_def *f;
	struct tmpl t;
	size_t k;

	if (!str_ok(r->name, PLAN_NAME_MAX, 0) || !str_ok(r->key, 4096, 1))
		BAD(PLAN_BAD_RECORD, "record %zu: name", i);
	if (r->id != i)
		BAD(PLAN_BAD_RECORD, "record %zu: id %u", i, r->id);
	if (!in(r->template_id, PLAN_TMPL_ID_FIRST, 65535))
		BAD(PLAN_BAD_TEMPLATE, "record %s: template id %u", r->name,
		    r->template_id);
	if (r->n_match < 1 || r->n_match + r->n_collect > TMPL_MAX_FIELDS)
		BAD(PLAN_BAD_FIELD, "record %s: %zu match, %zu collect fields",
		    r->name, r->n_match, r->n_collect);
	for (k = 0; k < r->n_match; k++)
		if ((f = field_by_id(r->match[k])) == NULL ||
		    !(f->where & FIELD_KEY))
			BAD(PLAN_BAD_FIELD, "record %s: match field %u",
			    r->name, r->match[k]);
	for (k = 0; k < r->n_collect; k++)
		if ((f = field_by_id(r->collect[k])) == NULL ||
		    !(f->where & FIELD_COLLECT))
			BAD(PLAN_BAD_FIELD, "record %s: collect field %u",
			    r->name, r->collect[k]);
	/* a field twice, or a row past what a cache and a packet hold */
	if (layout_record(p, r, &t) == -1)
		BAD(PLAN_BAD_FIELD, "record %s: no row layout", r->name);
	return PLAN_OK;
}

static enum plan_bad
sampler_check(const Netstream__Sampler *s, const char *where, char *why,
    size_t len)
{
	if (s == NULL)
		return PLAN_OK; /* none: every packet */
	if (s->id > PLAN_SAMPLER_ID_MAX) /* exported in one byte */
		BAD(PLAN_BAD_SAMPLER, "%s: sampler id %u (0..%d)", where, s->id,
		    PLAN_SAMPLER_ID_MAX);
	switch (s->mode) {
	case NETSTREAM__SAMPLER_MODE__SAMPLER_NONE:
		return PLAN_OK;
	case NETSTREAM__SAMPLER_MODE__FIX_PACKETS:
	case NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS:
		if (!in(s->value, 1, 65535))
			BAD(PLAN_BAD_SAMPLER, "%s: sampler value %u (1..65535)",
			    where, s->value);
		return PLAN_OK;
	case NETSTREAM__SAMPLER_MODE__FIX_TIME:
		if (!in(s->value, 5, 30000))
			BAD(PLAN_BAD_SAMPLER, "%s: sampler value %u ms "
			    "(5..30000)", where, s->value);
		return PLAN_OK;
	default:
		BAD(PLAN_BAD_SAMPLER, "%s: sampler mode %d", where,
		    (int)s->mode);
	}
}

static enum plan_bad
host_check(const Netstream__Host *h, const char *where, char *why, size_t len)
{
	if (!addr_ok(h->address) || !in(h->port, 1, 65535))
		BAD(PLAN_BAD_HOST, "%s: host address or port", where);
	if (h->dscp > 63 || h->source_port > 65535 ||
	    !str_ok(h->vpn_instance, PLAN_NAME_MAX, 1) || !str_ok(h->view, 128, 1))
		BAD(PLAN_BAD_HOST, "%s: host %s: dscp, source port or vpn",
		    where, h->address);
	if (h->pace_pps != 0 && !in(h->pace_pps, PLAN_PACE_MIN, PLAN_PACE_MAX))
		BAD(PLAN_BAD_HOST, "%s: host %s: pace %u pps", where, h->address,
		    h->pace_pps);
	if (h->source_address == NULL ||
	    (h->source_address[0] && !addr_ok(h->source_address)))
		BAD(PLAN_BAD_HOST, "%s: host %s: source address", where,
		    h->address);
	return PLAN_OK;
}

static enum plan_bad
binding_check(const Netstream__Plan *p, size_t i, char *why, size_t len)
{
	const Netstream__Binding *b = p->bindings[i];
	enum plan_bad r;
	char where[128];
	size_t k;

	if (!str_ok(b->interface, PLAN_IFNAME_MAX, 0) ||
	    !str_ok(b->monitor, PLAN_NAME_MAX, 1) ||
	    !str_ok(b->hosts_from, 128, 1))
		BAD(PLAN_BAD_BINDING, "binding %zu: names", i);
	snprintf(where, sizeof(where), "binding %s %s", b->interface,
	    b->direction == 1 ? "outbound" : "inbound");
	if (b->slot > PLAN_SLOT_MAX)
		BAD(PLAN_BAD_SLOT, "%s: slot %u", where, b->slot);
	if (b->direction != NETSTREAM__DIRECTION__INBOUND &&
	    b->direction != NETSTREAM__DIRECTION__OUTBOUND)
		BAD(PLAN_BAD_BINDING, "%s: direction %d", where,
		    (int)b->direction);
	if (b->record < -1 || (b->record >= 0 &&
	    (size_t)b->record >= p->n_records))
		BAD(PLAN_BAD_RECORD, "%s: record %d of %zu", where,
		    (int)b->record, p->n_records);
	if (b->n_hosts > PLAN_HOSTS_MAX)
		BAD(PLAN_BAD_HOST, "%s: %zu hosts", where, b->n_hosts);
	for (k = 0; k < b->n_hosts; k++)
		if ((r = host_check(b->hosts[k], where, why, len)) != PLAN_OK)
			return r;
	return sampler_check(b->sampler, where, why, len);
}

static enum plan_bad
interface_check(const Netstream__Plan *p, size_t i, char *why, size_t len)
{
	const Netstream__Interface *f = p->interfaces[i];

	if (!str_ok(f->name, PLAN_IFNAME_MAX, 0))
		BAD(PLAN_BAD_INTERFACE, "interface %zu: name", i);
	if (f->slot > PLAN_SLOT_MAX)
		BAD(PLAN_BAD_SLOT, "interface %s: slot %u", f->name, f->slot);
	if (!str_ok(f->device, PLAN_IFNAME_MAX, 1) ||
	    !str_ok(f->file, PLAN_PATH_MAX, 1) ||
	    (f->file[0] == '\0') == (f->device[0] == '\0') ||
	    (f->file[0] && f->file[0] != '/'))
		BAD(PLAN_BAD_INTERFACE, "interface %s: one device or one "
		    "absolute file path", f->name);
	if (f->file_direction != NETSTREAM__DIRECTION__INBOUND &&
	    f->file_direction != NETSTREAM__DIRECTION__OUTBOUND)
		BAD(PLAN_BAD_INTERFACE, "interface %s: file direction %d",
		    f->name, (int)f->file_direction);
	if (f->buffer_kb > 1048576)
		BAD(PLAN_BAD_INTERFACE, "interface %s: buffer %u kB", f->name,
		    f->buffer_kb);
	if (!str_ok(f->ifindex_from, 16, 1)) /* only shown, as it is */
		BAD(PLAN_BAD_INTERFACE, "interface %s: ifindex_from",
		    f->name);
	return PLAN_OK;
}

/* A monitor as configured: only shown, but shown names are checked too. */
static enum plan_bad
monitor_check(const Netstream__Plan *p, size_t i, char *why, size_t len)
{
	const Netstream__Monitor *m = p->monitors[i];
	enum plan_bad r;
	char where[64];
	size_t k;

	if (!str_ok(m->name, PLAN_NAME_MAX, 0) ||
	    !str_ok(m->record, PLAN_NAME_MAX, 1))
		BAD(PLAN_BAD_MONITOR, "monitor %zu: names", i);
	snprintf(where, sizeof(where), "monitor %s", m->name);
	if (m->n_hosts > PLAN_HOSTS_MAX)
		BAD(PLAN_BAD_MONITOR, "%s: %zu hosts", where, m->n_hosts);
	for (k = 0; k < m->n_hosts; k++)
		if ((r = host_check(m->hosts[k], where, why, len)) != PLAN_OK)
			return r;
	return PLAN_OK;
}

/* What the plan as a whole sets: timers and sizes (0: the default). */
static enum plan_bad
global_check(const Netstream__Plan *p, char *why, size_t len)
{
	if (!in(p->active_seconds, 15, 3600) ||
	    !in(p->inactive_seconds, 5, 600))
		BAD(PLAN_BAD_TIMER, "aging active %u s, inactive %u s",
		    p->active_seconds, p->inactive_seconds);
	if (p->template_timeout_minutes > 3600 ||
	    p->options_timeout_seconds > 3600 ||
	    p->template_refresh_packets > 65535)
		BAD(PLAN_BAD_TIMER, "template or options refresh");
	if (p->export_as > 2 || (p->mtu && !in(p->mtu, 576, 9000)) ||
	    (p->cache_entries && !in(p->cache_entries, 1024, 16777216)) ||
	    (p->stats_interval_ms && !in(p->stats_interval_ms, 100, 60000)))
		BAD(PLAN_BAD_LIMIT, "as, mtu, cache entries or stats interval");
	if (!str_ok(p->routes_file, PLAN_PATH_MAX, 1) ||
	    !str_ok(p->source_path, PLAN_PATH_MAX, 1))
		BAD(PLAN_BAD_LIMIT, "file names");
	/* a SHA-256, or none (no routes file, or an older plan) */
	if ((p->routes_digest.len != 0 && p->routes_digest.len != 32) ||
	    (p->routes_digest.len != 0 && !p->routes_file[0]))
		BAD(PLAN_BAD_LIMIT, "routes digest of %zu bytes",
		    p->routes_digest.len);
	return PLAN_OK;
}

enum plan_bad
plan_check(const Netstream__Plan *p, char *why, size_t len)
{
	enum plan_bad r;
	size_t i;

	snprintf(why, len, "ok");
	/* revisions count from 1: 0 is older than any plan */
	if (p->generation == 0)
		BAD(PLAN_BAD_GENERATION, "generation 0");
	if ((r = global_check(p, why, len)) != PLAN_OK)
		return r;
	for (i = 0; i < p->n_records; i++)
		if ((r = record_check(p, i, why, len)) != PLAN_OK)
			return r;
	for (i = 0; i < p->n_interfaces; i++)
		if ((r = interface_check(p, i, why, len)) != PLAN_OK)
			return r;
	for (i = 0; i < p->n_bindings; i++)
		if ((r = binding_check(p, i, why, len)) != PLAN_OK)
			return r;
	for (i = 0; i < p->n_slots; i++)
		if (p->slots[i]->id > PLAN_SLOT_MAX ||
		    p->slots[i]->workers > PLAN_WORKERS_MAX)
			BAD(PLAN_BAD_SLOT, "slot %u: id or %u workers",
			    p->slots[i]->id, p->slots[i]->workers);
	for (i = 0; i < p->n_monitors; i++)
		if ((r = monitor_check(p, i, why, len)) != PLAN_OK)
			return r;
	return PLAN_OK;
}

/*
 * What sampled and exportd do with a plan off the bus: 1 when it passes
 * plan_check(); else it is counted in bad[reason] and logged, and 0.
 */
int
plan_take_check(const Netstream__Plan *p, uint64_t bad[PLAN_BAD_MAX])
{
	enum plan_bad why;
	char text[256];

	if ((why = plan_check(p, text, sizeof(text))) == PLAN_OK)
		return 1;
	bad[why]++;
	log_warnx("plan generation %llu refused (%s): %s",
	    (unsigned long long)p->generation, plan_bad_name(why), text);
	return 0;
}

/* bad_plans{reason}: the refusals counted by plan_take_check() */
void
plan_bad_stats(Netstream__Stats *st, const uint64_t bad[PLAN_BAD_MAX])
{
	int r;

	for (r = PLAN_OK + 1; r < PLAN_BAD_MAX; r++)
		if (bad[r])
			stats_add(st, "bad_plans", bad[r], "reason",
			    plan_bad_name((enum plan_bad)r), NULL, NULL);
}
