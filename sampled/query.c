/*
 * query.c: answers nsctl on the slot's REP socket: `display cache` with
 * the biggest flows of its caches by bytes, `display interface` with the
 * counters of each interface direction, `reset statistics` and `reset
 * cache`. It runs in the main loop between capture bursts, so the caches
 * are walked as they stand, without a lock; a walk reads every entry once
 * and keeps the top K in a small heap.
 */
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bus.h"
#include "log.h"
#include "plan.h"
#include "sampled.h"
#include "util.h"

#define QUERY_MAX_TRANSPORT (64u << 10) /* past this zmq drops the peer */
#define QUERIES_PER_WAKE 4
#define RECORD_NAME_MAX 64
#define IFACE_NAME_MAX PLAN_IFNAME_MAX

/* A flow the walk keeps: its binding (in the reply) and pool entry. */
struct pick {
	uint64_t bytes, packets;
	uint32_t b, i;
	uint32_t w; /* the slot state (a worker's, with workers) */
};

/* What one answer holds, freed after the send. */
struct answer {
	Netstream__CacheReply r;
	Netstream__CacheBinding *cb, **cbp;
	Netstream__TemplateField *tf, **tfp;
	Netstream__CacheFlow *cf, **cfp;
	const struct binding **sel; /* the slot's bindings the reply lists */
	size_t *bidx;		    /* ... their index in each state */
	struct slot *st[1 + PLAN_WORKERS_MAX]; /* the states, main's first */
	size_t nst;
	struct pick *h;
	size_t nh, top;
};

/* Binding k of the reply in state w (a worker's): its cache or NULL. */
static const struct cache *
sel_cache(const struct answer *a, size_t k, size_t w)
{
	const struct slot *s = a->st[w];

	return a->bidx[k] < s->nb ? s->b[a->bidx[k]].cache : NULL;
}

void *
query_open(void *ctx, const struct bus_endpoints *ep, unsigned slot)
{
	char where[BUS_ENDPOINT_MAX];
	void *sock;

	bus_slot_endpoint(ep, slot, where, sizeof(where));
	/* bus_recv refuses past QUERY_MAX_REQUEST with a reply */
	sock = bus_socket(ctx, ZMQ_REP, QUERY_MAX_TRANSPORT);
	if (bus_bind(sock, where) == -1) {
		zmq_close(sock);
		log_warnx("slot %u: no cache queries (nsctl display cache)",
		    slot);
		return NULL;
	}
	return sock;
}

static void
reply_send(void *sock, Netstream__CacheReply *r)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;

	env.msg_case = NETSTREAM__ENVELOPE__MSG_CACHE_REPLY;
	env.cache_reply = r;
	if (bus_send(sock, NULL, &env, ZMQ_DONTWAIT) == -1)
		log_warnx("cache query: reply not sent: %s",
		    zmq_strerror(zmq_errno()));
}

static void
reply_error(void *sock, unsigned slot, const char *why)
{
	Netstream__CacheReply r = NETSTREAM__CACHE_REPLY__INIT;

	r.status = 2;
	r.slot = slot;
	r.text = (char *)why;
	reply_send(sock, &r);
}

/* bytes, then packets, then place: the same caches give the same order */
static int
pick_less(const struct pick *a, const struct pick *b)
{
	if (a->bytes != b->bytes)
		return a->bytes < b->bytes;
	if (a->packets != b->packets)
		return a->packets < b->packets;
	if (a->b != b->b)
		return a->b > b->b;
	if (a->w != b->w)
		return a->w > b->w;
	return a->i > b->i;
}

static int
pick_cmp_desc(const void *x, const void *y)
{
	const struct pick *a = x, *b = y;

	return pick_less(a, b) ? 1 : pick_less(b, a) ? -1 : 0;
}

static void
heap_swap(struct pick *h, size_t a, size_t b)
{
	struct pick t = h[a];

	h[a] = h[b];
	h[b] = t;
}

