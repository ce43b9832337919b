/*
 * prometheus.c: the group's stats in the Prometheus text exposition
 * format (version 0.0.4): `nsctl stats --prometheus` prints one scrape,
 * `nsctl metrics --listen ADDR:PORT` serves GET /metrics to a Prometheus
 * server from the latest sample of each process. A tiny HTTP server: one
 * request at a time, its size and time bounded, 404 for other paths.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
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
#define HTTP_READ_MS 2000     /* a client slower than this is dropped */
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
		"queued" };
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
		{ "packets_received", "packets captured by the slot" },
		{ "packets_ipv6", "IPv6 packets of the slot" },
		{ "packets_sampled", "packets sampled into the slot's caches" },
		{ "flows_current", "flows in a cache now" },
		{ "flows_in_cache", "flows in the slot's caches now" },
		{ "flows_created", "flows created, per record and binding" },
		{ "flows_aged", "flows aged, per record and end reason" },
		{ "records_pushed", "flow records handed to exportd" },
		{ "records_lost", "flow records that could not be handed over" },
		{ "records_in", "flow records exportd took in" },
		{ "packets", "export packets sent to the host" },
		{ "records", "flow records sent to the host" },
		{ "bytes", "bytes of export packets sent to the host" },
		{ "send_errors", "export packets the host did not get, by "
		  "errno" },
		{ "packets_ok", "export packets that carried the template, "
		  "labelled with its record (sum by record: across template "
		  "changes)" },
		{ "packets_failed", "export packets with the template that "
		  "failed, labelled with its record" },
		{ "commits", "revisions committed" },
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
 * HELP and TYPE once; samples of one family with the same labels (two
 * caches of one record) are one sample, their sum.
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

static void
http_send(int fd, const char *status, const char *type, const char *body,
    size_t len)
{
	char head[256];
	size_t off = 0;
	ssize_t w;
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type,
	    len);
	if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n)
		return;
	while (off < len && (w = send(fd, body + off, len - off,
	    MSG_NOSIGNAL)) > 0)
		off += (size_t)w;
}

/*
 * Reads one request head (up to HTTP_MAX_REQUEST bytes, HTTP_READ_MS).
 * Returns its length, 0 when the client left or was too slow, -1 when
 * it is too big.
 */
static ssize_t
http_read(int fd, char *buf, size_t size)
{
	int64_t end = mono_ms() + HTTP_READ_MS;
	struct pollfd p = { fd, POLLIN, 0 };
	size_t len = 0;
	ssize_t r;

	while (!quit) {
		int64_t left = end - mono_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return 0;
		if ((r = recv(fd, buf + len, size - 1 - len, 0)) <= 0)
			return 0;
		len += (size_t)r;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL)
			return (ssize_t)len;
		if (len == size - 1)
			return -1;
	}
	return 0;
}

static void
http_serve(int fd, const struct pstore *ps, uint64_t *served)
{
	static char req[HTTP_MAX_REQUEST];
	char method[16], path[256];
	struct sbuf out;
	ssize_t len;

	if ((len = http_read(fd, req, sizeof(req))) == 0)
		return;
	if (len < 0) {
		http_send(fd, "431 Request Header Fields Too Large",
		    "text/plain", "request too large\n", 18);
		return;
	}
	if (sscanf(req, "%15s %255s", method, path) != 2) {
		http_send(fd, "400 Bad Request", "text/plain",
		    "bad request\n", 12);
		return;
	}
	if (strcmp(method, "GET") != 0) {
		http_send(fd, "405 Method Not Allowed", "text/plain",
		    "only GET\n", 9);
		return;
	}
	if (strcmp(path, "/metrics") != 0 &&
	    strncmp(path, "/metrics?", 9) != 0) {
		http_send(fd, "404 Not Found", "text/plain",
		    "not found: try /metrics\n", 24);
		return;
	}
	sbuf_init(&out);
	render_store(ps, &out);
	http_send(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
	    out.s ? out.s : "", out.len);
	sbuf_free(&out);
	(*served)++;
}

/* `nsctl metrics --listen ADDR:PORT`: until SIGINT or SIGTERM. */
int
cmd_metrics(struct nsctl *n, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct pstore *ps;
	const char *spec = NULL;
	struct sigaction sa;
	struct timeval tv = { 2, 0 };
	uint64_t served = 0;
	void *ctx, *sub;
	int ch, lfd, cfd;

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
	ps = xcalloc(1, sizeof(*ps));
	ctx = zmq_ctx_new();
	sub = stats_sub(ctx, n);
	log_info("serving http://%s/metrics from the stats at %s", spec,
	    n->ep.stats);
	while (!quit) {
		zmq_pollitem_t it[2] = { { sub, 0, ZMQ_POLLIN, 0 },
			{ NULL, lfd, ZMQ_POLLIN, 0 } };

		if (zmq_poll(it, 2, 500) <= 0)
			continue;
		if (it[0].revents & ZMQ_POLLIN)
			stats_drain(sub, ps, -1);
		if (!(it[1].revents & ZMQ_POLLIN) ||
		    (cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		/* a client that does not read is not waited on for long */
		setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		stats_drain(sub, ps, -1);
		http_serve(cfd, ps, &served);
		close(cfd);
	}
	log_info("stopped after %llu scrapes", ull(served));
	close(lfd);
	pstore_free(ps);
	free(ps);
	zmq_close(sub);
	zmq_ctx_term(ctx);
	return 0;
}
