/*
 * collect.c: `nsctl collect`, a small NetFlow v9 / IPFIX collector that
 * prints every record it receives, one line each, for demos, end-to-end
 * tests and users debugging an export. The decoding is lib/cdecode.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cdecode.h"
#include "fields.h"
#include "xpkt.h"
#include "nsctl.h"
#include "util.h"

#define COLLECT_RCVBUF (8 << 20) /* exporters send in bursts */

/* how a field's value is printed */
enum vfmt {
	V_INT, /* big-endian unsigned integer, when 1..8 bytes */
	V_ADDR,
	V_STR,
	V_HEX,
};

/* names of elements include/fields.h does not list (RFC 3954, IANA IPFIX) */
static const struct {
	uint16_t type;
	const char *name;
	enum vfmt fmt;
} extra_names[] = {
    {3, "flows", V_INT},
    {8, "ipv4-source-address", V_ADDR},
    {9, "ipv4-source-mask", V_INT},
    {12, "ipv4-destination-address", V_ADDR},
    {13, "ipv4-destination-mask", V_INT},
    {15, "ipv4-next-hop", V_ADDR},
    {18, "ipv4-bgp-next-hop", V_ADDR},
    {F_ICMP_TYPE_CODE, "icmp-type-code", V_INT},
    {F_SAMPLING_INTERVAL, "sampling-interval", V_INT},
    {F_SAMPLING_ALGORITHM, "sampling-algorithm", V_INT},
    {40, "total-bytes-exported", V_INT},
    {41, "total-packets-exported", V_INT},
    {42, "total-flows-exported", V_INT},
    {F_SAMPLER_ID, "sampler-id", V_INT},
    {F_SAMPLER_MODE, "sampler-mode", V_INT},
    {F_SAMPLER_INTERVAL, "sampler-interval", V_INT},
    {IPFIX_FLOW_START_MS, "flow-start-milliseconds", V_INT},
    {IPFIX_FLOW_END_MS, "flow-end-milliseconds", V_INT},
    {56, "source-mac", V_HEX},
    {57, "destination-mac-in", V_HEX},
    {60, "ip-version", V_INT},
    {80, "destination-mac", V_HEX},
    {81, "source-mac-out", V_HEX},
    {F_IF_NAME, "interface-name", V_STR},
    {F_IF_DESC, "interface-description", V_STR},
    {84, "sampler-name", V_STR},
    {130, "exporter-ipv4-address", V_ADDR},
    {131, "exporter-ipv6-address", V_ADDR},
    {139, "icmp-type-code-ipv6", V_INT},
    {144, "exporting-process-id", V_INT},
    {145, "template-id", V_INT},
    {148, "flow-id", V_INT},
    {149, "observation-domain-id", V_INT},
    {150, "flow-start-seconds", V_INT},
    {151, "flow-end-seconds", V_INT},
    {152, "flow-start-milliseconds", V_INT},
    {153, "flow-end-milliseconds", V_INT},
    {143, "metering-process-id", V_INT},
    {160, "system-init-time-milliseconds", V_INT},
    {304, "selector-algorithm", V_INT},
    {305, "sampling-packet-interval", V_INT},
    {306, "sampling-packet-space", V_INT},
};

/* v9 options scope types (RFC 3954 section 6.2) */
static const char *const v9_scope_names[] = {
    NULL,	   "scope-system",   "scope-interface", "scope-line-card",
    "scope-cache", "scope-template",
};

struct collect {
	struct cdecode dec;
	int json;
	long count;   /* -n: stop after this many data records, -1 none */
	long printed; /* data records printed */
	struct sbuf line;
};

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* a field's display name into buf, and how to print its value */
static const char *
field_name(const struct cdecode_field *f, int version, char *buf, size_t size,
	   enum vfmt *fmt)
{
	const struct field_def *d;

	*fmt = V_INT;
	if (f->pen != 0) {
		snprintf(buf, size, "e%u-%u", (unsigned)f->pen,
			 (unsigned)f->type);
		return buf;
	}
	if (f->scope && version == 9) {
		if (f->type < NELEM(v9_scope_names) &&
		    v9_scope_names[f->type] != NULL)
			return v9_scope_names[f->type];
		snprintf(buf, size, "scope-%u", (unsigned)f->type);
		return buf;
	}
	if ((d = field_by_id(f->type)) != NULL) {
		if (f->type == F_SRC_ADDR || f->type == F_DST_ADDR ||
		    f->type == F_NEXT_HOP || f->type == F_BGP_NEXT_HOP)
			*fmt = V_ADDR;
		return d->name;
	}
	for (size_t i = 0; i < NELEM(extra_names); i++)
		if (extra_names[i].type == f->type) {
			*fmt = extra_names[i].fmt;
			return extra_names[i].name;
		}
	snprintf(buf, size, "field-%u", (unsigned)f->type);
	return buf;
}