/* A min-heap of the top flows: the root is the smallest kept. */
static void
heap_offer(struct answer *a, const struct pick *p)
{
	size_t i, m, l;

	if (a->nh < a->top) {
		a->h[i = a->nh++] = *p;
		for (; i > 0 && pick_less(&a->h[i], &a->h[(i - 1) / 2]);
		    i = (i - 1) / 2)
			heap_swap(a->h, i, (i - 1) / 2);
		return;
	}
	if (a->top == 0 || !pick_less(&a->h[0], p))
		return;
	a->h[0] = *p;
	for (i = 0;; i = m) {
		m = i;
		l = 2 * i + 1;
		if (l < a->nh && pick_less(&a->h[l], &a->h[m]))
			m = l;
		if (l + 1 < a->nh && pick_less(&a->h[l + 1], &a->h[m]))
			m = l + 1;
		if (m == i)
			break;
		heap_swap(a->h, i, m);
	}
}

static void
walk(struct answer *a)
{
	size_t k;
	uint32_t i;

	size_t w;

	for (k = 0; k < a->r.n_bindings; k++)
		for (w = 0; w < a->nst; w++) {
			const struct cache *c = sel_cache(a, k, w);

			if (c == NULL)
				continue;
			for (i = 0; i < c->hwm; i++) {
				const struct flow *f = cache_flow_at(c, i);
				struct pick p;

				if (f == NULL)
					continue;
				p = (struct pick){ f->bytes, f->packets,
					(uint32_t)k, i, (uint32_t)w };
				heap_offer(a, &p);
			}
			a->r.flows_total += c->used;
		}
	qsort(a->h, a->nh, sizeof(*a->h), pick_cmp_desc);
}

static void
fill_binding(struct answer *a, size_t k, Netstream__TemplateField *tf,
    Netstream__TemplateField **tfp)
{
	const struct binding *b = a->sel[k];
	Netstream__CacheBinding *cb = &a->cb[k];
	unsigned j;

	netstream__cache_binding__init(cb);
	cb->interface = (char *)b->pb->interface;
	cb->direction = b->pb->direction;
	cb->record = (char *)b->rec->name;
	cb->template_id = b->cache->layout.id;
	cb->monitor = (char *)b->pb->monitor;
	for (j = 0; j < a->nst; j++)
		if (sel_cache(a, k, j) != NULL)
			cb->flows += sel_cache(a, k, j)->used;
	for (j = 0; j < b->rec->n_match && j < b->cache->layout.n_fields; j++) {
		netstream__template_field__init(&tf[j]);
		tf[j].type = b->cache->layout.f[j].type;
		tf[j].len = b->cache->layout.f[j].len;
		tfp[j] = &tf[j];
	}
	cb->n_match = j;
	cb->match = tfp;
	a->cbp[k] = cb;
}

static void
fill_flows(struct answer *a)
{
	size_t k;

	a->cf = xcalloc(a->nh + 1, sizeof(*a->cf));
	a->cfp = xcalloc(a->nh + 1, sizeof(*a->cfp));
	for (k = 0; k < a->nh; k++) {
		const struct cache *c = sel_cache(a, a->h[k].b, a->h[k].w);
		const struct flow *f = cache_flow_at(c, a->h[k].i);
		Netstream__CacheFlow *cf = &a->cf[k];

		netstream__cache_flow__init(cf);
		cf->binding = a->h[k].b;
		cf->key.data = (uint8_t *)f->key;
		cf->key.len = c->key_len;
		cf->packets = f->packets;
		cf->bytes = f->bytes;
		cf->first_ms = f->first_ms;
		cf->last_ms = f->last_ms;
		a->cfp[k] = cf;
	}
	a->r.n_flows = a->nh;
	a->r.flows = a->cfp;
}

/* The slot's caches the request selects, with their layouts. */
static void
select_bindings(struct answer *a, const struct slot *s, const char *record)
{
	size_t i, n = 0;

	a->sel = xcalloc(s->nb + 1, sizeof(*a->sel));
	a->bidx = xcalloc(s->nb + 1, sizeof(*a->bidx));
	for (i = 0; i < s->nb; i++)
		if (s->b[i].cache != NULL &&
		    (record[0] == '\0' ||
		    strcmp(s->b[i].rec->name, record) == 0)) {
			a->bidx[n] = i;
			a->sel[n++] = &s->b[i];
		}
	a->cb = xcalloc(n + 1, sizeof(*a->cb));
	a->cbp = xcalloc(n + 1, sizeof(*a->cbp));
	a->tf = xcalloc((n + 1) * TMPL_MAX_FIELDS, sizeof(*a->tf));
	a->tfp = xcalloc((n + 1) * TMPL_MAX_FIELDS, sizeof(*a->tfp));
	for (i = 0; i < n; i++)
		fill_binding(a, i, a->tf + i * TMPL_MAX_FIELDS,
		    a->tfp + i * TMPL_MAX_FIELDS);
	a->r.n_bindings = n;
	a->r.bindings = a->cbp;
}

