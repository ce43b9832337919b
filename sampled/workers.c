/*
 * workers.c: one busy live interface over several cores. A slot with
 * `workers = N` runs N capture threads; each joins a PACKET_FANOUT group
 * of every live device of the slot and has a slot state of its own (its
 * share of the flow caches, its samplers and counters), so a flow lives
 * in one worker: the group's program splits packets by the IPv6
 * addresses every record of the device matches on (lib/fanout.c). The
 * main thread keeps the bus: it reads the capture files, applies plans,
 * answers queries and publishes the stats of all of them, and hands the
 * workers' batches to exportd through the one hand-over of the slot, so
 * the slot is one observation domain with one sequence.
 *
 * A worker holds its mutex while it works and lets go of it before it
 * waits; the main thread takes every worker's mutex to read or change
 * their states (a plan, the stats, a query), so no state is ever read
 * while it changes. Sockets are opened by the main thread only.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "plan.h"
#include "sampled.h"
#include "util.h"

#define WK_QUEUE_MAX 1024 /* batches waiting for the main thread */
#define WK_POLL_MAX 64	  /* live devices a worker polls */

struct wbatch {
	struct wbatch *next;
	uint8_t *buf; /* a packed Envelope, without epoch and seq */
	size_t len;
	uint64_t rows, packets;
};

struct worker {
	struct slot s;
	pthread_t th;
	pthread_mutex_t mu; /* held while it works */
	int running;
	int stop;    /* under mu */
	int efd;     /* wakes it */
	int64_t next_flush;
};

struct fanout_group {
	char device[64];
	uint16_t id;
};

struct workers {
	struct worker *w;
	unsigned n;
	char *sig; /* what the workers were made for (signature()) */
	pthread_mutex_t qmu;
	struct wbatch *qhead, *qtail;
	size_t qlen;
	int qfd; /* eventfd: batches wait */
	struct fanout_group *groups;
	size_t ngroups;
};

/*
 * What decides the workers: their number and each live device of the
 * slot with the addresses its packets are split by. NULL: the slot needs
 * none (one worker, or no live device).
 */
static char *
signature(const Netstream__Plan *p, unsigned slot)
{
	unsigned n = plan_slot_workers(p, slot);
	struct sbuf sb;
	size_t i;
	int live = 0;

	if (n <= 1)
		return NULL;
	sbuf_init(&sb);
	sbuf_printf(&sb, "%u", n);
	for (i = 0; i < p->n_interfaces; i++) {
		const Netstream__Interface *pi = p->interfaces[i];

		if (pi->slot != slot || pi->file[0])
			continue;
		live = 1;
		sbuf_printf(&sb, "|%s=%s:%u:%u", pi->name, pi->device,
		    pi->buffer_kb, plan_fanout_fields(p, pi->name));
	}
	if (!live) {
		sbuf_free(&sb);
		return NULL;
	}
	return sb.s; /* the caller frees it */
}

/* A plan of its own for a worker (slot_apply keeps and frees it). */
static Netstream__Plan *
plan_copy(const Netstream__Plan *p)
{
	size_t len = netstream__plan__get_packed_size(p);
	uint8_t *buf = xmalloc(len + 1);
	Netstream__Plan *c;

	netstream__plan__pack(p, buf);
	c = netstream__plan__unpack(NULL, len, buf);
	free(buf);
	if (c == NULL)
		fatal("plan copy: out of memory");
	return c;
}

void
wk_lock(struct slot *s)
{
	unsigned i;

	if (s->wk != NULL)
		for (i = 0; i < s->wk->n; i++)
			pthread_mutex_lock(&s->wk->w[i].mu);
}

void
wk_unlock(struct slot *s)
{
	unsigned i;

	if (s->wk != NULL)
		for (i = s->wk->n; i-- > 0;)
			pthread_mutex_unlock(&s->wk->w[i].mu);
}

/* The slot states: the main thread's first, then each worker's. */
size_t
wk_states(struct slot *s, struct slot **out, size_t max)
{
	size_t n = 0;
	unsigned i;

	if (max > 0)
		out[n++] = s;
	for (i = 0; s->wk != NULL && i < s->wk->n && n < max; i++)
		out[n++] = &s->wk->w[i].s;
	return n;
}

int
wk_fd(const struct slot *s)
{
	return s->wk != NULL ? s->wk->qfd : -1;
}

