/*
 * sampled --slot N: the data plane of one slot (one per line card). It
 * executes the plan cfgd publishes: captures the slot's interfaces,
 * samples, aggregates into flow caches, ages, and pushes aged flows to
 * exportd. It never reads the config file.
 */
#include <getopt.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bus.h"
#include "conf.h"
#include "log.h"
#include "monitor.h"
#include "plan.h"
#include "privs.h"
#include "sampled.h"
#include "stats.h"
#include "util.h"
#include "paths.h"

static volatile sig_atomic_t quit;

struct proc {
	struct slot s;
	int64_t t_first, t_eof; /* wall ms: first plan applied, captures done */
	uint64_t peak_flows;
	struct bus_endpoints ep;
	void *ctx, *sub, *stats, *req, *query;
	int devwatch; /* link messages (devwatch.c), -1: none */
	int64_t next_stats, next_flush, next_req;
	int done_told; /* stats went out once the captures' end was acked */
	int stats_sent; /* the stats socket was written since it was read */
	uint64_t bad[BUS_ERR_MAX], plans_applied, plans_ignored;
	uint64_t bad_plans[PLAN_BAD_MAX];
};

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
	wake_signal(); /* ends the poll it may have come just before */
}

/* How long an exiting sampled waits for exportd's acks. */
static int
handover_wait_ms(void)
{
	const char *e = getenv("NETSTREAMD_HANDOVER_WAIT_MS");
	long v = e != NULL ? strtol(e, NULL, 10) : 0;

	return v > 0 && v < 3600000 ? (int)v : 15000;
}

/* -h/--help: to stdout, exit 0; a bad command line: to stderr, exit 2 */
static _Noreturn void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: sampled --slot N [-c FILE] [-r RUN_DIR] [--exit-at-eof] "
	    "[--no-export]\n"
	    "  -s, --slot N        the slot (0..255) whose interfaces it "
	    "captures\n"
	    "  -c FILE             the config whose run_dir and endpoints "
	    "apply\n"
	    "  -r RUN_DIR          the bus sockets (default: the config's "
	    "run_dir,\n"
	    "                      /run/netstreamd, or NETSTREAMD_RUN_DIR)\n"
	    "  -V, --version       the version\n"
	    "  -x, --exit-at-eof   exit once every capture file has ended\n"
	    "  -n, --no-export     count and age flows, push nothing\n"
	    "  -h, --help          this help\n"
	    "See sampled(8).\n");
	exit(code);
}

/* Takes a plan if it is newer than the running one; frees it otherwise. */
static void
offer_plan(struct proc *pr, Netstream__Plan *p)
{
	if (!plan_take_check(p, pr->bad_plans)) {
		/* not trusted: the running plan stays */
		netstream__plan__free_unpacked(p, NULL);
		return;
	}
	if (pr->s.plan != NULL && p->generation <= pr->s.plan->generation) {
		pr->plans_ignored++;
		netstream__plan__free_unpacked(p, NULL);
		return;
	}
	pr->plans_applied++;
	if (pr->t_first == 0)
		pr->t_first = mono_ms();
	wk_apply(&pr->s, p);
	wk_start(&pr->s); /* threads after the drop: they inherit it */
}

static void
take_envelope(struct proc *pr, Netstream__Envelope *env)
{
	Netstream__Plan *p = NULL;

	if (env->msg_case == NETSTREAM__ENVELOPE__MSG_PLAN) {
		/* the plan is kept: free the envelope without it */
		p = env->plan;
		env->plan = NULL;
		env->msg_case = NETSTREAM__ENVELOPE__MSG__NOT_SET;
	} else if (env->msg_case == NETSTREAM__ENVELOPE__MSG_REPLY &&
	    env->reply->status == 0 && env->reply->plan != NULL) {
		p = env->reply->plan;
		env->reply->plan = NULL;
	} else if (env->msg_case != NETSTREAM__ENVELOPE__MSG_REPLY)
		pr->bad[BUS_EMPTY]++;
	bus_free(env);
	if (p != NULL)
		offer_plan(pr, p);
}

/* The bus sockets, as bits of a set: which to read in a round. */
enum {
	RD_SUB = 1 << 0,
	RD_ACKS = 1 << 1,
	RD_STATS = 1 << 2,
	RD_QUERY = 1 << 3,
	RD_REQ = 1 << 4,
	RD_ALL = (1 << 5) - 1
};

/* The plan's sockets of rd: the subscription, the request's reply. */
static void
read_bus(struct proc *pr, int rd)
{
	Netstream__Envelope *env;
	enum bus_err e;

	while ((rd & RD_SUB) && (e = bus_recv(pr->sub, BUS_MAX_CONTROL, 1,
	    ZMQ_DONTWAIT, &env)) != BUS_AGAIN) {
		if (e != BUS_OK) {
			pr->bad[e]++;
			continue;
		}
		take_envelope(pr, env);
	}
	if ((rd & RD_REQ) && pr->req != NULL &&
	    (e = bus_recv(pr->req, BUS_MAX_CONTROL, 0, ZMQ_DONTWAIT, &env)) !=
	    BUS_AGAIN) {
		zmq_close(pr->req);
		pr->req = NULL;
		fdset_changed();
		if (e == BUS_OK)
			take_envelope(pr, env);
		else
			pr->bad[e]++;
	}
}