static void
answer_free(struct answer *a)
{
	free(a->cb);
	free(a->cbp);
	free(a->tf);
	free(a->tfp);
	free(a->cf);
	free(a->cfp);
	free(a->sel);
	free(a->bidx);
	free(a->h);
}

/* NULL when the request is sane, else why not (the caller counts it). */
static const char *
request_check(const struct slot *s, const Netstream__CacheRequest *rq)
{
	if (rq->slot != s->id)
		return "wrong slot: this is another slot's sampled";
	if (rq->top > QUERY_TOP_MAX)
		return "top is past the limit of 1000 flows";
	if (strnlen(rq->record, RECORD_NAME_MAX + 1) > RECORD_NAME_MAX)
		return "record name too long";
	if (strnlen(rq->interface, IFACE_NAME_MAX + 1) > IFACE_NAME_MAX)
		return "interface name too long";
	if ((unsigned)rq->action > NETSTREAM__CACHE_ACTION__RESET_CACHE)
		return "unknown action";
	return NULL;
}

/* ---- interface counters and resets ---- */

/* Binding i's counters in the slot: its own and its workers'. */
void
ifcount_sum(struct slot *s, size_t i, struct ifcount *out)
{
	struct slot *st[1 + PLAN_WORKERS_MAX];
	struct ifcount v;
	size_t k, n = wk_states(s, st, NELEM(st));

	ifcount_read(&s->b[i], out);
	for (k = 1; k < n; k++) {
		if (i >= st[k]->nb)
			continue;
		ifcount_read(&st[k]->b[i], &v);
		ifcount_add(out, &v);
	}
}

/* Binding i's flows in cache now, in the slot and its workers. */
static uint64_t
flows_now(struct slot *s, size_t i)
{
	struct slot *st[1 + PLAN_WORKERS_MAX];
	size_t k, n = wk_states(s, st, NELEM(st));
	uint64_t v = 0;

	for (k = 0; k < n; k++)
		if (i < st[k]->nb && st[k]->b[i].cache != NULL)
			v += st[k]->b[i].cache->used;
	return v;
}

static int
iface_is(const struct binding *b, const char *iface)
{
	return iface[0] == '\0' || strcmp(b->pb->interface, iface) == 0;
}

/*
 * Counters from zero again: those of the interface iface ("": of every
 * interface of the slot, and the slot's own packet counters). The
 * hand-over accounting (pushed, lost, unacknowledged) is not statistics
 * but what `nsctl run` checks for loss: it goes on.
 */
static void
reset_one(struct slot *s, const char *iface)
{
	struct cache *c;
	size_t i;

	for (i = 0; i < s->nb; i++) {
		if (!iface_is(&s->b[i], iface))
			continue;
		memset(&s->b[i].cnt, 0, sizeof(s->b[i].cnt));
		if ((c = s->b[i].cache) != NULL) {
			c->created = c->dropped_full = c->evicted = 0;
			memset(c->aged, 0, sizeof(c->aged));
		}
	}
	if (iface[0] != '\0')
		return;
	s->received = s->ipv6 = s->ipv4 = s->other = 0;
	s->sampled_pkts = s->unbound = 0;
	memset(s->malformed, 0, sizeof(s->malformed));
	memset(s->lenhist, 0, sizeof(s->lenhist));
}

void
slot_reset_statistics(struct slot *s, const char *iface)
{
	struct slot *st[1 + PLAN_WORKERS_MAX];
	size_t k, n = wk_states(s, st, NELEM(st));

	for (k = 0; k < n; k++)
		reset_one(st[k], iface);
}

