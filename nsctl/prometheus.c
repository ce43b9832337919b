/*
 * prometheus.c: the group's stats in the Prometheus text exposition
 * format (version 0.0.4): `nsctl stats --prometheus` prints one scrape,
 * `nsctl metrics --listen ADDR:PORT` serves GET /metrics to a Prometheus
 * server from the latest sample of each process, over libmicrohttpd:
 * connections served at once, each one's size and idle time bounded.
 */
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "display.h"
#include "log.h"
#include "util.h"

#define HTTP_MAX_REQUEST 8192 /* a GET with its headers fits in far less */
#define HTTP_IDLE_S 2	      /* a connection idle this long is closed */
#define HTTP_MAX_CONNECTIONS 64
#define STALE_MIN_MS 5000     /* a process silent this long is left out */

/* The latest sample of each process, and when it came. */
struct pstore {
	struct {
		char key[48];
		Netstream__Stats *s;
		int64_t at, gap; /* mono ms it came; since the one before */
	} p[MAX_PROCS];
	size_t n;
};

static void
pstore_keep(struct pstore *ps, Netstream__Stats *s)
{
	char key[48];
	int64_t now = mono_ms();
	size_t i;

	snprintf(key, sizeof(key), "%s.%u", s->process, s->slot);
	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].key, key) == 0) {
			netstream__stats__free_unpacked(ps->p[i].s, NULL);
			ps->p[i].s = s;
			ps->p[i].gap = now - ps->p[i].at;
			ps->p[i].at = now;
			return;
		}
	if (ps->n == MAX_PROCS) {
		netstream__stats__free_unpacked(s, NULL);
		return;
	}
	ns_strlcpy(ps->p[ps->n].key, key, sizeof(ps->p[ps->n].key));
	ps->p[ps->n].s = s;
	ps->p[ps->n].at = now;
	ps->p[ps->n++].gap = 0;
}

static void
pstore_free(struct pstore *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		netstream__stats__free_unpacked(ps->p[i].s, NULL);
	ps->n = 0;
}

/* ---- the exposition format ---- */

/* Counters that go up and down; every other one only goes up. */
static int
is_gauge(const char *name)
{
	static const char *const g[] = { "flows_current", "flows_in_cache",
		"batches_unacked", "captures_done", "capture_failed",
		"capture_waiting", "queued", "host_failing",
		"host_state_since_seconds", "packets_in_flight",
		"slot_connected", "slot_last_seen_seconds" };
	size_t i;

	for (i = 0; i < NELEM(g); i++)
		if (strcmp(name, g[i]) == 0)
			return 1;
	return 0;
}

static const char *
help_of(const char *name)
{
	static const char *const h[][2] = {
		{ "interface_packets", "frames captured on the interface "
		  "direction" },
		{ "interface_bytes", "bytes of those frames on the wire" },
		{ "interface_ipv6_packets", "IPv6 packets of the interface "
		  "direction" },
		{ "interface_sampled_packets", "packets its sampler took into "
		  "the flow cache" },
		{ "interface_flows_created", "flows created in its cache" },
		{ "interface_flows_aged", "flows aged out of its cache, by end "
		  "reason" },
		{ "capture_starts", "times the interface's device was opened "
		  "(at a plan, or when it appeared)" },
		{ "capture_stops", "times the interface's device went away "
		  "while it was captured" },
		{ "capture_waiting", "1 while the interface's device is "
		  "missing or cannot be opened: nothing is captured" },
		{ "packets_received", "packets captured by the slot" },
		{ "packets_ipv6", "IPv6 packets of the slot" },
		{ "gso_frames", "GSO/GRO super-packets of live captures, "
		  "counted as the segments they stand for" },
		{ "gso_segments", "segments those super-packets stood for" },
		{ "gso_unsplit", "super-packets whose segments could not be "
		  "told (counted as one packet each)" },
		{ "truncated_headers", "IPv6 packets whose extension headers "
		  "or L4 header ran past the capture: counted with the key "
		  "fields they prove" },
		{ "packets_sampled", "packets sampled into the slot's caches" },
		{ "flows_current", "flows in an interface direction's cache "
		  "now" },
		{ "flows_in_cache", "flows in the slot's caches now" },
		{ "flows_created", "flows created in an interface direction's "
		  "cache (interface, direction, record, monitor)" },
		{ "flows_aged", "flows aged out of an interface direction's "
		  "cache, by end reason" },
		{ "cache_full", "flows refused or evicted because the cache "
		  "was full" },
		{ "records_pushed", "flow records handed to exportd" },
		{ "records_lost", "flow records that could not be handed over" },
		{ "records_in", "flow records exportd took in" },
		{ "packets", "export packets sent to the host (the kernel took "
		  "them, no error came back in 5 s)" },
		{ "packets_in_flight", "export packets the kernel took for the "
		  "host, not yet counted sent or failed (5 s for an ICMP "
		  "error)" },
		{ "records", "flow records sent to the host (as packets)" },
		{ "bytes", "bytes of export packets sent to the host" },
		{ "failed_packets", "export packets the host did not get: a "
		  "send error, an ICMP error that names them, a full queue" },
		{ "failed_records", "flow records the host did not get" },
		{ "host_failing", "1 while the host's sends fail (error: the "
		  "latest), 0 once they succeed again" },
		{ "host_state_since_seconds", "when the host's state (failing "
		  "or ok) began, unix time" },
		{ "send_errors", "export packets the host did not get, by "
		  "errno" },
		{ "packets_ok", "export packets that carried the template, "
		  "labelled with its record (sum by record: across template "
		  "changes)" },
		{ "packets_failed", "export packets with the template that "
		  "failed, labelled with its record" },
		{ "commits", "revisions committed" },
		{ "slot_connected", "1 while the slot's stats reach cfgd, 0 "
		  "once none came for 3 stats intervals (at least 3 s), or "
		  "never" },
		{ "slot_last_seen_seconds", "when cfgd last received a stats "
		  "sample of the slot, unix time; 0: never since cfgd "
		  "started" },
		{ "bus_handshake_failures", "ZMTP/CURVE handshakes that failed "
		  "on the tcp:// endpoint, by reason (no-detail, protocol, "
		  "auth)" },
		{ "bus_disconnects", "established connections of the tcp:// "
		  "endpoint that ended" },
		{ "bad_messages", "bus messages refused, by reason" },
	};
	size_t i;

	for (i = 0; i < NELEM(h); i++)
		if (strcmp(name, h[i][0]) == 0)
			return h[i][1];
	return NULL;
}