/* A worker's batch, for the main thread to hand over; -1: no room. */
int
wk_put(struct workers *wk, Netstream__Envelope *env, uint64_t rows,
    uint64_t packets)
{
	struct wbatch *b = xcalloc(1, sizeof(*b));
	uint64_t one = 1;

	b->buf = bus_pack(env, &b->len);
	b->rows = rows;
	b->packets = packets;
	pthread_mutex_lock(&wk->qmu);
	if (wk->qlen >= WK_QUEUE_MAX) {
		pthread_mutex_unlock(&wk->qmu);
		free(b->buf);
		free(b);
		return -1;
	}
	if (wk->qtail != NULL)
		wk->qtail->next = b;
	else
		wk->qhead = b;
	wk->qtail = b;
	wk->qlen++;
	pthread_mutex_unlock(&wk->qmu);
	if (write(wk->qfd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("worker queue wake-up");
	return 0;
}

/* The workers' batches, handed over to exportd in the order they came. */
void
wk_take(struct slot *s)
{
	struct wbatch *b, *next;
	Netstream__Envelope *env;
	uint64_t v;

	if (s->wk == NULL)
		return;
	if (read(s->wk->qfd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		log_warn("worker queue");
	pthread_mutex_lock(&s->wk->qmu);
	b = s->wk->qhead;
	s->wk->qhead = s->wk->qtail = NULL;
	s->wk->qlen = 0;
	pthread_mutex_unlock(&s->wk->qmu);
	for (; b != NULL; b = next) {
		next = b->next;
		if (bus_check(b->buf, b->len, BUS_MAX_FLOWS, &env) != BUS_OK) {
			/* made by this process: never, but counted if so */
			s->batches_lost++;
			s->records_lost += b->rows;
			push_resume_worker(s, b->rows, b->packets, -1);
		} else {
			push_resume_worker(s, b->rows, b->packets, 0);
			if (ho_send(&s->ho, env, 0) == 0) {
				s->batches_pushed++;
				s->records_pushed += b->rows;
				push_resume_worker(s, b->rows, b->packets, 1);
			} else {
				s->batches_lost++;
				s->records_lost += b->rows;
				push_resume_worker(s, b->rows, b->packets, -1);
			}
			bus_free(env);
		}
		free(b->buf);
		free(b);
	}
}

/* The worker's fanout group for live capture c, joined (or made). */
int
wk_fanout_join(struct workers *wk, struct capture *c,
    const Netstream__Plan *p, char *err, size_t errlen)
{
	struct fanout_group *g;
	size_t i;

	for (i = 0; i < wk->ngroups; i++)
		if (strcmp(wk->groups[i].device, c->source) == 0)
			return live_fanout(c, 0, &wk->groups[i].id, err,
			    errlen);
	wk->groups = xrealloc(wk->groups,
	    (wk->ngroups + 1) * sizeof(*wk->groups));
	g = &wk->groups[wk->ngroups];
	ns_strlcpy(g->device, c->source, sizeof(g->device));
	if (live_fanout(c, 1, &g->id, err, errlen) == -1 ||
	    live_fanout_program(c, plan_fanout_fields(p, c->name), err,
	    errlen) == -1)
		return -1;
	wk->ngroups++;
	log_info("capture %s (%s): fanout group %u over %u workers, by %s",
	    c->name, c->source, g->id, wk->n,
	    plan_fanout_fields(p, c->name) == (FANOUT_SRC | FANOUT_DST) ?
	    "source and destination address" :
	    plan_fanout_fields(p, c->name) == FANOUT_SRC ? "source address" :
	    "destination address");
	return 0;
}

/*
 * The fanout group of a device that went away is gone with its sockets:
 * the next socket of a device of that name makes a new one.
 */
void
wk_fanout_forget(struct workers *wk, const char *device)
{
	size_t i;

	for (i = 0; i < wk->ngroups; i++)
		if (strcmp(wk->groups[i].device, device) == 0) {
			wk->groups[i] = wk->groups[--wk->ngroups];
			return;
		}
}

/*
 * A link message came (devwatch.c): every worker's captures looked at
 * again, all stopped before any starts (one new fanout group for a
 * device made again); the flows a stop aged are handed over at once.
 */
void
wk_rescan(struct slot *s)
{
	struct slot *sts[1 + PLAN_WORKERS_MAX];
	uint64_t one = 1;
	unsigned i;
	size_t n;

	if (s->wk == NULL)
		return;
	wk_lock(s);
	for (i = 0; i < s->wk->n; i++)
		devwatch_rescan(&s->wk->w[i].s, DW_STOP);
	n = wk_states(s, sts, NELEM(sts));
	devwatch_log_stops(sts + 1, n - 1); /* the workers' */
	for (i = 0; i < s->wk->n; i++)
		devwatch_rescan(&s->wk->w[i].s, DW_START);
	wk_unlock(s);
	wk_take(s);
	/* a worker polls its sockets: new ones are polled once it wakes */
	for (i = 0; i < s->wk->n; i++)
		if (s->wk->w[i].running &&
		    write(s->wk->w[i].efd, &one, sizeof(one)) == -1)
			log_warn("worker wake-up");
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct pollfd pf[WK_POLL_MAX + 1];
	int fds[WK_POLL_MAX];
	size_t i, n;
	int wait;
	uint64_t v;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		wait = 100;
		if (w->s.plan != NULL) {
			int64_t now;

			if ((wait = capture_run(&w->s, 4096)) < 0)
				wait = 100;
			/* partial batches leave at least every 200 ms */
			if ((now = mono_ms()) >= w->next_flush) {
				push_all(&w->s, 0);
				w->next_flush = now + 200;
			}
		}
		n = capture_fds(&w->s, fds, WK_POLL_MAX);
		pthread_mutex_unlock(&w->mu);
		for (i = 0; i < n; i++)
			pf[i] = (struct pollfd){ fds[i], POLLIN, 0 };
		pf[n] = (struct pollfd){ w->efd, POLLIN, 0 };
		if (wait > 0)
			poll(pf, n + 1, wait);
		for (i = 0; i < n; i++) /* a device down: see live.c */
			if (pf[i].revents & POLLERR)
				live_clear_error(pf[i].fd);
		if ((pf[n].revents & POLLIN) &&
		    read(w->efd, &v, sizeof(v)) == -1 && errno != EAGAIN)
			log_warn("worker wake-up");
	}
	return NULL;
}

/*
 * What a worker counted goes on in the main thread's state when the
 * worker ends: the slot's counters never go back.
 */
static void
fold(struct slot *to, struct slot *from)
{
	struct ifcount v;
	size_t i, j;
	int r;

	for (i = 0; i < from->ncap; i++)
		to->dropped += live_drops(&from->cap[i]);
	to->received += from->received;
	to->ipv6 += from->ipv6;
	to->ipv4 += from->ipv4;
	to->other += from->other;
	to->sampled_pkts += from->sampled_pkts;
	to->unbound += from->unbound;
	to->dropped += from->dropped;
	for (r = 0; r < DEC_NRESULTS; r++)
		to->malformed[r] += from->malformed[r];
	for (r = 0; r < 7; r++)
		to->lenhist[r] += from->lenhist[r];
	to->batches_pushed += from->batches_pushed;
	to->records_pushed += from->records_pushed;
	to->batches_lost += from->batches_lost;
	to->records_lost += from->records_lost;
	for (i = 0; i < from->nb; i++) {
		for (j = 0; j < to->nb; j++)
			if (to->b[j].pb->direction ==
			    from->b[i].pb->direction &&
			    strcmp(to->b[j].pb->interface,
			    from->b[i].pb->interface) == 0)
				break;
		if (j == to->nb)
			continue;
		ifcount_read(&from->b[i], &v);
		ifcount_add(&to->b[j].cnt, &v);
	}
}

/* Every flow of the workers aged and handed over; the threads end. */
static void
workers_free(struct slot *s)
{
	struct workers *wk = s->wk;
	uint64_t one = 1;
	unsigned i;

	for (i = 0; i < wk->n; i++) {
		struct worker *w = &wk->w[i];

		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		if (w->s.plan != NULL) {
			size_t k;

			live_drain(&w->s); /* what came before is counted */
			for (k = 0; k < w->s.nb; k++)
				if (w->s.b[k].cache != NULL)
					cache_flush(&w->s, &w->s.b[k],
					    END_FORCED);
			push_all(&w->s, 0);
			fold(s, &w->s);
			if (w->s.rs_wk != NULL)
				resume_worker_fold(s->rs, i, &s->counted,
				    &s->settled);
			slot_close(&w->s, END_FORCED);
		}
		pthread_mutex_unlock(&w->mu);
		if (w->running) {
			if (write(w->efd, &one, sizeof(one)) == -1)
				log_warn("worker wake-up");
			pthread_join(w->th, NULL);
		}
		close(w->efd);
		pthread_mutex_destroy(&w->mu);
	}
	wk_take(s);
	close(wk->qfd);
	fdset_changed();
	pthread_mutex_destroy(&wk->qmu);
	free(wk->groups);
	free(wk->sig);
	free(wk->w);
	free(wk);
	s->wk = NULL;
}

static struct workers *
workers_new(struct slot *s, unsigned n, char *sig)
{
	struct workers *wk = xcalloc(1, sizeof(*wk));
	unsigned i;

	wk->n = n;
	wk->sig = sig;
	wk->w = xcalloc(n, sizeof(*wk->w));
	pthread_mutex_init(&wk->qmu, NULL);
	if ((wk->qfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd");
	fdset_changed();
	/* one clock for the slot: rows of every worker count from it */
	if (!s->clock_set)
		clock_live(s);
	for (i = 0; i < n; i++) {
		struct worker *w = &wk->w[i];

		pthread_mutex_init(&w->mu, NULL);
		if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			fatal("eventfd");
		w->s.id = s->id;
		w->s.no_export = s->no_export;
		w->s.role = SLOT_WORKER;
		w->s.worker = i;
		w->s.nworkers = n;
		w->s.wk = wk;
		/* what it counts is stored as it counts (resume.h) */
		if (s->rs != NULL && i < RS_WORKERS) {
			memset(&s->rs->wk[i], 0, sizeof(s->rs->wk[i]));
			w->s.rs_wk = &s->rs->wk[i];
			s->rs->live = 1;
		}
		clock_copy(&w->s, s);
	}
	return wk;
}

/* The flows the main thread counted from live devices, now the workers'. */
static void
flush_live(struct slot *s)
{
	size_t i, j;

	for (i = 0; i < s->nb; i++) {
		if (s->b[i].cache == NULL)
			continue;
		for (j = 0; j < s->plan->n_interfaces; j++)
			if (strcmp(s->plan->interfaces[j]->name,
			    s->b[i].pb->interface) == 0 &&
			    !s->plan->interfaces[j]->file[0])
				cache_flush(s, &s->b[i], END_FORCED);
	}
	push_all(s, 0);
}

/*
 * A plan for the slot and its workers. Workers whose number or live
 * devices (or how those are split) change are ended, their flows aged,
 * and new ones made; otherwise each takes the plan as the main thread
 * does (a binding whose record is unchanged keeps its flows). New
 * workers wait for wk_start().
 */
void
wk_apply(struct slot *s, const Netstream__Plan *p)
{
	char *sig = signature(p, s->id);
	enum slot_role role = sig != NULL ? SLOT_FILES : SLOT_ALL;
	unsigned i;

	if (s->wk != NULL) {
		wk_lock(s);
		wk_take(s); /* what they pushed under the plan before */
		wk_unlock(s);
		if (sig == NULL || strcmp(sig, s->wk->sig) != 0)
			workers_free(s);
	}
	if (s->plan != NULL && role != s->role && role == SLOT_FILES)
		flush_live(s);
	s->role = role;
	slot_apply(s, (Netstream__Plan *)p);
	if (sig == NULL)
		return;
	if (s->wk == NULL) {
		s->wk = workers_new(s, plan_slot_workers(p, s->id), sig);
		sig = NULL;
	}
	wk_lock(s);
	for (i = 0; i < s->wk->n; i++) {
		struct worker *w = &s->wk->w[i];

		slot_apply(&w->s, plan_copy(p));
		/* each worker's share of the slot's cache */
		w->s.flows_max = w->s.flows_max / s->wk->n > 0 ?
		    w->s.flows_max / s->wk->n : 1;
	}
	wk_unlock(s);
	wk_take(s); /* what the plan change aged */
	for (i = 0; i < s->wk->n; i++) {
		uint64_t one = 1;

		if (s->wk->w[i].running &&
		    write(s->wk->w[i].efd, &one, sizeof(one)) == -1)
			log_warn("worker wake-up");
	}
	free(sig);
}

/* Threads for workers that have none (after the privileges are dropped:
 * a thread keeps the capabilities of the one that made it). */
void
wk_start(struct slot *s)
{
	sigset_t all, old;
	unsigned i;
	int e;

	if (s->wk == NULL)
		return;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* signals are main's */
	for (i = 0; i < s->wk->n; i++) {
		struct worker *w = &s->wk->w[i];

		if (w->running)
			continue;
		if ((e = pthread_create(&w->th, NULL, worker_run, w)) != 0)
			fatalx("worker thread: %s", strerror(e));
		w->running = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Shutdown: the workers' flows aged and handed over, the threads ended. */
void
wk_stop(struct slot *s)
{
	if (s->wk != NULL)
		workers_free(s);
}
