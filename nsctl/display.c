/*
 * display.c: `nsctl display statistics|template|monitor|cache`, the
 * vendor's display commands: what the group counts (one stats sample of
 * each process), what the running plan binds, and the live flows of a
 * slot's caches (asked of that slot's sampled). Aligned tables, or JSON.
 * This file: the verb, what its parts share, and display monitor.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "display.h"
#include "fields.h"
#include "plan.h"
#include "util.h"

/* ---- output helpers: aligned tables, JSON strings ---- */

void
tbl_init(struct table *t, size_t ncol, unsigned left)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol < TBL_MAX_COLS ? ncol : TBL_MAX_COLS;
	t->left = left;
}

void __attribute__((format(printf, 2, 3)))
tbl_cell(struct table *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cell = xrealloc(t->cell, t->cap * sizeof(*t->cell));
	}
	t->cell[t->n++] = xstrdup(buf);
}

void
tbl_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
	t->n = t->cap = 0;
}

/* Columns as wide as their widest cell, two blanks apart, none at the end. */
void
tbl_print(struct table *t, const char *indent)
{
	size_t w[TBL_MAX_COLS] = { 0 }, i, c, len;
	struct sbuf line;

	for (i = 0; i < t->n; i++)
		if ((len = strlen(t->cell[i])) > w[i % t->ncol])
			w[i % t->ncol] = len;
	sbuf_init(&line);
	for (i = 0; i < t->n; i++) {
		c = i % t->ncol;
		sbuf_printf(&line, (t->left & (1u << c)) ? "%s%-*s" : "%s%*s",
		    c == 0 ? indent : "  ", (int)w[c], t->cell[i]);
		if (c + 1 < t->ncol && i + 1 < t->n)
			continue;
		while (line.len > 0 && line.s[line.len - 1] == ' ')
			line.s[--line.len] = '\0';
		printf("%s\n", line.s);
		line.len = 0;
	}
	sbuf_free(&line);
	tbl_free(t);
}

void
json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* ---- sources: the running plan, the stats stream ---- */

int
display_get_plan(struct nsctl *n, Netstream__Envelope **env)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	int rc;

	rq.verb = NETSTREAM__VERB__GET_PLAN;
	if ((rc = nsctl_request(n, &rq, env)) != 0)
		return rc;
	if ((*env)->reply->status != 0 || (*env)->reply->plan == NULL) {
		fprintf(stderr, "nsctl: no running plan: %s\n",
		    (*env)->reply->text);
		bus_free(*env);
		*env = NULL;
		return EXIT_INVALID;
	}
	return 0;
}

Netstream__Stats *
sample_of(const struct samples *sm, const char *process, unsigned slot)
{
	size_t i;

	for (i = 0; i < sm->n; i++)
		if (strcmp(sm->s[i]->process, process) == 0 &&
		    sm->s[i]->slot == slot)
			return sm->s[i];
	return NULL;
}

static void
sample_keep(struct samples *sm, Netstream__Stats *s)
{
	size_t i;

	for (i = 0; i < sm->n; i++)
		if (strcmp(sm->s[i]->process, s->process) == 0 &&
		    sm->s[i]->slot == s->slot) {
			netstream__stats__free_unpacked(sm->s[i], NULL);
			sm->s[i] = s;
			return;
		}
	if (sm->n < MAX_PROCS)
		sm->s[sm->n++] = s;
	else
		netstream__stats__free_unpacked(s, NULL);
}

void
samples_free(struct samples *sm)
{
	size_t i;

	for (i = 0; i < sm->n; i++)
		netstream__stats__free_unpacked(sm->s[i], NULL);
	sm->n = 0;
}