/* A (re)started process asks for the plan instead of waiting for it. */
static void
ask_plan(struct proc *pr)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;

	if (pr->s.plan != NULL || mono_ms() < pr->next_req)
		return;
	if (pr->req != NULL)
		zmq_close(pr->req);
	pr->req = bus_socket(pr->ctx, ZMQ_REQ, BUS_MAX_CONTROL);
	fdset_changed();
	bus_connect(pr->req, pr->ep.control);
	rq.verb = NETSTREAM__VERB__GET_PLAN;
	env.msg_case = NETSTREAM__ENVELOPE__MSG_REQUEST;
	env.request = &rq;
	bus_send(pr->req, NULL, &env, ZMQ_DONTWAIT);
	pr->next_req = mono_ms() + 1000;
}

/* The counters of each interface direction (nsctl display interface). */
static void
interface_stats(struct slot *s, Netstream__Stats *st)
{
	static const char *reasons[END_MAX] = { "", "idle", "active",
		"end-of-flow", "forced", "lack-of-resources" };
	struct ifcount v;
	const char *ifn, *dir;
	size_t i;
	int r;

	for (i = 0; i < s->nb; i++) {
		ifcount_sum(s, i, &v);
		ifn = s->b[i].pb->interface;
		dir = direction_name(s->b[i].pb->direction);
		stats_add(st, "interface_packets", v.packets, "interface", ifn,
		    "direction", dir);
		stats_add(st, "interface_bytes", v.bytes, "interface", ifn,
		    "direction", dir);
		stats_add(st, "interface_ipv6_packets", v.ipv6, "interface",
		    ifn, "direction", dir);
		stats_add(st, "interface_sampled_packets", v.sampled,
		    "interface", ifn, "direction", dir);
		stats_add(st, "interface_flows_created", v.created,
		    "interface", ifn, "direction", dir);
		for (r = END_IDLE; r < END_MAX; r++) {
			stats_add(st, "interface_flows_aged", v.aged[r],
			    "interface", ifn, "direction", dir);
			stats_label(st, "reason", reasons[r]);
		}
	}
}

/*
 * Each live capture: how often its device came and went, and whether it
 * is capturing now (display interface shows why not).
 */
static void
capture_stats(struct slot *s, Netstream__Stats *st)
{
	struct slot *sts[1 + PLAN_WORKERS_MAX];
	const struct capture **c;
	size_t i, n = 0, nst = wk_states(s, sts, NELEM(sts));

	for (i = 0; i < nst; i++)
		n += sts[i]->ncap;
	c = xcalloc(n + 1, sizeof(*c));
	n = slot_captures(s, c, n);
	for (i = 0; i < n; i++) {
		if (c[i]->is_file)
			continue;
		stats_add(st, "capture_starts", c[i]->starts, "interface",
		    c[i]->name, NULL, NULL);
		stats_add(st, "capture_stops", c[i]->stops, "interface",
		    c[i]->name, NULL, NULL);
		stats_add(st, "capture_waiting", c[i]->state !=
		    NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_CAPTURING,
		    "interface", c[i]->name, NULL, NULL);
	}
	free(c);
}

/*
 * A counter of one interface direction's cache, labelled with the
 * operator's names: they stay when a commit changes the record's fields
 * (the cache, and its counters, go on), and one interface direction has
 * one cache, so no two rows are alike. monitor is empty when the
 * system's or the slot's record applies.
 */
static void
cache_stats(Netstream__Stats *st, const struct binding *b, const char *name,
    uint64_t v)
{
	stats_add(st, name, v, "interface", b->pb->interface, "direction",
	    direction_name(b->pb->direction));
	stats_label(st, "record", b->rec != NULL ? b->rec->name : "");
	stats_label(st, "monitor", b->pb->monitor);
}

/* A counter of the slot: the main thread's and its workers' together. */
#define SUM(f) slot_sum(sts, nst, offsetof(struct slot, f))
static uint64_t
slot_sum(struct slot *const *sts, size_t n, size_t off)
{
	uint64_t v = 0;
	size_t k;

	for (k = 0; k < n; k++)
		v += *(const uint64_t *)(const void *)((const char *)sts[k] +
		    off);
	return v;
}

