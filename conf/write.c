/*
 * write.c: a struct conf written back as netstreamd.conf text (what
 * `nsctl vrp import` prints), each setting whose value is not the
 * default; and, for each output line, the line of the input that set it,
 * so the validator's diagnostics can name the input's lines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fields.h"
#include "plan.h"
#include "util.h"

struct cw {
	struct sbuf *out;
	int *map;
	size_t n, cap;
	const struct conf *c;
};

/* One whole output line (fmt has no newline), set by input line src. */
static void __attribute__((format(printf, 3, 4)))
put(struct cw *w, int src, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sbuf_printf(w->out, "%s\n", buf);
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->map = xrealloc(w->map, w->cap * sizeof(*w->map));
	}
	w->map[w->n++] = src;
}

/* s as a libconfig string literal, escaped */
void
conf_write_string(struct sbuf *out, const char *s)
{
	sbuf_printf(out, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			sbuf_printf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			sbuf_printf(out, "\\x%02x", ch);
		else
			sbuf_printf(out, "%c", ch);
	}
	sbuf_printf(out, "\"");
}

/* a quoted string into a static-free buffer the caller gives */
static const char *
q(struct sbuf *b, const char *s)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
	conf_write_string(b, s);
	return b->s;
}

static void
put_host(struct cw *w, const struct conf_host *h, int last)
{
	struct sbuf a, v;
	char ver[32] = "", dscp[32] = "", pace[32] = "", vpn[128] = "";

	sbuf_init(&a);
	sbuf_init(&v);
	if (h->ipfix != w->c->version_ipfix)
		snprintf(ver, sizeof(ver), " version = \"%s\";",
		    h->ipfix ? "ipfix" : "9");
	if (h->dscp)
		snprintf(dscp, sizeof(dscp), " dscp = %u;", h->dscp);
	if (h->pace_pps != PLAN_PACE_DEFAULT)
		snprintf(pace, sizeof(pace), " pace_pps = %u;", h->pace_pps);
	if (h->vpn[0])
		snprintf(vpn, sizeof(vpn), " vpn_instance = %s;",
		    q(&v, h->vpn));
	if (h->file[0]) /* a file host: IPFIX, no address */
		put(w, h->line, "      { file = %s; version = \"ipfix\";%s }%s",
		    q(&a, h->file), pace, last ? "" : ",");
	else
		put(w, h->line, "      { address = %s; port = %u;%s%s%s%s%s }%s",
		    q(&a, h->address), h->port, vpn, ver, dscp, pace,
		    h->tcp ? " transport = \"tcp\";" : "", last ? "" : ",");
	sbuf_free(&a);
	sbuf_free(&v);
}

/* source = ... and hosts = ( ... ) of one view, at indent ind */
static void
put_view(struct cw *w, const struct conf_view_export *ex, int line)
{
	const struct conf_source *s;
	struct sbuf a;
	int f, n = 0, i;

	sbuf_init(&a);
	for (f = 0; f < CONF_FAMILIES; f++)
		n += ex->source[f].address[0] != '\0';
	if (n > 1)
		put(w, line, "    source = (");
	for (f = 0, i = 0; f < CONF_FAMILIES; f++) {
		s = &ex->source[f];
		if (s->address[0] == '\0')
			continue;
		i++;
		if (s->port)
			put(w, s->line, "    %s{ address = %s; port = %u; }%s",
			    n > 1 ? "  " : "source = ", q(&a, s->address),
			    s->port, n > 1 ? (i < n ? "," : "") : ";");
		else
			put(w, s->line, "    %s{ address = %s; }%s",
			    n > 1 ? "  " : "source = ", q(&a, s->address),
			    n > 1 ? (i < n ? "," : "") : ";");
	}
	if (n > 1)
		put(w, line, "    );");
	if (ex->n_hosts > 0) {
		put(w, line, "    hosts = (");
		for (i = 0; i < ex->n_hosts; i++)
			put_host(w, &ex->hosts[i], i + 1 == ex->n_hosts);
		put(w, line, "    );");
	}
	sbuf_free(&a);
}

static const char *const sampler_modes[] = { "", "fix-packets",
	"random-packets", "fix-time" };

