/*
 * vrp_apply.c: one parsed VRP command applied to the config being built,
 * in the view it was given in: a view command enters (and makes) its
 * view, a setting replaces what was set before (as a VRP command run
 * again does), and undo removes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "plan.h"
#include "util.h"
#include "vrp_int.h"

/* a new zeroed element at the end of an array of n */
static void *
grow(void *base, int *n, size_t size)
{
	char *p = xrealloc(base, (size_t)(*n + 1) * size);

	memset(p + (size_t)*n * size, 0, size);
	(*n)++;
	return p;
}

/* removes element i of an array of n */
static void
drop(void *base, int *n, int i, size_t size)
{
	char *p = base;

	memmove(p + (size_t)i * size, p + (size_t)(i + 1) * size,
	    (size_t)(*n - i - 1) * size);
	(*n)--;
}

/* a view command's view, entered: the lines that follow are its */
static int
enter(struct imp *im, int view, int i)
{
	im->view = view;
	im->cur = i;
	return 0;
}

static int
find_slot(const struct conf *c, unsigned id)
{
	int i;

	for (i = 0; i < c->n_slots; i++)
		if (c->slots[i].id == id)
			return i;
	return -1;
}

static int
find_iface(const struct conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->n_ifaces; i++)
		if (strcmp(c->ifaces[i].name, name) == 0)
			return i;
	return -1;
}

static int
find_monitor(const struct conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->n_monitors; i++)
		if (strcmp(c->monitors[i].name, name) == 0)
			return i;
	return -1;
}

static int
a_slot(struct imp *im, const struct cmd *cmd)
{
	struct conf *c = im->c;
	int i = find_slot(c, cmd->value);

	if (cmd->undo) {
		if (i >= 0)
			drop(c->slots, &c->n_slots, i, sizeof(*c->slots));
		return 0;
	}
	if (i < 0) {
		c->slots = grow(c->slots, &c->n_slots, sizeof(*c->slots));
		i = c->n_slots - 1;
		c->slots[i].id = cmd->value;
		c->slots[i].workers = 1;
		c->slots[i].line = im->line;
	}
	return enter(im, V_SLOT, i);
}

static int
a_iface(struct imp *im, const struct cmd *cmd)
{
	struct conf *c = im->c;
	int i = find_iface(c, cmd->text);

	if (cmd->undo) {
		if (i >= 0)
			drop(c->ifaces, &c->n_ifaces, i, sizeof(*c->ifaces));
		return 0;
	}
	if (i < 0) {
		struct conf_iface *f;

		c->ifaces = grow(c->ifaces, &c->n_ifaces, sizeof(*c->ifaces));
		i = c->n_ifaces - 1;
		f = &c->ifaces[i];
		ns_strlcpy(f->name, cmd->text, sizeof(f->name));
		f->line = im->line;
		f->buffer_kb = 4096;
		/* none: an error at the end, unless the view sets one */
		if (conf_slot_of_name(f->name, &f->slot) == -1)
			f->slot = VRP_NO_SLOT;
	}
	return enter(im, V_IF, i);
}

/* a monitor or record that something still uses cannot be undone */
static int
monitor_used(struct imp *im, const char *name)
{
	int i, j;

	for (i = 0; i < im->c->n_ifaces; i++)
		for (j = 0; j < im->c->ifaces[i].n_binds; j++)
			if (strcmp(im->c->ifaces[i].binds[j].monitor, name) == 0)
				return vrp_perr(im, "monitor %s is bound to "
				    "interface %s: undo that binding first",
				    name, im->c->ifaces[i].name);
	return 0;
}

static int
record_used(struct imp *im, const char *name)
{
	int i;

	if (strcmp(im->c->apply_record, name) == 0)
		return vrp_perr(im, "record %s is applied in the system view: "
		    "undo ipv6 netstream apply record first", name);
	for (i = 0; i < im->c->n_monitors; i++)
		if (strcmp(im->c->monitors[i].record, name) == 0)
			return vrp_perr(im, "record %s is applied in monitor "
			    "%s: undo apply record there first", name,
			    im->c->monitors[i].name);
	return 0;
}

static int
a_monitor(struct imp *im, const struct cmd *cmd)
{
	struct conf *c = im->c;
	int i = find_monitor(c, cmd->name);

	if (cmd->undo) {
		if (i < 0)
			return vrp_perr(im, "no monitor %s", cmd->name);
		if (monitor_used(im, cmd->name) < 0)
			return -1;
		drop(c->monitors, &c->n_monitors, i, sizeof(*c->monitors));
		return 0;
	}
	if (i < 0) {
		c->monitors = grow(c->monitors, &c->n_monitors,
		    sizeof(*c->monitors));
		i = c->n_monitors - 1;
		ns_strlcpy(c->monitors[i].name, cmd->name,
		    sizeof(c->monitors[i].name));
		c->monitors[i].line = im->line;
	}
	return enter(im, V_MON, i);
}