static void
publish_stats(struct proc *pr)
{
	static const char *lens[] = { "1-64", "65-128", "129-256", "257-512",
		"513-1024", "1025-1500", ">1500" };
	static const char *reasons[END_MAX] = { "", "idle", "active",
		"end-of-flow", "forced", "lack-of-resources" };
	struct slot *s = &pr->s, *sts[1 + PLAN_WORKERS_MAX];
	Netstream__Stats st;
	char slot[16];
	size_t i, k, nst;
	int r;
	uint64_t ng_in = 0, ng_out = 0, ng_bad = 0, steps;

	snprintf(slot, sizeof(slot), "%u", s->id);
	wk_lock(s); /* the workers' states hold still while they are read */
	nst = wk_states(s, sts, NELEM(sts));
	stats_begin(&st, "sampled", s->id, s->plan ? s->plan->generation : 0);
	for (k = 0; k < nst; k++) /* the kernel's count since the last */
		for (i = 0; i < sts[k]->ncap; i++)
			sts[k]->dropped += live_drops(&sts[k]->cap[i]);
	stats_add(&st, "packets_received", SUM(received), NULL, NULL, NULL,
	    NULL);
	/* live: what the kernel could not put in a full ring */
	stats_add(&st, "packets_dropped", SUM(dropped), NULL, NULL, NULL,
	    NULL);
	/* live: GSO/GRO super-packets, counted as their segments above */
	stats_add(&st, "gso_frames", SUM(gso_frames), NULL, NULL, NULL, NULL);
	stats_add(&st, "gso_segments", SUM(gso_segments), NULL, NULL, NULL,
	    NULL);
	stats_add(&st, "gso_unsplit", SUM(gso_unsplit), NULL, NULL, NULL,
	    NULL);
	stats_add(&st, "truncated_headers", SUM(truncated_headers), NULL,
	    NULL, NULL, NULL);
	stats_add(&st, "packets_ipv6", SUM(ipv6), NULL, NULL, NULL, NULL);
	stats_add(&st, "packets_ipv4", SUM(ipv4), NULL, NULL, NULL, NULL);
	stats_add(&st, "packets_other", SUM(other), NULL, NULL, NULL, NULL);
	stats_add(&st, "packets_sampled", SUM(sampled_pkts), NULL, NULL, NULL,
	    NULL);
	stats_add(&st, "packets_unbound", SUM(unbound), NULL, NULL, NULL,
	    NULL);
	for (r = DEC_MALFORMED_LINK; r < DEC_NRESULTS; r++)
		stats_add(&st, "packets_malformed", SUM(malformed[r]), "reason",
		    decode_reason_name(r), NULL, NULL);
	/* each worker's share (the slot's counters are their sums) */
	for (k = 1; k < nst; k++) {
		char w[16];

		snprintf(w, sizeof(w), "%u", sts[k]->worker);
		stats_add(&st, "worker_packets", sts[k]->received, "worker",
		    w, NULL, NULL);
		stats_add(&st, "worker_flows", sts[k]->flows_total, "worker",
		    w, NULL, NULL);
	}
	/* pcapng direction flags: packets taken by their flag, and blocks
	 * whose flags could not be read (their packets keep the default) */
	for (i = 0; i < s->ncap; i++) {
		ng_in += s->cap[i].ng.flagged[PCAPNG_DIR_IN];
		ng_out += s->cap[i].ng.flagged[PCAPNG_DIR_OUT];
		ng_bad += s->cap[i].ng.malformed;
	}
	stats_add(&st, "packets_flagged", ng_in, "direction", "inbound", NULL,
	    NULL);
	stats_add(&st, "packets_flagged", ng_out, "direction", "outbound",
	    NULL, NULL);
	stats_add(&st, "pcapng_malformed", ng_bad, NULL, NULL, NULL, NULL);
	for (i = 0; i < 7; i++)
		stats_add(&st, "packet_length", SUM(lenhist[i]), "range",
		    lens[i], NULL, NULL);
	for (i = 0; i < s->nb; i++) {
		uint64_t used = 0, created = 0, full = 0, aged[END_MAX];

		if (s->b[i].cache == NULL)
			continue;
		memset(aged, 0, sizeof(aged));
		for (k = 0; k < nst; k++) {
			const struct cache *c = i < sts[k]->nb ?
			    sts[k]->b[i].cache : NULL;

			if (c == NULL)
				continue;
			used += c->used;
			created += c->created;
			full += c->dropped_full + c->evicted;
			for (r = END_IDLE; r < END_MAX; r++)
				aged[r] += c->aged[r];
		}
		cache_stats(&st, &s->b[i], "flows_current", used);
		cache_stats(&st, &s->b[i], "flows_created", created);
		cache_stats(&st, &s->b[i], "cache_full", full);
		for (r = END_IDLE; r < END_MAX; r++) {
			cache_stats(&st, &s->b[i], "flows_aged", aged[r]);
			stats_label(&st, "reason", reasons[r]);
		}
	}
	interface_stats(s, &st);
	capture_stats(s, &st);
	stats_add(&st, "batches_pushed", SUM(batches_pushed), NULL, NULL, NULL,
	    NULL);
	stats_add(&st, "records_pushed", SUM(records_pushed), NULL, NULL, NULL,
	    NULL);
	stats_add(&st, "batches_lost", SUM(batches_lost), NULL, NULL, NULL,
	    NULL);
	/* the hand-over: held until exportd acknowledges, pushed again
	 * after an exportd restart */
	stats_add(&st, "batches_unacked", s->ho.held, NULL, NULL, NULL, NULL);
	stats_add(&st, "batches_resent", s->ho.resent_batches, NULL, NULL,
	    NULL, NULL);
	stats_add(&st, "records_unconfirmed", s->records_unconfirmed, NULL,
	    NULL, NULL, NULL);
	stats_add(&st, "records_lost", SUM(records_lost), NULL, NULL, NULL,
	    NULL);
	/* acknowledged by exportd as refused: never exported, and why */
	for (i = 0; i < s->ho.n_refused; i++) {
		stats_add(&st, "batches_refused", s->ho.refused[i].batches,
		    "reason", s->ho.refused[i].reason, NULL, NULL);
		stats_add(&st, "records_refused", s->ho.refused[i].rows,
		    "reason", s->ho.refused[i].reason, NULL, NULL);
	}
	/* killed sampleds before this one: what they had counted and
	 * exportd never exported, and the packets not replayed again */
	stats_add(&st, "restart_lost_packets", s->restart_lost.packets, NULL,
	    NULL, NULL, NULL);
	stats_add(&st, "restart_lost_flows", s->restart_lost.flows, NULL, NULL,
	    NULL, NULL);
	stats_add(&st, "packets_resumed", s->resume_skipped, NULL, NULL, NULL,
	    NULL);
	/* the routes file was not the validated one: its fields are 0 */
	stats_add(&st, "routes_refused", s->routes_refusals, NULL, NULL, NULL,
	    NULL);
	stats_add(&st, "records_no_routes", s->records_no_routes, NULL, NULL,
	    NULL, NULL);
	stats_add(&st, "captures_done", (uint64_t)s->all_eof, NULL, NULL, NULL,
	    NULL);
	/* steps of the wall clock (live) or of a capture's clock; each
	 * worker sees the same steps: counted once */
	for (k = 0, steps = 0; k < nst; k++)
		if (sts[k]->clock_steps > steps)
			steps = sts[k]->clock_steps;
	stats_add(&st, "clock_steps", steps, NULL, NULL, NULL, NULL);
	stats_add(&st, "capture_gaps", s->clock_gaps, NULL, NULL, NULL, NULL);
	stats_add(&st, "flows_in_cache", SUM(flows_total), NULL, NULL, NULL,
	    NULL);
	/* captures not read to their end: nsctl run names them */
	stats_add(&st, "capture_errors", SUM(capture_errors), NULL, NULL,
	    NULL, NULL);
	for (k = 0; k < nst; k++)
		for (i = 0; i < sts[k]->n_capfail; i++)
			stats_add(&st, "capture_failed", 1, "source",
			    sts[k]->capfail[i].source, "error",
			    sts[k]->capfail[i].err);
	wk_unlock(s);
	for (r = BUS_TOO_BIG; r < BUS_ERR_MAX; r++)
		stats_add(&st, "bad_messages", pr->bad[r], "reason",
		    bus_err_name((enum bus_err)r), NULL, NULL);
	plan_bad_stats(&st, pr->bad_plans);
	monitor_stats(&st); /* the tcp:// sockets, lib/monitor.c */
	stats_publish(pr->stats, &st);
	pr->stats_sent = 1;
	stats_clear(&st);
}