static void
put_sampler(struct cw *w, const struct conf_sampler s[2], const char *ind)
{
	int i, n = (s[0].value != 0) + (s[1].value != 0);

	if (n == 0)
		return;
	put(w, s[0].value ? s[0].line : s[1].line, "%ssampler = {", ind);
	for (i = 0; i < 2; i++)
		if (s[i].value != 0 && s[i].mode >= 1 && s[i].mode <= 3)
			put(w, s[i].line,
			    "%s  %s = { mode = \"%s\"; value = %u; };", ind,
			    i == 0 ? "inbound" : "outbound",
			    sampler_modes[s[i].mode], s[i].value);
	put(w, s[0].value ? s[0].line : s[1].line, "%s};", ind);
}

/* is every system.export setting the default? */
static int
export_default(const struct conf *c)
{
	return !c->version_ipfix && !c->export_as && !c->bgp_nexthop &&
	    c->template_timeout == 30 && c->template_refresh_packets == 20 &&
	    c->options_timeout == 60 && c->mtu == 1400 &&
	    !c->compat_extended && !c->interface_32bit &&
	    !conf_has_source(&c->sys) && c->sys.n_hosts == 0;
}

static void
put_export(struct cw *w, const int *lines)
{
	static const char *const as[] = { "none", "origin", "peer" };
	const struct conf *c = w->c;

	if (export_default(c))
		return;
	put(w, lines[CW_VERSION], "  export = {");
	if (c->version_ipfix)
		put(w, lines[CW_VERSION], "    version = \"ipfix\";");
	if (c->export_as > 0 && c->export_as < 3)
		put(w, lines[CW_VERSION], "    as = \"%s\";", as[c->export_as]);
	if (c->bgp_nexthop)
		put(w, lines[CW_VERSION], "    bgp_nexthop = true;");
	if (c->template_timeout != 30)
		put(w, lines[CW_TEMPLATE], "    template_timeout_rate = %u;",
		    c->template_timeout);
	if (c->template_refresh_packets != 20)
		put(w, lines[CW_MISC], "    template_refresh_packets = %u;",
		    c->template_refresh_packets);
	if (c->options_timeout != 60)
		put(w, lines[CW_MISC], "    options_timeout_seconds = %u;",
		    c->options_timeout);
	if (c->mtu != 1400)
		put(w, lines[CW_MISC], "    mtu = %u;", c->mtu);
	if (c->compat_extended)
		put(w, lines[CW_MISC], "    compat = \"extended\";");
	if (c->interface_32bit)
		put(w, lines[CW_MISC], "    interface_width = \"32\";");
	put_view(w, &c->sys, lines[CW_VERSION]);
	put(w, lines[CW_VERSION], "  };");
}

static void
put_system(struct cw *w, const int *lines)
{
	const struct conf *c = w->c;
	/* 0: a config without a system group, the default */
	unsigned act = c->active_seconds ? c->active_seconds : 1800;
	struct sbuf a;

	if (export_default(c) && !c->apply_record[0] && act == 1800 &&
	    c->inactive_seconds == 30 && !c->sampler[0].value &&
	    !c->sampler[1].value)
		return;
	sbuf_init(&a);
	put(w, lines[CW_VERSION], "system = {");
	put_export(w, lines);
	if (c->apply_record[0])
		put(w, c->apply_line, "  apply_record = %s;",
		    q(&a, c->apply_record));
	if (act != 1800 || c->inactive_seconds != 30) {
		put(w, lines[CW_ACTIVE], "  aging = {");
		if (act % 60 != 0)
			put(w, lines[CW_ACTIVE], "    active_seconds = %u;",
			    act);
		else if (act != 1800)
			put(w, lines[CW_ACTIVE], "    active_minutes = %u;",
			    act / 60);
		if (c->inactive_seconds != 30)
			put(w, lines[CW_INACTIVE],
			    "    inactive_seconds = %u;", c->inactive_seconds);
		put(w, lines[CW_ACTIVE], "  };");
	}
	put_sampler(w, c->sampler, "  ");
	put(w, lines[CW_VERSION], "};");
	sbuf_free(&a);
}