static int
a_record(struct imp *im, const struct cmd *cmd)
{
	struct conf *c = im->c;
	int i = conf_find_record(c, cmd->name);

	if (cmd->undo) {
		if (i < 0)
			return vrp_perr(im, "no record %s", cmd->name);
		if (record_used(im, cmd->name) < 0)
			return -1;
		drop(c->records, &c->n_records, i, sizeof(*c->records));
		return 0;
	}
	if (i < 0) {
		if (c->n_records == CONF_MAX_RECORDS)
			return vrp_perr(im, "a device holds at most %d records",
			    CONF_MAX_RECORDS);
		c->records = grow(c->records, &c->n_records,
		    sizeof(*c->records));
		i = c->n_records - 1;
		ns_strlcpy(c->records[i].name, cmd->name,
		    sizeof(c->records[i].name));
		c->records[i].line = im->line;
	}
	return enter(im, V_REC, i);
}

/* the export settings of the view the line is in */
struct conf_view_export *
vrp_view_ex(struct imp *im)
{
	switch (im->view) {
	case V_SLOT:
		return &im->c->slots[im->cur].ex;
	case V_MON:
		return &im->c->monitors[im->cur].ex;
	default:
		return &im->c->sys;
	}
}

int
vrp_find_host(const struct conf_view_export *ex, const char *addr,
    unsigned port)
{
	int i;

	for (i = 0; i < ex->n_hosts; i++)
		if (strcmp(ex->hosts[i].address, addr) == 0 &&
		    ex->hosts[i].port == port)
			return i;
	return -1;
}

static int
a_host(struct imp *im, const struct cmd *cmd)
{
	struct conf_view_export *ex = vrp_view_ex(im);
	int i = vrp_find_host(ex, cmd->host.address, cmd->host.port);

	if (cmd->undo) {
		if (i < 0)
			return vrp_perr(im, "no export host %s port %u in this "
			    "view", cmd->host.address, cmd->host.port);
		drop(ex->hosts, &ex->n_hosts, i, sizeof(ex->hosts[0]));
		return 0;
	}
	if (i < 0 && ex->n_hosts == CONF_MAX_HOSTS)
		return vrp_perr(im, "at most %d export hosts per view: undo "
		    "one first", CONF_MAX_HOSTS);
	if (i < 0)
		i = ex->n_hosts++;
	ex->hosts[i] = cmd->host;
	ex->hosts[i].line = im->line;
	if (cmd->host.vpn[0])
		ex->hosts[i].vpn_line = im->line;
	return 0;
}

static int
a_source(struct imp *im, const struct cmd *cmd)
{
	struct conf_view_export *ex = vrp_view_ex(im);

	if (cmd->undo) {
		if (cmd->fam != CONF_IPV6)
			memset(&ex->source[CONF_IPV4], 0, sizeof(ex->source[0]));
		if (cmd->fam != CONF_IPV4)
			memset(&ex->source[CONF_IPV6], 0, sizeof(ex->source[0]));
		return 0;
	}
	ex->source[cmd->fam] = cmd->src;
	ex->source[cmd->fam].line = im->line;
	return 0;
}

static int
a_system(struct imp *im, const struct cmd *cmd)
{
	struct conf *c = im->c;
	int u = cmd->undo;

	switch (cmd->kind) {
	case K_VERSION:
		c->version_ipfix = u ? 0 : cmd->mode;
		c->export_as = u ? 0 : cmd->as;
		c->bgp_nexthop = u ? 0 : cmd->bgp;
		im->lines[CW_VERSION] = u ? 0 : im->line;
		break;
	case K_TEMPLATE:
		c->template_timeout = u ? 30 : cmd->value;
		im->lines[CW_TEMPLATE] = u ? 0 : im->line;
		break;
	case K_APPLY:
		c->apply_record[0] = '\0';
		c->apply_line = 0;
		if (!u) {
			ns_strlcpy(c->apply_record, cmd->name,
			    sizeof(c->apply_record));
			c->apply_line = im->line;
		}
		break;
	case K_ACTIVE:
		c->active_seconds = u ? 1800 : cmd->mode ? cmd->value :
		    cmd->value * 60;
		im->lines[CW_ACTIVE] = u ? 0 : im->line;
		break;
	case K_INACTIVE:
		c->inactive_seconds = u ? 30 : cmd->value;
		im->lines[CW_INACTIVE] = u ? 0 : im->line;
		break;
	}
	return 0;
}

static int
a_sampler(struct imp *im, const struct cmd *cmd)
{
	struct conf_sampler *s = im->view == V_IF ?
	    &im->c->ifaces[im->cur].sampler[cmd->dir] :
	    &im->c->sampler[cmd->dir];

	memset(s, 0, sizeof(*s));
	if (!cmd->undo) {
		s->mode = cmd->mode;
		s->value = cmd->value;
		s->line = im->line;
	}
	return 0;
}