/* exportd, and sampled of every slot the plan runs (or of slot only) */
static int
samples_complete(const struct samples *sm, const Netstream__Plan *p, int slot)
{
	size_t i;

	if (sm->want_cfgd && sample_of(sm, "cfgd", 0) == NULL)
		return 0;
	if (slot == -2) /* cfgd's alone */
		return sm->want_cfgd;
	if (sample_of(sm, "exportd", 0) == NULL)
		return 0;
	for (i = 0; i < p->n_slots; i++)
		if ((slot < 0 || p->slots[i]->id == (unsigned)slot) &&
		    sample_of(sm, "sampled", p->slots[i]->id) == NULL)
			return 0;
	return 1;
}

/* One sample of each process from the stats proxy, for up to 3 s. */
void
display_collect(struct nsctl *n, const Netstream__Plan *p, int slot,
    struct samples *sm)
{
	int64_t deadline = mono_ms() + STATS_WAIT_MS;
	Netstream__Envelope *env;
	void *ctx, *sub;

	ctx = zmq_ctx_new();
	sub = bus_socket(ctx, ZMQ_SUB, BUS_MAX_STATS);
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "stats", 5);
	bus_connect(sub, n->ep.stats);
	while (!samples_complete(sm, p, slot) && mono_ms() < deadline) {
		zmq_pollitem_t it = { sub, 0, ZMQ_POLLIN, 0 };

		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		if (bus_recv(sub, BUS_MAX_STATS, 1, 0, &env) != BUS_OK)
			continue;
		if (env->msg_case == NETSTREAM__ENVELOPE__MSG_STATS &&
		    (strcmp(env->stats->process, "exportd") == 0 ||
		    strcmp(env->stats->process, "sampled") == 0 ||
		    (sm->want_cfgd &&
		    strcmp(env->stats->process, "cfgd") == 0))) {
			sample_keep(sm, env->stats);
			env->stats = NULL;
			env->msg_case = NETSTREAM__ENVELOPE__MSG__NOT_SET;
		}
		bus_free(env);
	}
	zmq_close(sub);
	zmq_ctx_term(ctx);
}

const char *
label_of(const Netstream__Counter *c, const char *key)
{
	size_t j;

	for (j = 0; j < c->n_labels; j++)
		if (strcmp(c->labels[j]->key, key) == 0)
			return c->labels[j]->value;
	return NULL;
}

static int
label_is(const Netstream__Counter *c, const char *key, const char *val)
{
	const char *v;

	if (key == NULL)
		return 1;
	return (v = label_of(c, key)) != NULL && strcmp(v, val) == 0;
}

/* The sum of the counters called name whose labels match (NULL: any). */
uint64_t
stats_sum(const Netstream__Stats *s, const char *name, const char *k1,
    const char *v1, const char *k2, const char *v2)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; s != NULL && i < s->n_counters; i++)
		if (strcmp(s->counters[i]->name, name) == 0 &&
		    label_is(s->counters[i], k1, v1) &&
		    label_is(s->counters[i], k2, v2))
			t += s->counters[i]->value;
	return t;
}

uint64_t
template_count(const Netstream__Stats *xd, const char *name, unsigned id)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", id);
	return stats_sum(xd, name, "template", buf, NULL, NULL);
}

/* ---- names of fields ---- */

const char *
display_field_name(unsigned type)
{
	const struct field_def *d = field_by_id(type);

	switch (type) {
	case F_SAMPLER_ID:
		return "sampler-id";
	case F_SAMPLER_MODE:
		return "sampler-mode";
	case F_SAMPLER_INTERVAL:
		return "sampler-interval";
	case F_IF_NAME:
		return "interface-name";
	case F_IF_DESC:
		return "interface-description";
	}
	return d != NULL ? d->name : "?";
}

/* ---- display monitor ---- */

/* Where a monitor is applied, from a binding or a not-effective item. */
struct applied {
	char monitor[64], interface[128], dir[16];
	const Netstream__Binding *b; /* effective: its binding */
	const char *reason;	     /* not effective: why */
};