static void
put_hex(struct sbuf *b, const uint8_t *p, size_t n)
{
	sbuf_printf(b, "0x");
	for (size_t i = 0; i < n; i++)
		sbuf_printf(b, "%02x", p[i]);
}

/* a string value: escaped so that a line stays one token / valid JSON */
static void
put_str(struct sbuf *b, const uint8_t *p, size_t n, int json)
{
	/* IPFIX strings may be padded with NULs */
	while (n > 0 && p[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (json && (c == '"' || c == '\\'))
			sbuf_printf(b, "\\%c", c);
		else if (json && (c < 0x20 || c >= 0x7f))
			sbuf_printf(b, "\\u%04x", c);
		else if (!json && (c <= 0x20 || c >= 0x7f || c == '\\'))
			sbuf_printf(b, "\\x%02x", c);
		else
			sbuf_printf(b, "%c", c);
	}
}

static void
put_value(struct collect *c, const struct cdecode_field *f, enum vfmt fmt)
{
	struct sbuf *b = &c->line;
	char addr[INET6_ADDRSTRLEN];
	uint64_t v = 0;

	if (fmt == V_ADDR && (f->len == 4 || f->len == 16) &&
	    inet_ntop(f->len == 4 ? AF_INET : AF_INET6, f->val, addr,
		      sizeof(addr)) != NULL) {
		sbuf_printf(b, c->json ? "\"%s\"" : "%s", addr);
	} else if (fmt == V_STR) {
		sbuf_printf(b, c->json ? "\"" : "");
		put_str(b, f->val, f->len, c->json);
		sbuf_printf(b, c->json ? "\"" : "");
	} else if (fmt == V_INT && f->len >= 1 && f->len <= 8) {
		for (size_t i = 0; i < f->len; i++)
			v = v << 8 | f->val[i];
		sbuf_printf(b, "%llu", (unsigned long long)v);
	} else {
		sbuf_printf(b, c->json ? "\"" : "");
		put_hex(b, f->val, f->len);
		sbuf_printf(b, c->json ? "\"" : "");
	}
}

/* "192.0.2.1:40000" or "[2001:db8::1]:40000" */
static void
format_addr(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	const struct sockaddr_in *s4 = (const void *)ss;
	const struct sockaddr_in6 *s6 = (const void *)ss;
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET &&
	    inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)) != NULL)
		snprintf(buf, size, "%s:%u", a, ntohs(s4->sin_port));
	else if (ss->ss_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)) != NULL)
		snprintf(buf, size, "[%s]:%u", a, ntohs(s6->sin6_port));
	else
		snprintf(buf, size, "unknown");
}

/* the same name once more in a record gets "#2", "#3" ... */
static unsigned
name_repeat(const struct cdecode_rec *r, unsigned i, const char *name)
{
	unsigned n = 1;
	char buf[32];
	enum vfmt fmt;

	for (unsigned j = 0; j < i; j++)
		if (strcmp(field_name(&r->f[j], r->version, buf, sizeof(buf),
				      &fmt),
			   name) == 0)
			n++;
	return n;
}