/* ipv6 netstream monitor NAME DIRECTION: one monitor a direction */
static int
a_bind(struct imp *im, const struct cmd *cmd)
{
	struct conf_iface *f = &im->c->ifaces[im->cur];
	int i;

	for (i = 0; i < f->n_binds; i++)
		if (f->binds[i].dir == cmd->dir)
			break;
	if (cmd->undo) {
		if (i == f->n_binds ||
		    strcmp(f->binds[i].monitor, cmd->name) != 0)
			return vrp_perr(im, "monitor %s is not bound %s here",
			    cmd->name, cmd->dir ? "outbound" : "inbound");
		if (i == 0 && f->n_binds == 2)
			f->binds[0] = f->binds[1];
		f->n_binds--;
		return 0;
	}
	if (i == f->n_binds)
		f->n_binds++;
	ns_strlcpy(f->binds[i].monitor, cmd->name, sizeof(f->binds[i].monitor));
	f->binds[i].dir = cmd->dir;
	f->binds[i].line = im->line;
	return 0;
}

static int
a_mon_apply(struct imp *im, const struct cmd *cmd)
{
	struct conf_monitor *m = &im->c->monitors[im->cur];

	m->record[0] = '\0';
	m->record_line = 0;
	if (!cmd->undo) {
		ns_strlcpy(m->record, cmd->name, sizeof(m->record));
		m->record_line = im->line;
	}
	return 0;
}

static int
has_field(const unsigned *v, int n, unsigned id)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i] == id)
			return i;
	return -1;
}

/* match/collect: the field table says which fields may be which */
static int
a_field(struct imp *im, const struct cmd *cmd)
{
	struct conf_record *r = &im->c->records[im->cur];
	const struct field_def *f = field_by_name(cmd->field->field);
	int key = cmd->kind == K_MATCH;
	unsigned *v = key ? r->match : r->collect;
	int *n = key ? &r->n_match : &r->n_collect;
	int i = has_field(v, *n, f->id);

	if (cmd->undo) {
		if (i >= 0)
			drop(v, n, i, sizeof(v[0]));
		return 0;
	}
	if (!(f->where & (key ? FIELD_KEY : FIELD_COLLECT)))
		return vrp_perr(im, "%s cannot be a %s field (it can be %s)",
		    f->name, key ? "match" : "collect",
		    key ? "collected" : "matched");
	if (has_field(key ? r->collect : r->match,
	    key ? r->n_collect : r->n_match, f->id) >= 0)
		return vrp_perr(im, "%s is already a %s field of record %s",
		    f->name, key ? "collect" : "match", r->name);
	if (i < 0 && *n == CONF_MAX_FIELDS)
		return vrp_perr(im, "at most %d fields", CONF_MAX_FIELDS);
	if (i < 0)
		v[(*n)++] = f->id;
	return 0;
}

int
vrp_apply(struct imp *im, const struct cmd *cmd)
{
	switch (cmd->kind) {
	case K_SLOT:
		return a_slot(im, cmd);
	case K_IFACE:
		return a_iface(im, cmd);
	case K_MONITOR:
		return a_monitor(im, cmd);
	case K_RECORD:
		return a_record(im, cmd);
	case K_HOST:
		return a_host(im, cmd);
	case K_SOURCE:
		return a_source(im, cmd);
	case K_SAMPLER:
		return a_sampler(im, cmd);
	case K_NETSTREAM:
		im->c->ifaces[im->cur].netstream[cmd->dir] =
		    cmd->undo ? 0 : im->line;
		return 0;
	case K_BIND:
		return a_bind(im, cmd);
	case K_SEQMODE:
		im->c->slots[im->cur].sequence_flow = !cmd->undo;
		return 0;
	case K_MON_APPLY:
		return a_mon_apply(im, cmd);
	case K_MATCH:
	case K_COLLECT:
		return a_field(im, cmd);
	case K_EXT:
		return vrp_apply_ext(im, cmd);
	default:
		return a_system(im, cmd);
	}
}

/*
 * Hosts that named no version take the system's, as it ends up; an
 * interface whose number gives no slot needs one.
 */
void
vrp_finish(struct imp *im)
{
	struct conf *c = im->c;
	int i;

	for (i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].slot == VRP_NO_SLOT)
			diag_add(im->d, DIAG_ERROR, c->ifaces[i].line,
			    "interface %s: its number gives no slot 0..%d: "
			    "add \"# netstreamd: slot N\" in its view",
			    c->ifaces[i].name, CONF_SLOT_MAX);

	for (i = 0; i < c->n_monitors; i++)
		vrp_hosts_version(c, &c->monitors[i].ex);
	for (i = 0; i < c->n_slots; i++)
		vrp_hosts_version(c, &c->slots[i].ex);
	vrp_hosts_version(c, &c->sys);
}