/* "monitor NAME on IFACE DIR", as cfgd names a binding it did not apply */
static int
parse_item(const char *item, struct applied *a)
{
	memset(a, 0, sizeof(*a));
	return sscanf(item, "monitor %63s on %127s %15s", a->monitor,
	    a->interface, a->dir) == 3 ? 0 : -1;
}

static size_t
monitor_applied(const Netstream__Plan *p, struct applied *a, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_bindings && n < max; i++) {
		const Netstream__Binding *b = p->bindings[i];

		if (b->monitor[0] == '\0')
			continue;
		memset(&a[n], 0, sizeof(a[n]));
		ns_strlcpy(a[n].monitor, b->monitor, sizeof(a[n].monitor));
		ns_strlcpy(a[n].interface, b->interface,
		    sizeof(a[n].interface));
		ns_strlcpy(a[n].dir, direction_name(b->direction),
		    sizeof(a[n].dir));
		a[n++].b = b;
	}
	for (i = 0; i < p->n_not_effective && n < max; i++)
		if (parse_item(p->not_effective[i]->item, &a[n]) == 0)
			a[n++].reason = p->not_effective[i]->reason;
	return n;
}

static const Netstream__Monitor *
monitor_conf(const Netstream__Plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_monitors; i++)
		if (strcmp(p->monitors[i]->name, name) == 0)
			return p->monitors[i];
	return NULL;
}

static const Netstream__Record *
record_by_name(const Netstream__Plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_records; i++)
		if (strcmp(p->records[i]->name, name) == 0)
			return p->records[i];
	return NULL;
}

/*
 * Whether a monitor takes effect anywhere and, when not, why: each
 * distinct reason cfgd gave for the interface directions it is bound to,
 * or that none binds it. 1: effective somewhere.
 */
static int
monitor_state(const struct applied *a, size_t na, const char *name,
    struct sbuf *why)
{
	size_t i, j, bound = 0;

	for (i = 0; i < na; i++) {
		if (strcmp(a[i].monitor, name) != 0)
			continue;
		if (a[i].b != NULL)
			return 1;
		bound++;
		for (j = 0; j < i; j++)
			if (strcmp(a[j].monitor, name) == 0 &&
			    strcmp(a[j].reason, a[i].reason) == 0)
				break;
		if (j == i)
			sbuf_printf(why, "%s%s", why->len ? "; " : "",
			    a[i].reason);
	}
	if (bound == 0)
		sbuf_printf(why, "no interface direction binds it (an "
		    "interface's monitors = ( { name = \"%s\"; direction = "
		    "...; } ))", name);
	return 0;
}

static void
host_line(const Netstream__Host *h, int json, int first)
{
	if (json) {
		printf("%s{\"address\":", first ? "" : ",");
		json_string(h->address);
		printf(",\"port\":%u,\"version\":\"%s\",\"dscp\":%u,"
		    "\"vpn_instance\":", h->port, h->ipfix ? "ipfix" : "9",
		    h->dscp);
		json_string(h->vpn_instance);
		printf(",\"source\":");
		json_string(h->source_address);
		printf(",\"source_port\":%u}", h->source_port);
		return;
	}
	printf("   Export host: %s port %u, %s, dscp %u%s%s, source ",
	    h->address, h->port, h->ipfix ? "ipfix" : "v9", h->dscp,
	    h->vpn_instance[0] ? ", vpn-instance " : "", h->vpn_instance);
	if (h->source_address[0])
		printf("%s port %u\n", h->source_address, h->source_port);
	else
		printf("(kernel's choice)\n");
}

/*
 * The record and hosts of a monitor: those that run (its binding) when
 * it takes effect, else those it is configured with (pm; NULL in a plan
 * from before plans carried monitors).
 */