/*
 * The captures ended and exportd acknowledged every batch: said in the
 * stats at once, not at the next interval (nsctl run ends on it).
 */
static void
tell_done(struct proc *pr)
{
	int done = pr->s.all_eof && pr->s.ho.held == 0;

	if (done && !pr->done_told)
		publish_stats(pr);
	pr->done_told = done;
}

static void
timers(struct proc *pr)
{
	int64_t now = mono_ms();
	unsigned iv = pr->s.plan && pr->s.plan->stats_interval_ms ?
	    pr->s.plan->stats_interval_ms : 1000;

	if (now >= pr->next_flush) {
		/* partial batches leave at least every 200 ms */
		if (pr->s.plan != NULL)
			push_all(&pr->s, 0);
		pr->next_flush = now + 200;
	}
	if (now >= pr->next_stats) {
		publish_stats(pr);
		pr->next_stats = now + iv;
	}
}

static void
at_eof(struct proc *pr)
{
	struct slot *s = &pr->s;
	size_t i;

	if (s->all_eof)
		return;
	s->all_eof = 1;
	/* what the caches held at the end (the benchmark's memory per flow) */
	if (s->flows_total > pr->peak_flows)
		pr->peak_flows = s->flows_total;
	for (i = 0; i < s->nb; i++)
		if (s->b[i].cache != NULL)
			cache_flush(s, &s->b[i], END_FORCED);
	push_all(s, 1);
	for (i = 0; i < s->ncap; i++) {
		log_info("capture %s (%s): %llu packets, %llu ipv6, %llu "
		    "malformed ipv6", s->cap[i].name, s->cap[i].source,
		    (unsigned long long)s->cap[i].received,
		    (unsigned long long)s->cap[i].ipv6,
		    (unsigned long long)s->cap[i].malformed);
		if (s->cap[i].ng.f != NULL)
			log_info("capture %s (%s): pcapng direction flags: "
			    "%llu inbound, %llu outbound, %llu malformed "
			    "blocks", s->cap[i].name, s->cap[i].source,
			    (unsigned long long)
			    s->cap[i].ng.flagged[PCAPNG_DIR_IN],
			    (unsigned long long)
			    s->cap[i].ng.flagged[PCAPNG_DIR_OUT],
			    (unsigned long long)s->cap[i].ng.malformed);
	}
	pr->t_eof = mono_ms();
	{
		struct rusage ru;
		double secs = (double)(pr->t_eof - pr->t_first) / 1000.0;

		getrusage(RUSAGE_SELF, &ru);
		log_info("slot %u: captures ended: %llu packets in %.3f s "
		    "(%.0f packets/s), %llu flows pushed, peak %llu flows in "
		    "cache, max rss %ld kB",
		    s->id, (unsigned long long)s->received, secs,
		    secs > 0 ? (double)s->received / secs : 0.0,
		    (unsigned long long)s->records_pushed,
		    (unsigned long long)pr->peak_flows, ru.ru_maxrss);
	}
	publish_stats(pr);
}