/* [a-zA-Z0-9_] as it is, anything else as '_' (a name's first too). */
static void
put_name(struct sbuf *b, const char *s)
{
	for (; *s; s++)
		sbuf_printf(b, "%c", ((*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) ?
		    *s : '_');
}

static void
put_value(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			sbuf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			sbuf_printf(b, "\\n");
		else
			sbuf_printf(b, "%c", *s);
	}
}

/* One sample: its family (the metric name), labels, value. */
struct psample {
	char *family, *labels;
	const char *process, *name;
	uint64_t v;
};

static int
psample_cmp(const void *x, const void *y)
{
	const struct psample *a = x, *b = y;
	int c = strcmp(a->family, b->family);

	return c ? c : strcmp(a->labels, b->labels);
}

static void
psample_make(struct psample *o, const Netstream__Stats *s,
    const Netstream__Counter *c)
{
	struct sbuf b;
	size_t j;
	int n = 0;

	sbuf_init(&b);
	sbuf_printf(&b, "netstreamd_");
	put_name(&b, s->process);
	sbuf_printf(&b, "_");
	put_name(&b, c->name);
	if (!is_gauge(c->name))
		sbuf_printf(&b, "_total");
	o->family = xstrdup(b.s);
	b.len = 0;
	b.s[0] = '\0';
	/* a slot's sampled says which slot; labels it has win */
	if (strcmp(s->process, "sampled") == 0 && label_of(c, "slot") == NULL)
		sbuf_printf(&b, "%sslot=\"%u\"", n++ ? "," : "", s->slot);
	for (j = 0; j < c->n_labels; j++) {
		sbuf_printf(&b, "%s", n++ ? "," : "");
		put_name(&b, c->labels[j]->key);
		sbuf_printf(&b, "=\"");
		put_value(&b, c->labels[j]->value);
		sbuf_printf(&b, "\"");
	}
	o->labels = xstrdup(b.len ? b.s : "");
	sbuf_free(&b);
	o->process = s->process;
	o->name = c->name;
	o->v = c->value;
}

/*
 * The scrape of these samples: families in name order, each with its
 * HELP and TYPE once; samples of one family with the same labels (none
 * today: a process labels each row apart) would be one sample, their sum.
 */