static void
put_fields(struct cw *w, const char *what, const unsigned *v, int n,
    int line)
{
	struct sbuf l;
	int i;

	if (n == 0)
		return;
	sbuf_init(&l);
	for (i = 0; i < n; i++) {
		const struct field_def *f = field_by_id(v[i]);

		sbuf_printf(&l, "%s\"%s\"", i ? ", " : "", f ? f->name : "?");
	}
	put(w, line, "    %s = [ %s ];", what, l.s);
	sbuf_free(&l);
}

static void
put_records(struct cw *w)
{
	const struct conf *c = w->c;
	struct sbuf a;
	int i;

	if (c->n_records == 0)
		return;
	sbuf_init(&a);
	put(w, c->records[0].line, "records = (");
	for (i = 0; i < c->n_records; i++) {
		const struct conf_record *r = &c->records[i];

		put(w, r->line, "  { name = %s;", q(&a, r->name));
		put_fields(w, "match", r->match, r->n_match, r->line);
		put_fields(w, "collect", r->collect, r->n_collect, r->line);
		put(w, r->line, "  }%s", i + 1 < c->n_records ? "," : "");
	}
	put(w, c->records[0].line, ");");
	sbuf_free(&a);
}

static void
put_monitors(struct cw *w)
{
	const struct conf *c = w->c;
	struct sbuf a;
	int i;

	if (c->n_monitors == 0)
		return;
	sbuf_init(&a);
	put(w, c->monitors[0].line, "monitors = (");
	for (i = 0; i < c->n_monitors; i++) {
		const struct conf_monitor *m = &c->monitors[i];

		put(w, m->line, "  { name = %s;", q(&a, m->name));
		if (m->record[0])
			put(w, m->record_line, "    apply_record = %s;",
			    q(&a, m->record));
		put_view(w, &m->ex, m->line);
		put(w, m->line, "  }%s", i + 1 < c->n_monitors ? "," : "");
	}
	put(w, c->monitors[0].line, ");");
	sbuf_free(&a);
}

static void
put_slots(struct cw *w)
{
	const struct conf *c = w->c;
	struct sbuf a;
	int i;

	if (c->n_slots == 0)
		return;
	sbuf_init(&a);
	put(w, c->slots[0].line, "slots = (");
	for (i = 0; i < c->n_slots; i++) {
		const struct conf_slot *s = &c->slots[i];

		put(w, s->line, "  { id = %u;", s->id);
		if (s->sequence_flow)
			put(w, s->line, "    sequence_mode = \"flow\";");
		if (s->workers > 1)
			put(w, s->workers_line ? s->workers_line : s->line,
			    "    workers = %u;", s->workers);
		if (s->remote)
			put(w, s->line, "    remote = true;");
		if (s->endpoint[0])
			put(w, s->line, "    endpoint = %s;", q(&a, s->endpoint));
		if (s->server_key[0])
			put(w, s->line, "    server_key = %s;",
			    q(&a, s->server_key));
		put_view(w, &s->ex, s->line);
		put(w, s->line, "  }%s", i + 1 < c->n_slots ? "," : "");
	}
	put(w, c->slots[0].line, ");");
	sbuf_free(&a);
}

static void
put_capture(struct cw *w, const struct conf_iface *f)
{
	struct sbuf a;

	sbuf_init(&a);
	if (f->device[0])
		put(w, f->line, "    device = %s;", q(&a, f->device));
	if (f->file[0])
		put(w, f->line, "    file = %s;", q(&a, f->file));
	if (f->realtime)
		put(w, f->line, "    replay = \"realtime\";");
	if (f->file_dir)
		put(w, f->line, "    file_direction = \"outbound\";");
	sbuf_free(&a);
}