#define LIVE_POLL_MAX 64 /* live captures polled (more: read every tick) */
#define BUS_TICK_MS 100	 /* the timers run at least this often */
#define BUS_ALL_MS 1000	 /* every bus socket read at least this often */

/*
 * The loop's descriptors in an epoll set kept from round to round: a
 * plain poll() puts a wait on each descriptor and takes it off again at
 * every call, which on a paravirtualised host cost more than all else an
 * idle slot does. The set is made again when the list changes or a
 * descriptor was closed or opened since (fdset_gen: a number may come
 * back for another file, which the old set would not watch).
 */
struct waitset {
	int ep;
	unsigned gen;
	nfds_t n;
	int fd[8 + LIVE_POLL_MAX];
};

static int
waitset_sync(struct waitset *w, const struct pollfd *p, nfds_t n)
{
	unsigned gen = __atomic_load_n(&fdset_gen, __ATOMIC_RELAXED);
	nfds_t i;

	if (w->ep != -1 && w->gen == gen && w->n == n) {
		for (i = 0; i < n && w->fd[i] == p[i].fd; i++)
			;
		if (i == n)
			return 0;
	}
	if (w->ep != -1)
		close(w->ep);
	w->n = 0;
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN };

		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, p[i].fd, &ev) == -1) {
			close(w->ep);
			w->ep = -1;
			return -1;
		}
		w->fd[i] = p[i].fd;
	}
	w->n = n;
	w->gen = gen;
	return 0;
}

/* poll(2) over p, through the set; poll itself when a set cannot be made. */
static int
waitset_poll(struct waitset *w, struct pollfd *p, nfds_t n, int timeout)
{
	struct epoll_event ev[8 + LIVE_POLL_MAX];
	nfds_t i;
	int k, rc;

	if (waitset_sync(w, p, n) == -1)
		return poll(p, n, timeout);
	for (i = 0; i < n; i++)
		p[i].revents = 0;
	rc = epoll_wait(w->ep, ev, (int)n, timeout);
	for (k = 0; k < rc; k++)
		if (ev[k].data.u32 < n) /* EPOLLIN, EPOLLERR, EPOLLHUP: poll's */
			p[ev[k].data.u32].revents = (short)ev[k].events;
	return rc;
}

/* A socket's ZMQ_FD (or -1): readable when its state may have changed. */
static int
zmq_fd(void *sock)
{
	int fd = -1;
	size_t sz = sizeof(fd);

	if (sock == NULL || zmq_getsockopt(sock, ZMQ_FD, &fd, &sz) == -1)
		return -1;
	return fd;
}

/* Adds fd to be polled for input; its index, -1 when fd is -1. */
static int
watch(struct pollfd *p, nfds_t *n, int fd)
{
	if (fd == -1)
		return -1;
	p[*n] = (struct pollfd){ fd, POLLIN, 0 };
	return (int)(*n)++;
}

static int
ready(const struct pollfd *p, int i)
{
	return i != -1 && p[i].revents != 0;
}

/*
 * The bus sockets of rd, each read until it has nothing (EAGAIN): a
 * ZMQ_FD is edge-triggered, it becomes readable again only for what
 * changes after that (zmq_getsockopt(3), ZMQ_FD), so a socket whose
 * descriptor did not stir since it was read to the end has nothing new.
 * Reading an empty one is not free: libzmq polls its mailbox, two
 * system calls. The handover's timers and the plan request run every
 * round. Returns the sockets to read again at once (queries left).
 */