static void
monitor_hosts(const Netstream__Plan *p, const Netstream__Binding *b,
    const Netstream__Monitor *pm, int json)
{
	Netstream__Host **hosts = b ? b->hosts : pm ? pm->hosts : NULL;
	size_t i, n = b ? b->n_hosts : pm ? pm->n_hosts : 0;
	const Netstream__Record *r = NULL;
	const char *rname = "";

	if (b != NULL && b->record >= 0 && (size_t)b->record < p->n_records)
		r = p->records[b->record];
	else if (b == NULL && pm != NULL && pm->record[0])
		r = record_by_name(p, pm->record);
	if (b != NULL || pm != NULL)
		rname = r ? r->name : pm ? pm->record : "";
	if (json) {
		printf(",\"record\":");
		json_string(rname);
		printf(",\"hosts\":[");
		for (i = 0; i < n; i++)
			host_line(hosts[i], 1, i == 0);
		printf("]");
		return;
	}
	if (b == NULL && pm == NULL) {
		printf("   Record: -, export hosts: - (not effective "
		       "anywhere)\n");
		return;
	}
	if (r != NULL)
		printf("   Record: %s (template %u)%s\n", r->name,
		    r->template_id, b ? "" : ", as configured");
	else
		printf("   Record: %s\n", rname[0] ? rname :
		    "none (the monitor applies no record)");
	for (i = 0; i < n; i++)
		host_line(hosts[i], 0, i == 0);
	if (n == 0)
		printf("   Export host: none\n");
}

static void
monitor_one(const Netstream__Plan *p, const struct applied *a, size_t na,
    const char *name, int json, int first)
{
	const Netstream__Binding *b = NULL;
	struct table t;
	struct sbuf why;
	size_t i, k = 0;
	int eff;

	for (i = 0; i < na && b == NULL; i++)
		if (strcmp(a[i].monitor, name) == 0)
			b = a[i].b;
	sbuf_init(&why);
	eff = monitor_state(a, na, name, &why);
	if (json) {
		printf("%s{\"monitor\":", first ? "" : ",");
		json_string(name);
		printf(",\"effective\":%s,\"reason\":", eff ? "true" : "false");
		json_string(eff ? "" : why.s);
	} else {
		printf("Monitor %s\n", name);
		printf("   State: %s%s\n", eff ? "effective" :
		    "not effective: ", eff ? "" : why.s);
	}
	sbuf_free(&why);
	monitor_hosts(p, b, monitor_conf(p, name), json);
	tbl_init(&t, 4, 0xf);
	tbl_cell(&t, "Interface");
	tbl_cell(&t, "Direction");
	tbl_cell(&t, "State");
	tbl_cell(&t, "Reason");
	if (json)
		printf(",\"applied\":[");
	for (i = 0; i < na; i++) {
		if (strcmp(a[i].monitor, name) != 0)
			continue;
		tbl_cell(&t, "%s", a[i].interface);
		tbl_cell(&t, "%s", a[i].dir);
		tbl_cell(&t, "%s", a[i].b ? "effective" : "not effective");
		tbl_cell(&t, "%s", a[i].b ? "" : a[i].reason);
		if (json) {
			printf("%s{\"interface\":", k ? "," : "");
			json_string(a[i].interface);
			printf(",\"direction\":\"%s\",\"effective\":%s,"
			    "\"reason\":", a[i].dir, a[i].b ? "true" : "false");
			json_string(a[i].b ? "" : a[i].reason);
			printf("}");
		}
		k++;
	}
	if (json) {
		printf("]}");
		tbl_free(&t);
		return;
	}
	if (k == 0) {
		printf("   Applied on: nothing\n\n");
		tbl_free(&t);
		return;
	}
	printf("   Applied on:\n");
	tbl_print(&t, "     ");
	printf("\n");
}

/*
 * The monitors to show, each once: every monitor of the config (the
 * plan carries them), then any other a binding or an item names (a plan
 * from before plans carried monitors).
 */
