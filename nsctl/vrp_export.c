/*
 * vrp_export.c: a struct conf as the vendor's command lines, laid out as
 * `display current-configuration` lays them out: `#` between sections,
 * the commands of a view indented one space under it, `return` at the
 * end. Only what differs from the defaults is written, as VRP does. What
 * has no vendor command is written as `# netstreamd: KEY VALUE` lines,
 * which `nsctl vrp import` reads back and a router takes as comments.
 */
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "plan.h"
#include "util.h"
#include "vrp.h"

static const char *const mode_words[] = { "", "fix-packets",
	"random-packets", "fix-time" };

/* a word as the importer reads it back: quoted when it must be */
static const char *
w(struct sbuf *b, const char *s)
{
	const char *p;

	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
	if (s[0] != '\0' && strpbrk(s, " \t\"\\") == NULL && s[0] != '#') {
		sbuf_printf(b, "%s", s);
		return b->s;
	}
	sbuf_printf(b, "\"");
	for (p = s; *p; p++)
		sbuf_printf(b, "%s%c", *p == '"' || *p == '\\' ? "\\" : "",
		    *p);
	sbuf_printf(b, "\"");
	return b->s;
}

static const char *
addr(const char *a)
{
	return strchr(a, ':') ? "ipv6 " : "";
}

static void
hosts(struct sbuf *o, const struct conf *c, const struct conf_view_export *ex,
    const char *ind)
{
	struct sbuf b;
	int i;

	sbuf_init(&b);
	for (i = 0; i < ex->n_hosts; i++) {
		const struct conf_host *h = &ex->hosts[i];

		if (h->file[0]) { /* no vendor command: netstreamd's */
			sbuf_printf(o, "%s# netstreamd: host-file %s\n", ind,
			    w(&b, h->file));
			continue;
		}
		sbuf_printf(o, "%sipv6 netstream export host %s%s %u", ind,
		    addr(h->address), h->address, h->port);
		if (h->vpn[0])
			sbuf_printf(o, " vpn-instance %s", w(&b, h->vpn));
		if (h->ipfix != c->version_ipfix)
			sbuf_printf(o, " version %s", h->ipfix ? "ipfix" : "9");
		if (h->dscp)
			sbuf_printf(o, " dscp %u", h->dscp);
		sbuf_printf(o, "\n");
		if (h->pace_pps != PLAN_PACE_DEFAULT)
			sbuf_printf(o, "%s# netstreamd: host-pace-pps %s%s %u "
			    "%u\n", ind, addr(h->address), h->address,
			    h->port, h->pace_pps);
		if (h->tcp)
			sbuf_printf(o, "%s# netstreamd: host-tcp %s%s %u\n", ind,
			    addr(h->address), h->address, h->port);
	}
	sbuf_free(&b);
}

static void
sources(struct sbuf *o, const struct conf_view_export *ex, const char *ind)
{
	int f;

	for (f = 0; f < CONF_FAMILIES; f++) {
		const struct conf_source *s = &ex->source[f];

		if (s->address[0] == '\0')
			continue;
		sbuf_printf(o, "%sipv6 netstream export source %s%s", ind,
		    addr(s->address), s->address);
		if (s->port)
			sbuf_printf(o, " %u", s->port);
		sbuf_printf(o, "\n");
	}
}

static void
samplers(struct sbuf *o, const struct conf_sampler s[2], const char *ind)
{
	int i;

	for (i = 0; i < 2; i++)
		if (s[i].value != 0 && s[i].mode >= 1 && s[i].mode <= 3)
			sbuf_printf(o, "%sipv6 netstream sampler %s %u %s\n",
			    ind, mode_words[s[i].mode], s[i].value,
			    i ? "outbound" : "inbound");
}

