/*
 * display_slot.c: whether each slot of the running plan is alive, as
 * cfgd sees it (cfgd/slots.c): connected while its sampled's stats keep
 * coming, else not connected since the last time they came, or never
 * seen. `nsctl display slot [N]`, the slots part of `nsctl stats`, and
 * what a slot that does not answer a query is said to be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "display.h"
#include "plan.h"
#include "util.h"

/* What cfgd's sample says of slot id; known 0: it says nothing. */
void
liveness_of(const Netstream__Stats *cfgd, unsigned id, struct liveness *l)
{
	char buf[16];
	size_t i;

	memset(l, 0, sizeof(*l));
	if (cfgd == NULL)
		return;
	l->at_ms = cfgd->time_ms;
	snprintf(buf, sizeof(buf), "%u", id);
	for (i = 0; i < cfgd->n_counters; i++) {
		const Netstream__Counter *c = cfgd->counters[i];
		const char *v = label_of(c, "slot");

		if (v == NULL || strcmp(v, buf) != 0)
			continue;
		if (strcmp(c->name, "slot_connected") == 0) {
			l->known = 1;
			l->connected = c->value != 0;
		} else if (strcmp(c->name, "slot_last_seen_seconds") == 0)
			l->last_s = (int64_t)c->value;
	}
}

static void
utc_s(int64_t s, char *out, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (s <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "-");
}

const char *
liveness_state(const struct liveness *l)
{
	if (!l->known)
		return "unknown";
	return l->connected ? "connected" : "not connected";
}

/*
 * "connected, last seen T", "not connected, last seen T (N s before
 * cfgd's sample)", "not connected, never seen", or what is unknown.
 */
void
liveness_text(const struct liveness *l, char *out, size_t len)
{
	char when[32];

	if (!l->known) {
		snprintf(out, len, "unknown (no word of cfgd on this slot)");
		return;
	}
	if (l->last_s == 0) {
		snprintf(out, len, "%s, never seen", liveness_state(l));
		return;
	}
	utc_s(l->last_s, when, sizeof(when));
	if (l->connected || l->at_ms <= 0)
		snprintf(out, len, "%s, last seen %s", liveness_state(l), when);
	else
		snprintf(out, len, "%s, last seen %s (%lld s before)",
		    liveness_state(l), when,
		    (long long)(l->at_ms / 1000 - l->last_s));
}

static void
liveness_json(const struct liveness *l, unsigned id)
{
	char when[32];

	utc_s(l->last_s, when, sizeof(when));
	printf("{\"slot\":%u,\"state\":\"%s\",\"connected\":%s,"
	    "\"last_seen\":", id, liveness_state(l),
	    l->connected ? "true" : "false");
	if (l->last_s > 0)
		printf("\"%s\",\"last_seen_seconds\":%lld}", when,
		    (long long)l->last_s);
	else
		printf("null,\"last_seen_seconds\":null}");
}

/* The ids cfgd's sample speaks of, in order (the plan's slots). */
static size_t
slot_ids(const Netstream__Stats *cfgd, unsigned *ids, size_t max)
{
	static int seen[PLAN_SLOT_MAX + 1];
	size_t i, n = 0;
	unsigned long v;
	const char *s;
	char *end;

	memset(seen, 0, sizeof(seen));
	for (i = 0; cfgd != NULL && i < cfgd->n_counters; i++) {
		if (strcmp(cfgd->counters[i]->name, "slot_connected") != 0 ||
		    (s = label_of(cfgd->counters[i], "slot")) == NULL)
			continue;
		v = strtoul(s, &end, 10);
		if (*end == '\0' && v <= PLAN_SLOT_MAX)
			seen[v] = 1;
	}
	for (i = 0; i <= PLAN_SLOT_MAX && n < max; i++)
		if (seen[i])
			ids[n++] = (unsigned)i;
	return n;
}

/* The slots part of `nsctl stats` (a table), after the counters. */
void
stats_slots_print(const Netstream__Stats *cfgd)
{
	unsigned ids[PLAN_SLOT_MAX + 1];
	struct liveness l;
	char text[128];
	size_t i, n;

	if (cfgd == NULL || (n = slot_ids(cfgd, ids, NELEM(ids))) == 0)
		return;
	printf("\n%-6s %s\n", "slot", "state (as cfgd sees its stats)");
	for (i = 0; i < n; i++) {
		liveness_of(cfgd, ids[i], &l);
		liveness_text(&l, text, sizeof(text));
		printf("%-6u %s\n", ids[i], text);
	}
}

/* `display slot [N]`: every slot of the running plan, or slot N. */
int
display_slot(struct nsctl *n, const struct dopts *o)
{
	struct samples sm = { .want_cfgd = 1 };
	const Netstream__Stats *cf;
	Netstream__Envelope *env;
	const Netstream__Plan *p;
	struct liveness l;
	struct table t;
	char text[128];
	size_t i, shown = 0;
	int rc;

	if ((rc = display_get_plan(n, &env)) != 0)
		return rc;
	p = env->reply->plan;
	display_collect(n, p, -2, &sm);
	if ((cf = sample_of(&sm, "cfgd", 0)) == NULL) {
		fprintf(stderr, "nsctl: no stats of cfgd in %d ms from %s\n",
		    STATS_WAIT_MS, n->ep.stats);
		rc = EXIT_INVALID;
		goto done;
	}
	tbl_init(&t, 2, 3);
	tbl_cell(&t, "Slot");
	tbl_cell(&t, "State");
	if (o->json)
		printf("[");
	for (i = 0; i < p->n_slots; i++) {
		if (o->slot >= 0 && p->slots[i]->id != (unsigned)o->slot)
			continue;
		liveness_of(cf, p->slots[i]->id, &l);
		if (o->json) {
			printf("%s", shown ? "," : "");
			liveness_json(&l, p->slots[i]->id);
		}
		liveness_text(&l, text, sizeof(text));
		tbl_cell(&t, "%u", p->slots[i]->id);
		tbl_cell(&t, "%s", text);
		shown++;
	}
	if (o->json) {
		printf("]\n");
		tbl_free(&t);
	} else if (shown > 0)
		tbl_print(&t, "");
	else {
		tbl_free(&t);
		printf("No slot %d in revision %llu.\n", o->slot,
		    ull(p->revision));
		rc = EXIT_INVALID;
	}
done:
	samples_free(&sm);
	bus_free(env);
	return rc;
}

/* After a slot did not answer: what cfgd knows of it, on stderr. */
void
slot_liveness_note(struct nsctl *n, unsigned id)
{
	struct samples sm = { .want_cfgd = 1 };
	Netstream__Plan p = NETSTREAM__PLAN__INIT;
	struct liveness l;
	char text[128];

	display_collect(n, &p, -2, &sm);
	liveness_of(sample_of(&sm, "cfgd", 0), id, &l);
	if (l.known) {
		liveness_text(&l, text, sizeof(text));
		fprintf(stderr, "nsctl: slot %u: %s\n", id, text);
	}
	samples_free(&sm);
}