/* Every flow of the caches aged now (forced) and handed to exportd. */
static uint64_t
reset_cache(struct slot *s)
{
	struct slot *st[1 + PLAN_WORKERS_MAX];
	size_t i, k, ns = wk_states(s, st, NELEM(st));
	uint64_t n = 0;

	for (k = 0; k < ns; k++) {
		for (i = 0; i < st[k]->nb; i++)
			if (st[k]->b[i].cache != NULL) {
				n += st[k]->b[i].cache->used;
				cache_flush(st[k], &st[k]->b[i], END_FORCED);
			}
		push_all(st[k], 0);
	}
	wk_take(s); /* the workers' part goes out now too */
	return n;
}

/*
 * The slot's captures, one per interface: the main thread's (files; every
 * capture without workers) and the first worker's of each live device
 * (each worker has a socket of its own on it; they start and stop
 * together). Call under wk_lock.
 */
size_t
slot_captures(struct slot *s, const struct capture **out, size_t max)
{
	struct slot *st[1 + PLAN_WORKERS_MAX];
	size_t k, i, j, n = 0, ns = wk_states(s, st, NELEM(st));

	for (k = 0; k < ns; k++)
		for (i = 0; i < st[k]->ncap && n < max; i++) {
			for (j = 0; j < n; j++)
				if (strcmp(out[j]->name, st[k]->cap[i].name) == 0)
					break;
			if (j == n)
				out[n++] = &st[k]->cap[i];
		}
	return n;
}

/* What the interface counters of a reply point at, freed after the send. */
struct ifanswer {
	Netstream__CacheReply r;
	Netstream__InterfaceCounters *ic, **icp;
	uint64_t (*aged)[END_MAX - 1];
	Netstream__CaptureState *cs, **csp;
};

static void
fill_captures(struct ifanswer *a, struct slot *s, const char *iface)
{
	struct slot *st[1 + PLAN_WORKERS_MAX];
	const struct capture **c;
	size_t i, n = 0, k = 0, ns = wk_states(s, st, NELEM(st));

	for (i = 0; i < ns; i++)
		n += st[i]->ncap;
	c = xcalloc(n + 1, sizeof(*c));
	n = slot_captures(s, c, n);
	a->cs = xcalloc(n + 1, sizeof(*a->cs));
	a->csp = xcalloc(n + 1, sizeof(*a->csp));
	for (i = 0; i < n; i++) {
		Netstream__CaptureState *x = &a->cs[k];

		if (iface[0] != '\0' && strcmp(c[i]->name, iface) != 0)
			continue;
		netstream__capture_state__init(x);
		x->interface = (char *)c[i]->name;
		x->source = (char *)c[i]->source;
		x->state = c[i]->state;
		x->error = (char *)c[i]->why;
		x->since_ms = c[i]->since;
		x->starts = c[i]->starts;
		x->stops = c[i]->stops;
		x->device_ifindex = (uint32_t)live_ifindex(c[i]);
		a->csp[k++] = x;
	}
	a->r.n_captures = k;
	a->r.captures = a->csp;
	free(c);
}

static void
fill_counters(struct ifanswer *a, const struct slot *s, const char *iface)
{
	struct ifcount v;
	size_t i, n = 0;

	a->ic = xcalloc(s->nb + 1, sizeof(*a->ic));
	a->icp = xcalloc(s->nb + 1, sizeof(*a->icp));
	a->aged = xcalloc(s->nb + 1, sizeof(*a->aged));
	for (i = 0; i < s->nb; i++) {
		const struct binding *b = &s->b[i];
		Netstream__InterfaceCounters *c = &a->ic[n];

		if (!iface_is(b, iface))
			continue;
		ifcount_sum((struct slot *)s, i, &v);
		netstream__interface_counters__init(c);
		c->interface = (char *)b->pb->interface;
		c->direction = b->pb->direction;
		c->packets = v.packets;
		c->bytes = v.bytes;
		c->ipv6_packets = v.ipv6;
		c->sampled_packets = v.sampled;
		c->flows_created = v.created;
		memcpy(a->aged[n], &v.aged[END_IDLE], sizeof(a->aged[n]));
		c->flows_aged = a->aged[n];
		c->n_flows_aged = END_MAX - 1;
		c->flows_current = flows_now((struct slot *)s, i);
		c->record = (char *)(b->rec ? b->rec->name : "");
		c->monitor = (char *)b->pb->monitor;
		a->icp[n++] = c;
	}
	a->r.n_interfaces = n;
	a->r.interfaces = a->icp;
}