static size_t
monitor_names(const Netstream__Plan *p, const struct applied *a, size_t na,
    const char **names, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < p->n_monitors + na; i++) {
		const char *m = i < p->n_monitors ? p->monitors[i]->name :
		    a[i - p->n_monitors].monitor;

		for (j = 0; j < n && strcmp(names[j], m) != 0; j++)
			;
		if (j == n && n < max)
			names[n++] = m;
	}
	return n;
}

static int
display_monitor(struct nsctl *n, const struct dopts *o)
{
	static struct applied a[1024];
	static const char *names[1024];
	Netstream__Envelope *env;
	const Netstream__Plan *p;
	size_t na, nn, i, shown = 0;
	int rc;

	if ((rc = display_get_plan(n, &env)) != 0)
		return rc;
	p = env->reply->plan;
	na = monitor_applied(p, a, NELEM(a));
	nn = monitor_names(p, a, na, names, NELEM(names));
	if (o->json)
		printf("[");
	for (i = 0; i < nn; i++) {
		if (o->name && strcmp(o->name, names[i]) != 0)
			continue;
		monitor_one(p, a, na, names[i], o->json, shown++ == 0);
	}
	if (o->json)
		printf("]\n");
	else if (shown == 0)
		printf("No monitor%s%s in revision %llu.\n", o->name ? " " : "",
		    o->name ? o->name : "", ull(p->revision));
	bus_free(env);
	return shown > 0 || o->name == NULL ? 0 : EXIT_INVALID;
}

/* ---- the verb ---- */

/* "slot N" among the operands, or a NAME (monitor) */
static void
operands(int argc, char **argv, struct dopts *o, int want_name)
{
	char *end;

	while (optind < argc) {
		if (strcmp(argv[optind], "slot") == 0 && optind + 1 < argc) {
			o->slot = (int)strtol(argv[optind + 1], &end, 10);
			if (*end != '\0' || o->slot < 0 || o->slot > 255)
				nsctl_usage();
			optind += 2;
		} else if (want_name && o->name == NULL)
			o->name = argv[optind++];
		else
			nsctl_usage();
	}
}

int
cmd_display(struct nsctl *n, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "record", required_argument, NULL, 'R' },
		{ "top", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct dopts o = { 0, -1, TOP_DEFAULT, "", NULL };
	const char *what;
	char *end;
	int ch;

	if (argc < 2)
		nsctl_usage();
	if (strcmp(argv[1], "current-configuration") == 0)
		return vrp_display_current(n, argc - 1, argv + 1);
	what = argv[1];
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "jR:k:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			o.json = 1;
			break;
		case 'R':
			o.record = optarg;
			break;
		case 'k':
			o.top = strtol(optarg, &end, 10);
			if (*end != '\0' || o.top < 1 || o.top > TOP_MAX) {
				fprintf(stderr, "nsctl: --top takes 1..%d\n",
				    TOP_MAX);
				nsctl_usage();
			}
			break;
		default:
			nsctl_usage();
		}
	}
	operands(argc, argv, &o, strcmp(what, "monitor") == 0 ||
	    strcmp(what, "interface") == 0 || strcmp(what, "slot") == 0);
	if (strcmp(what, "slot") == 0) { /* display slot [N] */
		if (o.name != NULL) {
			o.slot = (int)strtol(o.name, &end, 10);
			if (*end != '\0' || o.name[0] == '\0' || o.slot < 0 ||
			    o.slot > 255)
				nsctl_usage();
		}
		return display_slot(n, &o);
	}
	if (strcmp(what, "statistics") == 0)
		return display_statistics(n, &o);
	if (strcmp(what, "template") == 0 && o.slot < 0)
		return display_template(n, &o);
	if (strcmp(what, "monitor") == 0 && o.slot < 0)
		return display_monitor(n, &o);
	if (strcmp(what, "cache") == 0 && o.slot >= 0)
		return display_cache(n, &o);
	if (strcmp(what, "interface") == 0 && o.slot < 0)
		return display_interface(n, &o);
	nsctl_usage();
}