static void
on_record(const struct cdecode_rec *r, void *arg)
{
	struct collect *c = arg;
	struct sbuf *b = &c->line;
	char exp[INET6_ADDRSTRLEN + 16], buf[32];
	const char *kind = r->options ? "options" : "data";

	if (c->count >= 0 && c->printed >= c->count)
		return;
	format_addr(r->from, exp, sizeof(exp));
	b->len = 0;
	b->s[0] = '\0';
	if (c->json)
		sbuf_printf(b,
			    "{\"type\":\"%s\",\"exporter\":\"%s\","
			    "\"version\":%d,\"domain\":%u,\"template\":%u,"
			    "\"seq\":%u,\"fields\":{",
			    kind, exp, r->version, r->domain, r->tmpl_id,
			    r->seq);
	else
		sbuf_printf(b,
			    "%s exporter=%s version=%d domain=%u template=%u",
			    kind, exp, r->version, r->domain, r->tmpl_id);
	for (unsigned i = 0; i < r->n_fields; i++) {
		enum vfmt fmt;
		const char *name =
		    field_name(&r->f[i], r->version, buf, sizeof(buf), &fmt);
		unsigned rep = name_repeat(r, i, name);

		if (c->json)
			sbuf_printf(b, "%s\"%s", i ? "," : "", name);
		else
			sbuf_printf(b, " %s", name);
		if (rep > 1)
			sbuf_printf(b, "#%u", rep);
		sbuf_printf(b, c->json ? "\":" : "=");
		put_value(c, &r->f[i], fmt);
	}
	sbuf_printf(b, c->json ? "}}\n" : "\n");
	fputs(b->s, stdout);
	if (!r->options)
		c->printed++;
}

/* the malformed counters that are not zero, as " name=N" or ,"name":N */
static void
put_malformed(struct sbuf *b, const uint64_t *m, int json)
{
	uint64_t total = 0;

	for (int i = 1; i < CD_NREASONS; i++)
		total += m[i];
	sbuf_printf(b, json ? ",\"malformed\":%llu" : " malformed=%llu",
		    (unsigned long long)total);
	for (int i = 1; i < CD_NREASONS; i++)
		if (m[i] != 0)
			sbuf_printf(b,
				    json ? ",\"malformed_%s\":%llu"
					 : " malformed_%s=%llu",
				    cdecode_reason_name(i),
				    (unsigned long long)m[i]);
}

static void
print_summary(struct collect *c)
{
	const struct cdecode *d = &c->dec;
	struct sbuf *b = &c->line;
	char exp[INET6_ADDRSTRLEN + 16];
	const char *fmt;

	for (size_t i = 0; i < d->n_src; i++) {
		const struct cdecode_source *s = &d->src[i];

		format_addr(&s->addr, exp, sizeof(exp));
		fmt = c->json
			  ? "{\"type\":\"summary\",\"exporter\":\"%s\","
			    "\"version\":%d,"
			    "\"domain\":%u,\"packets\":%llu,\"data_records\":%"
			    "llu,"
			    "\"options_records\":%llu,\"templates\":%llu,"
			    "\"options_templates\":%llu,\"withdrawals\":%llu,"
			    "\"seq_gaps\":%llu,\"seq_lost\":%llu,"
			    "\"seq_out_of_order\":%llu,\"no_template\":%llu,"
			    "\"unknown_sets\":%llu,\"count_mismatch\":%llu"
			  : "summary exporter=%s version=%d domain=%u "
			    "packets=%llu "
			    "data_records=%llu options_records=%llu "
			    "templates=%llu "
			    "options_templates=%llu withdrawals=%llu "
			    "seq_gaps=%llu "
			    "seq_lost=%llu seq_out_of_order=%llu "
			    "no_template=%llu "
			    "unknown_sets=%llu count_mismatch=%llu";
		b->len = 0;
		sbuf_printf(b, fmt, exp, s->version, s->domain,
			    (unsigned long long)s->packets,
			    (unsigned long long)s->data_records,
			    (unsigned long long)s->options_records,
			    (unsigned long long)s->templates,
			    (unsigned long long)s->options_templates,
			    (unsigned long long)s->withdrawals,
			    (unsigned long long)s->seq_gaps,
			    (unsigned long long)s->seq_lost,
			    (unsigned long long)s->seq_ooo,
			    (unsigned long long)s->no_template,
			    (unsigned long long)s->unknown_sets,
			    (unsigned long long)s->count_mismatch);
		put_malformed(b, s->malformed, c->json);
		sbuf_printf(b, c->json ? "}\n" : "\n");
		fputs(b->s, stdout);
	}
	b->len = 0;
	sbuf_printf(b,
		    c->json ? "{\"type\":\"summary\",\"exporter\":\"all\","
			      "\"sources\":%zu,\"templates_refused\":%llu,"
			      "\"sources_refused\":%llu"
			    : "summary exporter=all sources=%zu "
			      "templates_refused=%llu sources_refused=%llu",
		    d->n_src, (unsigned long long)d->templates_refused,
		    (unsigned long long)d->sources_refused);
	put_malformed(b, d->malformed, c->json);
	sbuf_printf(b, c->json ? "}\n" : "\n");
	fputs(b->s, stdout);
}