/* what the system view has that no vendor command sets */
static void
system_ext(struct sbuf *o, const struct conf *c)
{
	struct sbuf b;
	size_t i;

	sbuf_init(&b);
	if (strcmp(c->run_dir, DEFAULT_RUN_DIR) != 0)
		sbuf_printf(o, "# netstreamd: run-dir %s\n", w(&b, c->run_dir));
	if (strcmp(c->database, "/var/lib/netstreamd/config.db") != 0)
		sbuf_printf(o, "# netstreamd: database %s\n",
		    w(&b, c->database));
	if (c->stats_interval_ms != 1000)
		sbuf_printf(o, "# netstreamd: stats-interval-ms %u\n",
		    c->stats_interval_ms);
	if (c->routes_file[0])
		sbuf_printf(o, "# netstreamd: routes-file %s\n",
		    w(&b, c->routes_file));
	if (c->cache_entries != 1048576)
		sbuf_printf(o, "# netstreamd: cache-entries %u\n",
		    c->cache_entries);
	if (c->cache_drop_new)
		sbuf_printf(o, "# netstreamd: cache-full drop-new\n");
	if (c->template_refresh_packets != 20)
		sbuf_printf(o, "# netstreamd: template-refresh-packets %u\n",
		    c->template_refresh_packets);
	if (c->options_timeout != 60)
		sbuf_printf(o, "# netstreamd: options-timeout-seconds %u\n",
		    c->options_timeout);
	if (c->mtu != 1400)
		sbuf_printf(o, "# netstreamd: mtu %u\n", c->mtu);
	if (c->compat_extended)
		sbuf_printf(o, "# netstreamd: compat extended\n");
	if (c->interface_32bit)
		sbuf_printf(o, "# netstreamd: interface-width 32\n");
	for (i = 0; i < BUS_N_ENDPOINTS; i++)
		if (c->endpoints[i][0])
			sbuf_printf(o, "# netstreamd: endpoint %s %s\n",
			    bus_endpoint_names[i].key, w(&b, c->endpoints[i]));
	if (c->curve_dir[0])
		sbuf_printf(o, "# netstreamd: curve-dir %s\n",
		    w(&b, c->curve_dir));
	if (c->server_key[0])
		sbuf_printf(o, "# netstreamd: server-key %s\n",
		    w(&b, c->server_key));
	sbuf_free(&b);
}

static void
system_view(struct sbuf *o, const struct conf *c)
{
	static const char *const as[] = { "", " origin-as", " peer-as" };
	/* 0: a config without a system group, the default */
	unsigned act = c->active_seconds ? c->active_seconds : 1800;

	sbuf_printf(o, "#\n");
	if (c->version_ipfix || c->export_as || c->bgp_nexthop)
		sbuf_printf(o, "ipv6 netstream export version %s%s%s\n",
		    c->version_ipfix ? "ipfix" : "9",
		    c->export_as > 0 && c->export_as < 3 ? as[c->export_as] :
		    "", c->bgp_nexthop ? " bgp-nexthop" : "");
	if (c->template_timeout != 30)
		sbuf_printf(o, "ipv6 netstream export template timeout-rate "
		    "%u\n", c->template_timeout);
	sources(o, &c->sys, "");
	hosts(o, c, &c->sys, "");
	if (act % 60 != 0)
		sbuf_printf(o, "ipv6 netstream aggregation timeout active "
		    "interval-second %u\n", act);
	else if (act != 1800)
		sbuf_printf(o, "ipv6 netstream aggregation timeout active %u\n",
		    act / 60);
	if (c->inactive_seconds != 30)
		sbuf_printf(o, "ipv6 netstream aggregation timeout inactive "
		    "%u\n", c->inactive_seconds);
	samplers(o, c->sampler, "");
	system_ext(o, c);
}

static void
field_lines(struct sbuf *o, const char *what, const unsigned *v, int n)
{
	const struct field_def *f;
	const struct vrp_field *vf;
	int i, k;

	for (i = 0; i < n; i++) {
		if ((f = field_by_id(v[i])) == NULL ||
		    (vf = vrp_field_of(f->name)) == NULL)
			continue;
		sbuf_printf(o, " %s", what);
		for (k = 0; k < 3 && vf->words[k] != NULL; k++)
			sbuf_printf(o, " %s", vf->words[k]);
		sbuf_printf(o, "\n");
	}
}

static void
records(struct sbuf *o, const struct conf *c)
{
	struct sbuf b;
	int i;

	sbuf_init(&b);
	for (i = 0; i < c->n_records; i++) {
		const struct conf_record *r = &c->records[i];

		sbuf_printf(o, "#\nipv6 netstream record %s\n",
		    w(&b, r->name));
		field_lines(o, "match", r->match, r->n_match);
		field_lines(o, "collect", r->collect, r->n_collect);
	}
	if (c->apply_record[0])
		sbuf_printf(o, "#\nipv6 netstream apply record %s\n",
		    w(&b, c->apply_record));
	sbuf_free(&b);
}