static int
read_sockets(struct proc *pr, int rd)
{
	int again = 0;

	/* no plan yet: the request's reply is looked for every round */
	if (pr->s.plan == NULL)
		rd |= RD_REQ;
	ask_plan(pr);
	if (rd & (RD_SUB | RD_REQ))
		read_bus(pr, rd);
	if (rd & RD_ACKS)
		ho_poll(&pr->s.ho, 0);
	else
		ho_timers(&pr->s.ho);
	if ((rd & RD_QUERY) && query_serve(pr->query, &pr->s, pr->bad))
		again |= RD_QUERY;
	/* the proxy (re)connected: what it missed goes out now */
	if (rd & RD_STATS) {
		if (xpub_joined(pr->stats))
			pr->next_stats = mono_ms();
		pr->stats_sent = 0;
	}
	return again;
}

/*
 * How long the round may wait, from what capture_run said (wait). Busy,
 * the loop wakes at least every BUS_TICK_MS: the handover's pushes and
 * resends, the partial batches, the flows' aging. Quiet (capture_run
 * said LIVE_QUIET_MS: no flow in the cache, no row batched), with
 * nothing held for exportd and every ring in the wait (polled): only
 * the stats and the read of every socket are due, and those ticks did
 * nothing but cost a wake-up each, ten a second for an idle link. A
 * packet, an ack, a query, a plan or a device wakes the loop as before.
 */
static int
wait_for(const struct proc *pr, int wait, int64_t next_all, int polled)
{
	int64_t now, due;

	if (wait <= BUS_TICK_MS)
		return wait;
	if (wait < LIVE_QUIET_MS || !polled || pr->s.ho.held != 0 ||
	    pr->s.ho.unsent != NULL)
		return BUS_TICK_MS;
	now = mono_ms();
	due = next_all < pr->next_stats ? next_all : pr->next_stats;
	if (due - now < wait)
		wait = due > now ? (int)(due - now) : 0;
	return wait;
}

/*
 * One round per wake-up: the rings' blocks are read; a bus socket only
 * when its descriptor is readable, when it may hold more (queries left,
 * the plan awaited), on a signal, and every BUS_ALL_MS whatever its
 * descriptor said; the handover's and the process's timers at least
 * every BUS_TICK_MS while they have work, else only the stats and that
 * read (wait_for). Reading every socket at every tick or ring block
 * cost a dozen system calls in libzmq's mailbox checks (an idle slot
 * paid 2.3 ms of CPU a second, a bare ring 0.5). The wait is on an
 * epoll set (struct waitset) of the rings, the wake pipe, the workers'
 * queue, the link messages and the sockets' ZMQ_FDs; a socket's ZMQ_FD
 * is asked of libzmq again only when a descriptor came or went.
 */