/* The part of every reply that says which slot answers, and when. */
static void
reply_begin(Netstream__CacheReply *r, const struct slot *s)
{
	netstream__cache_reply__init(r);
	r->slot = s->id;
	r->generation = s->plan ? s->plan->generation : 0;
	r->boot_ms = clock_wall(s, s->boot_ms);
	r->now_ms = clock_wall(s, s->now_ms);
}

static void
answer_counters(void *sock, struct slot *s, const Netstream__CacheRequest *rq)
{
	struct ifanswer a;

	memset(&a, 0, sizeof(a));
	reply_begin(&a.r, s);
	if (s->plan == NULL)
		a.r.text = (char *)"no plan yet";
	wk_lock(s);
	if (rq->action == NETSTREAM__CACHE_ACTION__RESET_STATISTICS) {
		slot_reset_statistics(s, rq->interface);
		log_info("statistics reset%s%s", rq->interface[0] ?
		    " of interface " : "", rq->interface);
	} else if (rq->action == NETSTREAM__CACHE_ACTION__RESET_CACHE) {
		a.r.flows_reset = reset_cache(s);
		log_info("cache reset: %llu flows aged",
		    (unsigned long long)a.r.flows_reset);
	}
	fill_counters(&a, s, rq->interface);
	fill_captures(&a, s, rq->interface);
	reply_send(sock, &a.r); /* it points at the captures' names */
	wk_unlock(s);
	free(a.ic);
	free(a.icp);
	free(a.aged);
	free(a.cs);
	free(a.csp);
}

static void
answer_request(void *sock, struct slot *s,
    const Netstream__CacheRequest *rq)
{
	struct answer a;

	memset(&a, 0, sizeof(a));
	reply_begin(&a.r, s);
	a.top = rq->top ? rq->top : QUERY_TOP_DEFAULT;
	a.h = xcalloc(a.top, sizeof(*a.h));
	/* the workers hold still until the reply is packed: it points at
	 * their flows */
	wk_lock(s);
	a.nst = wk_states(s, a.st, NELEM(a.st));
	select_bindings(&a, s, rq->record);
	walk(&a);
	fill_flows(&a);
	if (s->plan == NULL)
		a.r.text = (char *)"no plan yet";
	reply_send(sock, &a.r);
	wk_unlock(s);
	answer_free(&a);
}

/*
 * Serves what waits on the query socket. Every request gets a reply (REP
 * must answer before it receives again); a refused one is counted in bad
 * by its bus reason, a wrong type as empty, insane values as decode.
 */
int
query_serve(void *sock, struct slot *s, uint64_t *bad)
{
	Netstream__Envelope *env;
	const char *why;
	enum bus_err e;
	int n;

	if (sock == NULL)
		return 0;
	for (n = 0; n < QUERIES_PER_WAKE; n++) {
		e = bus_recv(sock, QUERY_MAX_REQUEST, 0, ZMQ_DONTWAIT, &env);
		if (e == BUS_AGAIN)
			return 0;
		if (e != BUS_OK) {
			bad[e]++;
			reply_error(sock, s->id, bus_err_name(e));
			continue;
		}
		if (env->msg_case != NETSTREAM__ENVELOPE__MSG_CACHE_REQUEST) {
			bad[BUS_EMPTY]++;
			reply_error(sock, s->id, "not a cache request");
		} else if ((why = request_check(s, env->cache_request)) !=
		    NULL) {
			bad[BUS_DECODE]++;
			reply_error(sock, s->id, why);
		} else if (env->cache_request->action ==
		    NETSTREAM__CACHE_ACTION__CACHE_TOP)
			answer_request(sock, s, env->cache_request);
		else
			answer_counters(sock, s, env->cache_request);
		bus_free(env);
	}
	return 1; /* more may wait: the socket was not read to the end */
}