static void
monitors(struct sbuf *o, const struct conf *c)
{
	struct sbuf b;
	int i;

	sbuf_init(&b);
	for (i = 0; i < c->n_monitors; i++) {
		const struct conf_monitor *m = &c->monitors[i];

		sbuf_printf(o, "#\nipv6 netstream monitor %s\n",
		    w(&b, m->name));
		if (m->record[0])
			sbuf_printf(o, " apply record %s\n", w(&b, m->record));
		sources(o, &m->ex, " ");
		hosts(o, c, &m->ex, " ");
	}
	sbuf_free(&b);
}

static void
slots(struct sbuf *o, const struct conf *c)
{
	struct sbuf b;
	int i;

	sbuf_init(&b);
	for (i = 0; i < c->n_slots; i++) {
		const struct conf_slot *s = &c->slots[i];

		sbuf_printf(o, "#\nslot %u\n", s->id);
		if (s->sequence_flow)
			sbuf_printf(o, " ip netstream export sequence-mode "
			    "flow\n");
		hosts(o, c, &s->ex, " ");
		if (s->workers > 1)
			sbuf_printf(o, " # netstreamd: workers %u\n",
			    s->workers);
		if (s->remote)
			sbuf_printf(o, " # netstreamd: remote\n");
		if (s->endpoint[0])
			sbuf_printf(o, " # netstreamd: query-endpoint %s\n",
			    w(&b, s->endpoint));
		if (s->server_key[0])
			sbuf_printf(o, " # netstreamd: server-key %s\n",
			    w(&b, s->server_key));
	}
	sbuf_free(&b);
}

static void
iface_ext(struct sbuf *o, const struct conf_iface *f)
{
	struct sbuf b;
	unsigned slot;

	sbuf_init(&b);
	if (conf_slot_of_name(f->name, &slot) == -1 || slot != f->slot)
		sbuf_printf(o, " # netstreamd: slot %u\n", f->slot);
	if (f->device[0])
		sbuf_printf(o, " # netstreamd: device %s\n", w(&b, f->device));
	if (f->file[0])
		sbuf_printf(o, " # netstreamd: file %s\n", w(&b, f->file));
	if (f->realtime)
		sbuf_printf(o, " # netstreamd: replay realtime\n");
	if (f->file_dir)
		sbuf_printf(o, " # netstreamd: file-direction outbound\n");
	if (f->ifindex)
		sbuf_printf(o, " # netstreamd: ifindex %u\n", f->ifindex);
	if (f->buffer_kb && f->buffer_kb != 4096)
		sbuf_printf(o, " # netstreamd: buffer-kb %u\n", f->buffer_kb);
	if (f->description[0])
		sbuf_printf(o, " # netstreamd: description %s\n",
		    w(&b, f->description));
	sbuf_free(&b);
}

static void
ifaces(struct sbuf *o, const struct conf *c)
{
	int i, k;

	for (i = 0; i < c->n_ifaces; i++) {
		const struct conf_iface *f = &c->ifaces[i];
		struct sbuf b;

		sbuf_init(&b);
		sbuf_printf(o, "#\ninterface %s\n", w(&b, f->name));
		for (k = 0; k < 2; k++)
			if (f->netstream[k])
				sbuf_printf(o, " ipv6 netstream %s\n",
				    k ? "outbound" : "inbound");
		for (k = 0; k < f->n_binds; k++)
			sbuf_printf(o, " ipv6 netstream monitor %s %s\n",
			    w(&b, f->binds[k].monitor),
			    f->binds[k].dir ? "outbound" : "inbound");
		sbuf_free(&b);
		samplers(o, f->sampler, " ");
		iface_ext(o, f);
	}
}

void
vrp_write(const struct conf *c, struct sbuf *out)
{
	system_view(out, c);
	records(out, c);
	monitors(out, c);
	slots(out, c);
	ifaces(out, c);
	sbuf_printf(out, "#\nreturn\n");
}