static void
run(struct proc *pr, int exit_at_eof)
{
	struct pollfd p[8 + LIVE_POLL_MAX];
	struct waitset ws = { .ep = -1 };
	int fds[LIVE_POLL_MAX], zi[5], zfd[5] = { -2 };
	unsigned zgen = 0;
	int64_t now, next_bus = 0, next_all = 0;
	int rd = RD_ALL, wk = 1, dev = 1;
	int i_wake, i_wk, i_dev, wait, rc, k;
	size_t i, nfd;
	nfds_t n;

	while (!quit) {
		now = mono_ms();
		/* on time, not at the next tick: a quiet loop waits for it */
		if (now >= next_all) {
			rd = RD_ALL;
			next_all = now + BUS_ALL_MS;
		}
		/* batches not pushed yet: retried every round, as acks come */
		if (rd || now >= next_bus || pr->s.ho.unsent != NULL) {
			if (rd & (RD_SUB | RD_REQ))
				dev = 1; /* a plan may come */
			rd = read_sockets(pr, rd);
			if (now >= next_bus) {
				wk = 1;
				next_bus = now + BUS_TICK_MS;
			}
		}
		if (wk)
			wk_take(&pr->s); /* the workers' batches */
		/* devices came or went: before their sockets are read */
		if (dev && pr->devwatch != -1 && pr->s.plan != NULL &&
		    devwatch_read(pr->devwatch))
			devwatch_apply(&pr->s);
		wait = 100;
		if (pr->s.plan != NULL && !pr->s.all_eof) {
			wait = capture_run(&pr->s, 4096);
			if (wait == -1) {
				at_eof(pr);
				if (exit_at_eof)
					break;
				wait = 100;
			}
		}
		timers(pr);
		tell_done(pr);
		if (pr->stats_sent) {
			/* a send may have taken the ZMQ_FD's edge: read it */
			if (xpub_joined(pr->stats)) {
				pr->next_stats = mono_ms();
				wait = 0;
			}
			pr->stats_sent = 0;
		}
		n = 0;
		i_wake = watch(p, &n, wake_open());
		i_wk = watch(p, &n, wk_fd(&pr->s));
		i_dev = watch(p, &n, pr->s.plan != NULL ? pr->devwatch : -1);
		/* the ZMQ_FDs, in the order of the RD_ bits: a socket's never
		 * changes, only pr->req comes and goes (fdset_changed) */
		if ((k = (int)__atomic_load_n(&fdset_gen, __ATOMIC_RELAXED)) !=
		    (int)zgen || zfd[0] == -2) {
			zgen = (unsigned)k;
			zfd[0] = zmq_fd(pr->sub);
			zfd[1] = zmq_fd(pr->s.ho.acks);
			zfd[2] = zmq_fd(pr->stats);
			zfd[3] = zmq_fd(pr->query);
			zfd[4] = zmq_fd(pr->req);
		}
		for (k = 0; k < 5; k++)
			zi[k] = watch(p, &n, zfd[k]);
		/* live: a ring block handed over wakes the loop */
		nfd = capture_fds(&pr->s, fds, LIVE_POLL_MAX);
		for (i = 0; i < nfd; i++)
			watch(p, &n, fds[i]);
		wait = wait_for(pr, rd ? 0 : wait, next_all,
		    nfd < LIVE_POLL_MAX);
		if (quit)
			break;
		/* even with no wait: what is readable is known */
		if ((rc = waitset_poll(&ws, p, n, wait)) <= 0)
			for (i = 0; i < n; i++)
				p[i].revents = 0;
		for (i = 0; i < nfd; i++) /* a device down: see live.c */
			if (p[n - nfd + i].revents & POLLERR)
				live_clear_error(fds[i]);
		for (k = 0; k < 5; k++)
			if (ready(p, zi[k]))
				rd |= 1 << k;
		if (ready(p, i_wake)) {
			wake_drain();
			rd = RD_ALL;
		}
		wk = ready(p, i_wk);
		dev = ready(p, i_dev);
	}
	if (ws.ep != -1)
		close(ws.ep);
}

/* Keeps what a live capture needs, before any thread exists (lib/privs.c). */
static void
drop_privs(void)
{
	char err[256];

	if (privs_drop((1ULL << CAP_NET_RAW) | (1ULL << CAP_NET_ADMIN),
	    err, sizeof(err)) == -1)
		log_warnx("cannot drop privileges: %s", err);
	else
		log_info("capabilities: only net_raw and net_admin kept, "
		    "no new privileges");
}

static void
open_bus(struct proc *pr)
{
	pr->ctx = zmq_ctx_new();
	pr->sub = bus_socket(pr->ctx, ZMQ_SUB, BUS_MAX_CONTROL);
	zmq_setsockopt(pr->sub, ZMQ_SUBSCRIBE, "plan", 4);
	bus_connect(pr->sub, pr->ep.plan);
	ho_open(&pr->s.ho, pr->ctx, &pr->ep, pr->s.id, &quit);
	pr->stats = stats_socket(pr->ctx);
	bus_connect(pr->stats, pr->ep.stats_in);
	pr->query = query_open(pr->ctx, &pr->ep, pr->s.id);
}

/* Link messages, so devices that come later are captured (devwatch.c). */
static void
open_devwatch(struct proc *pr)
{
	char err[256];

	if ((pr->devwatch = devwatch_open(err, sizeof(err))) == -1)
		log_warnx("%s: a live device that is missing or goes away is "
		    "captured again only after a commit", err);
}

/*
 * How far exportd took the batches of the sender this one replaces: its
 * acks, until they stay the same for a second (exportd drains what the
 * dead one had queued within milliseconds; a paced export moves them on
 * for longer), at most RESUME_WAIT_MS. 0 when exportd did not answer.
 */
#define RESUME_WAIT_MS 5000
static uint64_t
old_acks(struct proc *pr, uint64_t epoch, int *heard)
{
	struct handover *h = &pr->s.ho;
	int64_t end = mono_ms() + RESUME_WAIT_MS;

	h->prev_epoch = epoch;
	h->prev_heard = 0;
	h->prev_acked = 0;
	while (!quit && mono_ms() < end) {
		ho_poll(h, 100);
		if (h->prev_heard && mono_ms() - h->prev_changed >= 1000)
			break;
	}
	*heard = h->prev_heard;
	h->prev_epoch = 0;
	return h->prev_acked;
}

/*
 * After a crash: the loss of the sampled that died, counted, and the
 * state taken over (its captures go on where it stopped). A clean exit
 * leaves no state: the next sampled replays from the start.
 */
