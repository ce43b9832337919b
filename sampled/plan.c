/*
 * plan.c: follows the plan cfgd publishes. The new slot state is built
 * beside the old one and switched at one point: a binding whose record is
 * unchanged keeps its cache and flows; the others are aged (forced) and
 * exported to the hosts of the plan they were counted under.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/stat.h>

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

/* The binding of the same interface direction, NULL: none. */
static struct binding *
same_place(struct binding *b, size_t n, const Netstream__Binding *pb)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i].pb->direction == pb->direction &&
		    strcmp(b[i].pb->interface, pb->interface) == 0)
			return &b[i];
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
		/* workers draw samples of their own */
		sampler_init(&b->sampler, pb->sampler,
		    0x9e3779b9u + i + ((uint64_t)s->worker << 32));
		/* the interface direction's counters go on (retire adds
		 * what a cache that goes counted) */
		if ((old = same_place(s->b, s->nb, pb)) != NULL)
			b->cnt = old->cnt;
		if ((b->rec = binding_record(p, pb)) != NULL) {
			if ((old = find_old(s, b->key)) != NULL) {
				/* KEEP: the same record on the same place */
				b->cache = old->cache;
				b->batch = old->batch;
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

/* b's counters, with those of its present cache. */
void
ifcount_read(const struct binding *b, struct ifcount *out)
{
	int r;

	*out = b->cnt;
	if (b->cache == NULL)
		return;
	out->created += b->cache->created;
	for (r = 0; r < END_MAX; r++)
		out->aged[r] += b->cache->aged[r];
}

/* Counters of the same interface direction, added (workers, a fold). */
void
ifcount_add(struct ifcount *to, const struct ifcount *v)
{
	int r;

	to->packets += v->packets;
	to->bytes += v->bytes;
	to->ipv6 += v->ipv6;
	to->sampled += v->sampled;
	to->created += v->created;
	for (r = 0; r < END_MAX; r++)
		to->aged[r] += v->aged[r];
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

/*
 * A capture file's entry in the resume state (resume.h). When this
 * sampled took over from one that died, it goes on after the packets
 * that one accounted; a file opened later is replayed from its start.
 */
static void
resume_attach(struct slot *s, struct capture *c)
{
	struct stat st;
	int i;

	if (s->rs == NULL || fstat(fileno(pcap_file(c->pc)), &st) == -1)
		return;
	if ((i = resume_cap(s->rs, c->name, c->source, &st)) < 0) {
		log_warnx("capture %s: no room in the resume state: after a "
		    "crash it would be replayed from its start", c->source);
		return;
	}
	c->rs_idx = i;
	if (s->resuming && s->rs->cap[i].applied > 0) {
		c->skip = c->applied = s->rs->cap[i].applied;
		log_info("capture %s (%s): going on after packet %llu, where "
		    "the sampled before this one stopped", c->name, c->source,
		    (unsigned long long)c->skip);
	} else
		s->rs->cap[i].applied = 0;
}

/*
 * A capture the plan names, opened; or, a live device that is not there
 * (or cannot be opened), kept waiting (failed) for devwatch.c to open
 * when it comes; a file that cannot be read, kept as failed (nsctl run
 * names it). Returns 1 when it is a file opened anew.
 */
static int
open_one(struct slot *s, const Netstream__Plan *p,
    const Netstream__Interface *pi, int dir, struct capture *c,
    const struct capture *old)
{
	char err[512], why[256];
	int rc = capture_open(c, pi, dir, err, sizeof(err));

	ns_strlcpy(why, c->why, sizeof(why));
	if (old != NULL)
		capture_carry(c, old);
	if (rc == -1 && pi->file[0]) {
		log_warnx("capture %s", err);
		capture_failed(s, pi->file, err);
		c->eof = 1;
		capture_state(s, c, NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_FAILED,
		    why);
		return 0;
	}
	if (rc == -1) {
		if (if_nametoindex(pi->device) == 0)
			capture_state(s, c,
			    NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_WAITING, why);
		else {
			capture_failed(s, pi->device, err);
			capture_state(s, c,
			    NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_FAILED, why);
		}
		return 0;
	}
	if (pi->file[0]) {
		resume_attach(s, c);
		capture_state(s, c, NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_READING,
		    NULL);
		return 1;
	}
	if (s->role == SLOT_WORKER &&
	    wk_fanout_join(s->wk, c, p, err, sizeof(err)) == -1) {
		capture_failed(s, pi->device, err);
		capture_close(c);
		capture_state(s, c, NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_FAILED,
		    err);
		return 0;
	}
	c->starts++;
	capture_state(s, c, NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_CAPTURING,
	    NULL);
	return 0;
}

static void
open_captures(struct slot *s, const Netstream__Plan *p)
{
	struct capture *nc = xcalloc(2 * p->n_interfaces + 1, sizeof(*nc));
	size_t i, j, k = 0;
	int live = 0, new_file = 0;

	for (i = 0; i < p->n_interfaces; i++) {
		const Netstream__Interface *pi = p->interfaces[i];
		int dir = pi->file[0] ? (int)pi->file_direction : 0;

		if (pi->slot != s->id)
			continue;
		/* live even if its device is not there (yet): never at EOF */
		if (!pi->file[0])
			live = 1;
		/* with workers, they capture the live devices, the main
		 * thread the files */
		if ((s->role == SLOT_FILES && !pi->file[0]) ||
		    (s->role == SLOT_WORKER && pi->file[0]))
			continue;
		/* a live device: one capture for its enabled directions */
		if (!pi->file[0] && binding_index(s, pi->name, 0) < 0 &&
		    binding_index(s, pi->name, 1) < 0)
			continue;
		for (j = 0; j < s->ncap; j++)
			if (same_capture(&s->cap[j], pi) && s->cap[j].dir == dir)
				break;
		if (j < s->ncap && capture_is_open(&s->cap[j])) {
			nc[k] = s->cap[j];
			s->cap[j].pc = NULL;
			s->cap[j].lv = NULL;
		} else if (open_one(s, p, pi, dir, &nc[k],
		    j < s->ncap ? &s->cap[j] : NULL))
			new_file = 1;
		nc[k].bidx = binding_index(s, pi->name, dir);
		nc[k].bidx_out = pi->file[0] ? -1 : binding_index(s, pi->name, 1);
		/* a pcapng packet's direction flag picks its binding */
		nc[k].bidx_dir[0] = binding_index(s, pi->name, 0);
		nc[k].bidx_dir[1] = binding_index(s, pi->name, 1);
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

/* The captures open, and the live ones not (waiting or failed). */
static size_t
captures_open(const struct slot *s, size_t *waiting)
{
	size_t i, n = 0;

	*waiting = 0;
	for (i = 0; i < s->ncap; i++) {
		if (capture_is_open(&s->cap[i]))
			n++;
		else if (!s->cap[i].is_file)
			(*waiting)++;
	}
	return n;
}

static void
hex(const uint8_t *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The routes file is not what the plan validated: not used, and said. */
static void
refuse_routes(struct slot *s, const Netstream__Plan *p, const char *why)
{
	s->routes_refused = 1;
	s->routes_refusals++;
	log_warnx("routes file %s %s: not used; source/destination mask, "
	    "next hops and AS are 0 in every flow until a commit validates "
	    "the file again (counted: records_no_routes)", p->routes_file,
	    why);
}

/*
 * What runs is what was validated: the routes file is used only when its
 * bytes have the digest cfgd put in the plan. The table of the plan
 * before stays when the digest is the same (nothing is read again).
 */
static void
load_routes(struct slot *s, const Netstream__Plan *p)
{
	char err[512], why[700], got[65], want[65];
	struct routes rt;
	int checked = p->routes_digest.len == sizeof(rt.digest);

	if (strcmp(s->routes_file, p->routes_file) == 0 && !s->routes_refused &&
	    (!checked || memcmp(s->routes.digest, p->routes_digest.data,
	    sizeof(rt.digest)) == 0))
		return;
	routes_free(&s->routes);
	s->routes_refused = 0;
	ns_strlcpy(s->routes_file, p->routes_file, sizeof(s->routes_file));
	if (!p->routes_file[0])
		return;
	if (routes_load(p->routes_file, &rt, err, sizeof(err)) == -1) {
		refuse_routes(s, p, err);
		return;
	}
	hex(rt.digest, sizeof(rt.digest), got);
	if (checked && memcmp(rt.digest, p->routes_digest.data,
	    sizeof(rt.digest)) != 0) {
		hex(p->routes_digest.data, sizeof(rt.digest), want);
		snprintf(why, sizeof(why), "changed since it was validated "
		    "(sha256 %s, validated %s)", got, want);
		routes_free(&rt);
		refuse_routes(s, p, why);
		return;
	}
	if (!checked)
		log_warnx("routes file %s: the plan (revision %llu) carries no "
		    "digest: used as it reads now", p->routes_file,
		    (unsigned long long)p->revision);
	else
		log_info("routes file %s: %zu routes, sha256 %s, as validated",
		    p->routes_file, rt.n, got);
	s->routes = rt;
}

/*
 * The counters of a cache that goes, carried on: into the new cache of
 * the same interface direction when it runs a record of the same name
 * (its fields changed, so its template did: the record's counters go
 * on, per record name, as display statistics and nsctl stats show
 * them), else into the interface direction's own (struct ifcount).
 */
static void
carry_counters(const struct binding *old, struct binding *to)
{
	const struct cache *from = old->cache;
	int r;

	if (to->cache != NULL && to->rec != NULL && old->rec != NULL &&
	    strcmp(to->rec->name, old->rec->name) == 0) {
		to->cache->created += from->created;
		to->cache->dropped_full += from->dropped_full;
		to->cache->evicted += from->evicted;
		for (r = 0; r < END_MAX; r++)
			to->cache->aged[r] += from->aged[r];
		return;
	}
	to->cnt.created += from->created;
	for (r = 0; r < END_MAX; r++)
		to->cnt.aged[r] += from->aged[r];
}

/*
 * Ages every flow of bindings that are gone, under the plan they had;
 * what their caches counted goes on in the new binding of the same
 * interface direction, if there is one (nb: the new ones).
 */
static void
retire(struct slot *s, struct binding *old, size_t n, int reason,
    struct binding *nb, size_t nn)
{
	struct binding *to;
	size_t i;

	for (i = 0; i < n; i++) {
		if (old[i].cache != NULL) {
			cache_flush(s, &old[i], reason);
			push_batch(s, &old[i], 0);
			if ((to = same_place(nb, nn, old[i].pb)) != NULL)
				carry_counters(&old[i], to);
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
	size_t nn, on = s->nb, nopen, nwait;

	build_bindings(s, p, &nb, &nn);
	retire(s, old, on, END_FORCED, nb, nn);
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
	s->resuming = 0; /* files a later plan opens are replayed anew */
	nopen = captures_open(s, &nwait);
	if (nwait == 0)
		log_info("slot %u: running generation %llu: %zu bindings, %zu "
		    "captures", s->id, (unsigned long long)p->generation,
		    s->nb, nopen);
	else
		log_info("slot %u: running generation %llu: %zu bindings, %zu "
		    "captures, %zu waiting for their device or failed", s->id,
		    (unsigned long long)p->generation, s->nb, nopen, nwait);
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
	retire(s, s->b, s->nb, reason, NULL, 0);
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