static void
render(Netstream__Stats *const *st, size_t nst, struct sbuf *out)
{
	struct psample *ps;
	const char *help;
	size_t i, k, n = 0, total = 0;

	for (i = 0; i < nst; i++)
		total += st[i]->n_counters;
	ps = xcalloc(total + 1, sizeof(*ps));
	for (i = 0; i < nst; i++)
		for (k = 0; k < st[i]->n_counters; k++)
			psample_make(&ps[n++], st[i], st[i]->counters[k]);
	qsort(ps, n, sizeof(*ps), psample_cmp);
	for (i = 0; i < n; i = k) {
		uint64_t v = ps[i].v;

		if (i == 0 || strcmp(ps[i].family, ps[i - 1].family) != 0) {
			help = help_of(ps[i].name);
			sbuf_printf(out, "# HELP %s %s%s%s\n", ps[i].family,
			    help ? help : "", help ? "" : ps[i].process,
			    help ? "" : "'s counter (see nsctl(8))");
			sbuf_printf(out, "# TYPE %s %s\n", ps[i].family,
			    is_gauge(ps[i].name) ? "gauge" : "counter");
		}
		for (k = i + 1; k < n && strcmp(ps[k].family,
		    ps[i].family) == 0 && strcmp(ps[k].labels,
		    ps[i].labels) == 0; k++)
			v += ps[k].v;
		sbuf_printf(out, "%s%s%s%s %llu\n", ps[i].family,
		    ps[i].labels[0] ? "{" : "", ps[i].labels,
		    ps[i].labels[0] ? "}" : "", ull(v));
	}
	for (i = 0; i < n; i++) {
		free(ps[i].family);
		free(ps[i].labels);
	}
	free(ps);
}

/* The samples not stale now: a process that stopped publishing is out. */
static void
render_store(const struct pstore *ps, struct sbuf *out)
{
	Netstream__Stats *st[MAX_PROCS];
	int64_t now = mono_ms(), limit;
	size_t i, n = 0;

	for (i = 0; i < ps->n; i++) {
		limit = 3 * ps->p[i].gap > STALE_MIN_MS ? 3 * ps->p[i].gap :
		    STALE_MIN_MS;
		if (now - ps->p[i].at <= limit)
			st[n++] = ps->p[i].s;
	}
	render(st, n, out);
}

/* ---- the stats stream ---- */

static void *
stats_sub(void *ctx, struct nsctl *n)
{
	void *sub = bus_socket(ctx, ZMQ_SUB, BUS_MAX_STATS);

	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "stats", 5);
	bus_connect(sub, n->ep.stats);
	return sub;
}

/* Takes what waits on sub. */
static void
stats_drain(void *sub, struct pstore *ps, int slot)
{
	Netstream__Envelope *env;

	while (bus_recv(sub, BUS_MAX_STATS, 1, ZMQ_DONTWAIT, &env) !=
	    BUS_AGAIN) {
		if (env == NULL)
			continue;
		if (env->msg_case == NETSTREAM__ENVELOPE__MSG_STATS &&
		    (slot < 0 || (strcmp(env->stats->process, "sampled") ==
		    0 && env->stats->slot == (unsigned)slot))) {
			pstore_keep(ps, env->stats);
			env->stats = NULL;
			env->msg_case = NETSTREAM__ENVELOPE__MSG__NOT_SET;
		}
		bus_free(env);
	}
}

static int
pstore_has(const struct pstore *ps, const char *process, unsigned slot)
{
	char key[48];
	size_t i;

	snprintf(key, sizeof(key), "%s.%u", process, slot);
	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].key, key) == 0)
			return 1;
	return 0;
}

/* A sample of cfgd, exportd and the sampled of each slot of the plan. */
static int
round_done(const struct pstore *ps, const Netstream__Plan *p, int slot)
{
	size_t i;

	if (slot < 0 && (!pstore_has(ps, "cfgd", 0) ||
	    !pstore_has(ps, "exportd", 0)))
		return 0;
	for (i = 0; i < p->n_slots; i++)
		if ((slot < 0 || p->slots[i]->id == (unsigned)slot) &&
		    !pstore_has(ps, "sampled", p->slots[i]->id))
			return 0;
	return 1;
}

/*
 * `nsctl stats --prometheus`: one sample of each process the running
 * plan has (or what comes in tmo_ms), printed as one scrape.
 */
int
stats_prometheus(struct nsctl *n, int slot, long tmo_ms)
{
	struct pstore *ps = xcalloc(1, sizeof(*ps));
	Netstream__Envelope *plan = NULL;
	int64_t deadline;
	struct sbuf out;
	void *ctx, *sub;
	int rc = 0;

	ctx = zmq_ctx_new();
	sub = stats_sub(ctx, n);
	/* which processes to wait for; without cfgd there are no stats */
	if ((rc = display_get_plan(n, &plan)) != 0)
		goto done;
	deadline = mono_ms() + tmo_ms;
	while (mono_ms() < deadline &&
	    !round_done(ps, plan->reply->plan, slot)) {
		zmq_pollitem_t it = { sub, 0, ZMQ_POLLIN, 0 };

		if (zmq_poll(&it, 1, 100) > 0)
			stats_drain(sub, ps, slot);
	}
	if (ps->n == 0) {
		fprintf(stderr, "nsctl: no stats received in %ld ms from %s "
		    "(is the group running?)\n", tmo_ms, n->ep.stats);
		rc = EXIT_INVALID;
	} else {
		sbuf_init(&out);
		render_store(ps, &out);
		fputs(out.s, stdout);
		sbuf_free(&out);
	}
done:
	bus_free(plan);
	pstore_free(ps);
	free(ps);
	zmq_close(sub);
	zmq_ctx_term(ctx);
	return rc;
}