static void
put_iface(struct cw *w, const struct conf_iface *f)
{
	struct sbuf a;
	unsigned slot;
	int i;

	sbuf_init(&a);
	put(w, f->line, "  { name = %s;", q(&a, f->name));
	if (conf_slot_of_name(f->name, &slot) == -1 || slot != f->slot)
		put(w, f->line, "    slot = %u;", f->slot);
	if (f->ifindex)
		/* past INT32_MAX libconfig needs a 64-bit literal */
		put(w, f->line, "    ifindex = %u%s;", f->ifindex,
		    f->ifindex > 2147483647u ? "L" : "");
	if (f->buffer_kb && f->buffer_kb != 4096)
		put(w, f->line, "    buffer_kb = %u;", f->buffer_kb);
	if (f->description[0])
		put(w, f->line, "    description = %s;", q(&a, f->description));
	put_capture(w, f);
	if (f->netstream[0] && f->netstream[1])
		put(w, f->netstream[0],
		    "    netstream = [ \"inbound\", \"outbound\" ];");
	else if (f->netstream[0] || f->netstream[1])
		put(w, f->netstream[0] | f->netstream[1],
		    "    netstream = [ \"%s\" ];",
		    f->netstream[0] ? "inbound" : "outbound");
	if (f->n_binds > 0) {
		put(w, f->binds[0].line, "    monitors = (");
		for (i = 0; i < f->n_binds; i++)
			put(w, f->binds[i].line,
			    "      { name = %s; direction = \"%s\"; }%s",
			    q(&a, f->binds[i].monitor),
			    f->binds[i].dir ? "outbound" : "inbound",
			    i + 1 < f->n_binds ? "," : "");
		put(w, f->binds[0].line, "    );");
	}
	put_sampler(w, f->sampler, "    ");
	sbuf_free(&a);
}

static void
put_ifaces(struct cw *w)
{
	const struct conf *c = w->c;
	int i;

	if (c->n_ifaces == 0)
		return;
	put(w, c->ifaces[0].line, "interfaces = (");
	for (i = 0; i < c->n_ifaces; i++) {
		put_iface(w, &c->ifaces[i]);
		put(w, c->ifaces[i].line, "  }%s",
		    i + 1 < c->n_ifaces ? "," : "");
	}
	put(w, c->ifaces[0].line, ");");
}

static void
put_misc(struct cw *w, const int *lines)
{
	const struct conf *c = w->c;
	struct sbuf a;
	size_t i;
	int any = 0;

	sbuf_init(&a);
	if (strcmp(c->run_dir, DEFAULT_RUN_DIR) != 0)
		put(w, lines[CW_MISC], "run_dir = %s;", q(&a, c->run_dir));
	if (strcmp(c->database, "/var/lib/netstreamd/config.db") != 0)
		put(w, lines[CW_MISC], "database = %s;", q(&a, c->database));
	if (c->stats_interval_ms != 1000)
		put(w, lines[CW_MISC], "stats_interval_ms = %u;",
		    c->stats_interval_ms);
	if (c->routes_file[0])
		put(w, c->routes_line, "routes = { file = %s; };",
		    q(&a, c->routes_file));
	if (c->cache_entries != 1048576 || c->cache_drop_new)
		put(w, lines[CW_MISC], "cache = { entries = %u; full = \"%s\"; };",
		    c->cache_entries,
		    c->cache_drop_new ? "drop-new" : "evict-oldest");
	for (i = 0; i < BUS_N_ENDPOINTS; i++)
		any |= c->endpoints[i][0] != '\0';
	if (!any && c->curve_dir[0] == '\0' && c->server_key[0] == '\0') {
		sbuf_free(&a);
		return;
	}
	put(w, lines[CW_MISC], "endpoints = {");
	for (i = 0; i < BUS_N_ENDPOINTS; i++)
		if (c->endpoints[i][0])
			put(w, lines[CW_MISC], "  %s = %s;",
			    bus_endpoint_names[i].key, q(&a, c->endpoints[i]));
	if (c->curve_dir[0])
		put(w, lines[CW_MISC], "  curve_dir = %s;", q(&a, c->curve_dir));
	if (c->server_key[0])
		put(w, lines[CW_MISC], "  server_key = %s;",
		    q(&a, c->server_key));
	put(w, lines[CW_MISC], "};");
	sbuf_free(&a);
}

void
conf_write(const struct conf *c, const int *lines, struct sbuf *out,
    int **map, size_t *n_map)
{
	static const int none[CW_N];
	struct cw w = { out, NULL, 0, 0, c };

	if (lines == NULL)
		lines = none;
	put_misc(&w, lines);
	put_system(&w, lines);
	put_records(&w);
	put_monitors(&w);
	put_slots(&w);
	put_ifaces(&w);
	if (map != NULL) {
		*map = w.map;
		*n_map = w.n;
	} else
		free(w.map);
}