/* ::ffff:a.b.c.d from a dual-stack socket is the IPv4 exporter a.b.c.d */
static void
unmap_v4(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	if (ss->ss_family != AF_INET6)
		return;
	memcpy(&s6, ss, sizeof(s6));
	if (!IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr))
		return;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = s6.sin6_port;
	memcpy(&s4.sin_addr, &s6.sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &s4, sizeof(s4));
}

/* a UDP socket bound to addr (NULL: [::] dual-stack, or 0.0.0.0) */
static int
open_socket(const char *addr, const char *port)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, off = 0, rcvbuf = COLLECT_RCVBUF, e;
	char name[INET6_ADDRSTRLEN + 16];

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_family = addr == NULL ? AF_INET6 : AF_UNSPEC;
	e = getaddrinfo(addr != NULL ? addr : "::", port, &hints, &res);
	if (e != 0 && addr == NULL) {
		hints.ai_family = AF_INET;
		e = getaddrinfo("0.0.0.0", port, &hints, &res);
	}
	if (e != 0) {
		fprintf(stderr, "nsctl: collect: bad address %s port %s: %s\n",
			addr != NULL ? addr : "::", port, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd == -1)
			continue;
		/* [::] takes IPv4 exporters too */
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
				   sizeof(off));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		fprintf(stderr, "nsctl: collect: bind %s port %s: %s\n",
			addr != NULL ? addr : "::", port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		format_addr(&ss, name, sizeof(name));
		fprintf(stderr, "nsctl: collect: listening on udp %s\n", name);
	}
	return fd;
}

/* reads every queued datagram; returns how many */
static int
drain(struct collect *c, int fd)
{
	static uint8_t pkt[65536];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	int got = 0;

	while (c->count < 0 || c->printed < c->count) {
		fl = sizeof(from);
		memset(&from, 0, sizeof(from));
		n = recvfrom(fd, pkt, sizeof(pkt), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		unmap_v4(&from);
		cdecode_packet(&c->dec, &from, pkt, (size_t)n, on_record, c);
		got++;
	}
	return got;
}

static void
collect_usage(void)
{
	fprintf(stderr, "usage: nsctl collect -p PORT [-b ADDR] [--json] "
			"[-n COUNT] [-t IDLE_SECONDS] [--summary] "
			"[--v9-flow-seq]\n");
	exit(EXIT_USAGE);
}

int
cmd_collect(struct nsctl *n, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"summary", no_argument, NULL, 's'},
	    {"v9-flow-seq", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct collect c;
	const char *port = NULL, *bind_addr = NULL;
	int ch, fd, summary = 0;
	unsigned flags = 0;
	double idle = -1;
	int64_t last;
	struct sigaction sa;
	char *end;

	(void)n;
	memset(&c, 0, sizeof(c));
	c.count = -1;
	while ((ch = getopt_long(argc, argv, "p:b:n:t:", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'p':
			port = optarg;
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'n':
			c.count = strtol(optarg, &end, 10);
			if (*end != '\0' || c.count < 0)
				collect_usage();
			break;
		case 't':
			idle = strtod(optarg, &end);
			if (*end != '\0' || idle < 0)
				collect_usage();
			break;
		case 'j':
			c.json = 1;
			break;
		case 's':
			summary = 1;
			break;
		case 'f':
			flags |= CDECODE_V9_FLOW_SEQ;
			break;
		default:
			collect_usage();
		}
	}
	if (port == NULL || optind != argc)
		collect_usage();
	if ((fd = open_socket(bind_addr, port)) == -1)
		return EXIT_INVALID;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	cdecode_init(&c.dec, flags);
	sbuf_init(&c.line);

	last = mono_ms();
	while (!stop_flag && (c.count < 0 || c.printed < c.count)) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t wait = 500;

		if (idle >= 0) {
			wait = last + (int64_t)(idle * 1000) - mono_ms();
			if (wait <= 0)
				break;
			if (wait > 500)
				wait = 500;
		}
		if (poll(&pfd, 1, (int)wait) > 0 && drain(&c, fd) > 0)
			last = mono_ms();
	}
	if (summary)
		print_summary(&c);
	fflush(stdout);
	close(fd);
	sbuf_free(&c.line);
	cdecode_free(&c.dec);
	return 0;
}