/* ---- nsctl metrics: GET /metrics ---- */

/* What the request handler reads: the samples and where they come from. */
struct metrics {
	struct pstore *ps;
	void *sub;
	uint64_t served;
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (every address). */
static int
listen_on(const char *spec)
{
	char host[256], *port;
	struct addrinfo hints, *res, *ai;
	int fd = -1, on = 1, e;

	if (ns_strlcpy(host, spec, sizeof(host)) >= sizeof(host) ||
	    (port = strrchr(host, ':')) == NULL || port[1] == '\0')
		return -1;
	*port++ = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if ((e = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) !=
	    0) {
		fprintf(stderr, "nsctl: %s: %s\n", spec, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    0)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, 8) == -1) {
			fprintf(stderr, "nsctl: %s: %s\n", spec,
			    strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * The HTTP side is libmicrohttpd's, driven from our loop (no thread of
 * its own): its epoll descriptor sits in the zmq_poll beside the stats
 * subscription, so the samples and the requests are handled in one
 * thread and need no lock. It serves every connection at once and drops
 * each one idle for HTTP_IDLE_S, so a silent client delays no scrape.
 */
static enum MHD_Result
http_reply(struct MHD_Connection *c, unsigned status, const char *type,
    const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The request handler: GET /metrics, 404 and 405 for anything else. */
static enum MHD_Result
http_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **state)
{
	struct metrics *m = cls;
	struct sbuf out;
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	if (*state == NULL) { /* the head came: wait for the body, if any */
		*state = m;
		return MHD_YES;
	}
	if (*upload_len != 0) { /* a body we do not read */
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return http_reply(c, MHD_HTTP_NOT_FOUND, "text/plain",
		    "not found: try /metrics\n", 24);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    "only GET\n", 9);
	stats_drain(m->sub, m->ps, -1);
	sbuf_init(&out);
	render_store(m->ps, &out);
	ret = http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; "
	    "charset=utf-8", out.s ? out.s : "", out.len);
	sbuf_free(&out);
	m->served++;
	return ret;
}

static void
http_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx("metrics: %s", msg);
}

/* The server on the listening socket lfd (which it then owns). */
static struct MHD_Daemon *
http_start(int lfd, struct metrics *m)
{
	return MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL,
	    NULL, http_request, m,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lfd,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_S,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MAX_REQUEST,
	    MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL,
	    MHD_OPTION_END);
}

/* How long the loop may sleep: until MHD's next timeout, at most 500 ms. */
static long
http_wait_ms(struct MHD_Daemon *d)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(d, &t) == MHD_YES && t < 500)
		return (long)t;
	return 500;
}

/* `nsctl metrics --listen ADDR:PORT`: until SIGINT or SIGTERM. */
int
cmd_metrics(struct nsctl *n, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct metrics m;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *ei;
	const char *spec = NULL;
	struct sigaction sa;
	void *ctx;
	int ch, lfd;

	while ((ch = getopt_long(argc, argv, "l:", longopts, NULL)) != -1) {
		if (ch == 'l')
			spec = optarg;
		else
			nsctl_usage();
	}
	if (spec == NULL || optind != argc)
		nsctl_usage();
	if ((lfd = listen_on(spec)) == -1) {
		fprintf(stderr, "nsctl: cannot listen on %s (ADDR:PORT, "
		    "[ADDR]:PORT or :PORT)\n", spec);
		return EXIT_INVALID;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	memset(&m, 0, sizeof(m));
	m.ps = xcalloc(1, sizeof(*m.ps));
	ctx = zmq_ctx_new();
	m.sub = stats_sub(ctx, n);
	if ((d = http_start(lfd, &m)) == NULL ||
	    (ei = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD)) == NULL)
		fatalx("metrics: cannot start the HTTP server on %s", spec);
	log_info("serving http://%s/metrics from the stats at %s", spec,
	    n->ep.stats);
	while (!quit) {
		zmq_pollitem_t it[2] = { { m.sub, 0, ZMQ_POLLIN, 0 },
			{ NULL, ei->epoll_fd, ZMQ_POLLIN, 0 } };

		if (zmq_poll(it, 2, http_wait_ms(d)) < 0)
			continue;
		if (it[0].revents & ZMQ_POLLIN)
			stats_drain(m.sub, m.ps, -1);
		MHD_run(d); /* the ready connections, and the timed out */
	}
	MHD_stop_daemon(d); /* closes lfd too */
	log_info("stopped after %llu scrapes", ull(m.served));
	pstore_free(m.ps);
	free(m.ps);
	zmq_close(m.sub);
	zmq_ctx_term(ctx);
	return 0;
}
