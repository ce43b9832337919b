/*
 * plan.c: follows the plan cfgd publishes. The new slot state is built
 * beside the old one and switched at one point: a binding whose record is
 * unchanged keeps its cache and flows; the others are aged (forced) and
 * exported to the hosts of the plan they were counted under.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plan.h"
#include "sampled.h"
#include "util.h"

/* The record a binding applies, NULL when none (or none in range). */
static const Netstream__Record *
binding_record(const Netstream__Plan *p, const Netstream__Binding *pb)
{
	return pb->record >= 0 && (size_t)pb->record < p->n_records ?
	    p->records[pb->record] : NULL;
}

static void
binding_key(const Netstream__Plan *p, const Netstream__Binding *pb, char *out,
    size_t len)
{
	const Netstream__Record *r = binding_record(p, pb);

	snprintf(out, len, "%s|%d|%s|%u|%u", pb->interface, (int)pb->direction,
	    r ? r->key : "-", r ? r->template_id : 0, p->interface_32bit);
}

static struct binding *
find_old(struct slot *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nb; i++)
		if (s->b[i].cache != NULL && strcmp(s->b[i].key, key) == 0)
			return &s->b[i];
	return NULL;
}

static void
build_bindings(struct slot *s, Netstream__Plan *p, struct binding **out,
    size_t *n)
{
	struct binding *nb = xcalloc(p->n_bindings + 1, sizeof(*nb));
	size_t i, k = 0;

	for (i = 0; i < p->n_bindings; i++) {
		const Netstream__Binding *pb = p->bindings[i];
		struct binding *b = &nb[k], *old;

		if (pb->slot != s->id)
			continue;
		b->pb = pb;
		binding_key(p, pb, b->key, sizeof(b->key));
		sampler_init(&b->sampler, pb->sampler, 0x9e3779b9u + i);
		if ((b->rec = binding_record(p, pb)) != NULL) {
			if ((old = find_old(s, b->key)) != NULL) {
				/* KEEP: the same record on the same place */
				b->cache = old->cache;
				b->batch = old->batch;
				b->packets = old->packets;
				b->sampled = old->sampled;
				old->cache = NULL;
				memset(&old->batch, 0, sizeof(old->batch));
			} else if ((b->cache = cache_new(p, b->rec)) == NULL)
				log_warnx("record %s: too many fields for a row",
				    b->rec->name);
		}
		k++;
	}
	*out = nb;
	*n = k;
}

/* Same interface, same capture source: the capture goes on. */
static int
same_capture(const struct capture *c, const Netstream__Interface *pi)
{
	return strcmp(c->name, pi->name) == 0 &&
	    strcmp(c->source, pi->file[0] ? pi->file : pi->device) == 0;
}

static int
binding_index(const struct slot *s, const char *iface, int dir)
{
	size_t i;

	for (i = 0; i < s->nb; i++)
		if (strcmp(s->b[i].pb->interface, iface) == 0 &&
		    (int)s->b[i].pb->direction == dir)
			return (int)i;
	return -1;
}

static void
open_captures(struct slot *s, const Netstream__Plan *p)
{
	struct capture *nc = xcalloc(2 * p->n_interfaces + 1, sizeof(*nc));
	size_t i, j, k = 0;
	char err[512];
	int live = 0, new_file = 0;

	for (i = 0; i < p->n_interfaces; i++) {
		const Netstream__Interface *pi = p->interfaces[i];
		int dir = pi->file[0] ? (int)pi->file_direction : 0;

		if (pi->slot != s->id)
			continue;
		/* live even if its device is not there (yet): never at EOF */
		if (!pi->file[0])
			live = 1;
		/* a live device: one capture for its enabled directions */
		if (!pi->file[0] && binding_index(s, pi->name, 0) < 0 &&
		    binding_index(s, pi->name, 1) < 0)
			continue;
		for (j = 0; j < s->ncap; j++)
			if (capture_is_open(&s->cap[j]) &&
			    same_capture(&s->cap[j], pi) && s->cap[j].dir == dir)
				break;
		if (j < s->ncap) {
			nc[k] = s->cap[j];
			s->cap[j].pc = NULL;
			s->cap[j].lv = NULL;
		} else if (capture_open(&nc[k], pi, dir, err, sizeof(err)) ==
		    -1) {
			log_warnx("capture %s", err);
			capture_failed(s, pi->file[0] ? pi->file : pi->device,
			    err);
			continue;
		} else if (pi->file[0])
			new_file = 1;
		nc[k].bidx = binding_index(s, pi->name, dir);
		nc[k].bidx_out = pi->file[0] ? -1 : binding_index(s, pi->name, 1);
		live_directions(&nc[k]);
		k++;
	}
	for (j = 0; j < s->ncap; j++)
		capture_close(&s->cap[j]);
	free(s->cap);
	s->cap = nc;
	s->ncap = k;
	s->live = live;
	/* the captures of a live slot run until it stops; a file a commit
	 * names anew is replayed */
	if (live || new_file)
		s->all_eof = 0;
	if (new_file)
		s->rt_wall0 = 0; /* real time starts again with the new file */
}

static void
load_routes(struct slot *s, const Netstream__Plan *p)
{
	char err[512];

	if (strcmp(s->routes_file, p->routes_file) == 0)
		return;
	routes_free(&s->routes);
	ns_strlcpy(s->routes_file, p->routes_file, sizeof(s->routes_file));
	if (p->routes_file[0] &&
	    routes_load(p->routes_file, &s->routes, err, sizeof(err)) == -1)
		log_warnx("routes: %s", err);
}

/* Ages every flow of bindings that are gone, under the plan they had. */
static void
retire(struct slot *s, struct binding *old, size_t n, int reason)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (old[i].cache != NULL) {
			cache_flush(s, &old[i], reason);
			push_batch(s, &old[i], 0);
			cache_free(old[i].cache);
		}
		free(old[i].batch.rows);
	}
	free(old);
}

void
slot_apply(struct slot *s, Netstream__Plan *p)
{
	struct binding *nb, *old = s->b;
	size_t nn, on = s->nb;

	build_bindings(s, p, &nb, &nn);
	retire(s, old, on, END_FORCED);
	if (s->plan != NULL)
		netstream__plan__free_unpacked(s->plan, NULL);
	s->plan = p;
	s->b = nb;
	s->nb = nn;
	s->active_ms = p->active_seconds * 1000;
	s->inactive_ms = p->inactive_seconds * 1000;
	s->flows_max = p->cache_entries ? p->cache_entries : 1048576;
	s->drop_new = p->cache_drop_new;
	load_routes(s, p);
	open_captures(s, p);
	log_info("slot %u: running generation %llu: %zu bindings, %zu "
	    "captures", s->id, (unsigned long long)p->generation, s->nb,
	    s->ncap);
}

/* Shutdown: every flow is aged and handed over. */
void
slot_close(struct slot *s, int reason)
{
	size_t i;

	for (i = 0; i < s->nb; i++)
		if (s->b[i].cache != NULL)
			cache_flush(s, &s->b[i], reason);
	push_all(s, 1);
	retire(s, s->b, s->nb, reason);
	s->b = NULL;
	s->nb = 0;
	for (i = 0; i < s->ncap; i++)
		capture_close(&s->cap[i]);
	free(s->cap);
	s->cap = NULL;
	s->ncap = 0;
	routes_free(&s->routes);
	if (s->plan)
		netstream__plan__free_unpacked(s->plan, NULL);
	s->plan = NULL;
}