static void
resume_start(struct proc *pr)
{
	struct slot *s = &pr->s;
	struct rs_dead dead;
	struct rs_totals lost = { 0, 0 };
	char err[1200];
	int heard = 0, exact;
	uint64_t acked;

	if (s->no_export)
		return;
	if ((s->rs = resume_open(pr->ep.run_dir, s->id, &dead, err,
	    sizeof(err))) == NULL) {
		log_warnx("%s: after a crash the captures would be replayed "
		    "from their start", err);
		return;
	}
	if (dead.found) {
		acked = old_acks(pr, dead.epoch, &heard);
		exact = resume_settle(s->rs, &dead, acked, &lost) == 0 && heard;
		log_warnx("slot %u: the sampled before this one died: of the "
		    "%llu packets in %llu flows it counted, %llu packets in "
		    "%llu flows were never exported: lost%s", s->id,
		    (unsigned long long)dead.counted.packets,
		    (unsigned long long)dead.counted.flows,
		    (unsigned long long)lost.packets,
		    (unsigned long long)lost.flows, exact ? "" :
		    " (at most: exportd did not say how far it took them)");
		/* what no process saw cannot be counted: said, not guessed */
		if (dead.live)
			log_warnx("slot %u: packets that reached its live "
			    "devices from its death until this one captures "
			    "them are counted by no one", s->id);
		s->resuming = 1;
	}
	s->restart_lost.packets = dead.lost_before.packets + lost.packets;
	s->restart_lost.flows = dead.lost_before.flows + lost.flows;
	resume_begin(s->rs, s->ho.epoch, &s->restart_lost);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "slot", required_argument, NULL, 's' },
		{ "exit-at-eof", no_argument, NULL, 'x' },
		{ "no-export", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct proc pr;
	const char *rflag = NULL, *file = NULL;
	char run_dir[256];
	struct sigaction sa;
	int ch, slot = -1, exit_at_eof = 0;
	int64_t stop_end;
	char name[32];

	while ((ch = getopt_long(argc, argv, "c:r:s:xnhV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'V':
			printf("sampled (netstreamd) %s\n", NS_VERSION);
			return 0;
		case 's':
			slot = atoi(optarg);
			break;
		case 'r':
			rflag = optarg;
			break;
		case 'x':
			exit_at_eof = 1;
			break;
		case 'n':
			pr.s.no_export = 1;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (slot < 0 || slot > 255 || optind != argc)
		usage(2);
	snprintf(name, sizeof(name), "sampled[%d]", slot);
	log_init(name, getenv("NETSTREAMD_DEBUG") != NULL);
	monitor_enable();
	pr.s.id = (unsigned)slot;
	cache_seed_init(); /* before any cache: a secret the traffic cannot know */
	rflag = conf_daemon_run_dir(file, rflag, run_dir, sizeof(run_dir));
	bus_endpoints_init(&pr.ep, bus_run_dir(rflag));
	if (wake_open() == -1)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/*
	 * no file of its own to reload (the plan comes from cfgd): a hangup
	 * or a reload sent to the whole group must not lose the flow cache;
	 * a write to a closed socket is an error to handle, not a death
	 */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * while it is the only thread (privs.c): libzmq's threads, the
	 * monitors and the workers all come later and inherit the drop
	 */
	drop_privs();
	open_bus(&pr);
	open_devwatch(&pr);
	resume_start(&pr);
	run(&pr, exit_at_eof);
	/* shutdown ages and exports every flow first, and waits for the
	 * acks, all within the hand-over wait; a second signal stops the
	 * waits at once */
	quit = 0;
	stop_end = mono_ms() + handover_wait_ms();
	ho_set_deadline(&pr.s.ho, stop_end);
	if (pr.s.plan != NULL) {
		wk_stop(&pr.s); /* the workers' flows first, then the last */
		live_drain(&pr.s); /* what came before the stop is counted */
		slot_close(&pr.s, END_FORCED);
	}
	/* what exportd has not acknowledged yet may still need pushing */
	if (ho_drain(&pr.s.ho, (int)(stop_end > mono_ms() ?
	    stop_end - mono_ms() : 0)) == -1) {
		pr.s.records_unconfirmed = ho_held_records(&pr.s.ho);
		log_warnx("exportd did not acknowledge %zu batches (%llu "
		    "records): they may not have been exported",
		    pr.s.ho.held,
		    (unsigned long long)pr.s.records_unconfirmed);
	}
	for (size_t k = 0; k < pr.s.ho.n_refused; k++)
		log_warnx("exportd refused %llu batches (%llu records): %s",
		    (unsigned long long)pr.s.ho.refused[k].batches,
		    (unsigned long long)pr.s.ho.refused[k].rows,
		    pr.s.ho.refused[k].reason);
	publish_stats(&pr);
	if (pr.req)
		zmq_close(pr.req);
	zmq_close(pr.sub);
	zmq_close(pr.stats);
	if (pr.query)
		zmq_close(pr.query);
	ho_close(&pr.s.ho);
	zmq_ctx_term(pr.ctx);
	resume_close(pr.s.rs, pr.ep.run_dir, pr.s.id);
	if (pr.devwatch != -1)
		close(pr.devwatch);
	log_info("exiting");
	return 0;
}
