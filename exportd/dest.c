/*
 * dest.c: what exportd does with a flow batch: checks it, finds its hosts
 * and their (host, observation domain) state, and packs its rows into the
 * open packet of each, with templates and options records before them
 * whenever they are due.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exportd.h"
#include "log.h"
#include "plan.h"
#include "util.h"

#define TMPL_ID_FIRST 258 /* 256 and 257 are exportd's options templates */

const char *
bad_name(enum xd_bad why)
{
	static const char *names[BAD_MAX] = {
		"too-big", "decode", "version", "empty", "frames",
		"not-a-batch", "template-id", "field-count", "field",
		"row-len", "n-rows", "rows", "host-count", "address",
		"port", "dscp", "source", "clock", "seq", "slot", "string",
	};

	return (unsigned)why < BAD_MAX ? names[why] : "unknown";
}

int
xd_parse_addr(const char *s, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (s == NULL || port > 65535)
		return -1;
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	return -1;
}

static enum xd_bad
host_check(const Netstream__Host *h)
{
	struct sockaddr_storage a, s;
	socklen_t len;

	/* a file host: an absolute path, IPFIX only, nothing else */
	if (h->file != NULL && h->file[0] != '\0')
		return h->file[0] != '/' || strlen(h->file) >= XD_PATH_MAX ||
		    h->tcp || !h->ipfix ? BAD_ADDRESS : BAD_MAX;
	if (h->tcp && !h->ipfix)
		return BAD_ADDRESS; /* TCP is IPFIX's (RFC 7011 10.4) */
	if (xd_parse_addr(h->address, h->port, &a, &len) == -1)
		return BAD_ADDRESS;
	if (h->port < 1 || h->port > 65535)
		return BAD_PORT;
	if (h->dscp > 63)
		return BAD_DSCP;
	if (h->source_port > 65535 ||
	    (h->vpn_instance != NULL && strlen(h->vpn_instance) >= IFNAMSIZ))
		return BAD_SOURCE;
	if (h->source_address == NULL || h->source_address[0] == '\0')
		return BAD_MAX;
	if (xd_parse_addr(h->source_address, 0, &s, &len) == -1 ||
	    s.ss_family != a.ss_family)
		return BAD_SOURCE;
	return BAD_MAX;
}

void
xd_count_bad(struct exportd *xd, enum xd_bad why)
{
	if ((unsigned)why < BAD_MAX)
		xd->bad[why]++;
}

/*
 * Whether a batch from the PULL socket is exported: 1 when it passes
 * batch_check() and comes in its sender's order (ack_accept). One that
 * fails the check is counted and dropped; if it is tracked, with a seq
 * that fits, it still takes its place in that order and is acknowledged
 * as the others are, with the reason it was refused (a negative ack), so
 * its sender counts its rows as lost instead of waiting. Held back, it
 * would hold back every batch after it, its sender pushing it again and
 * again.
 */
int
batch_take(struct exportd *xd, const Netstream__FlowBatch *b)
{
	enum xd_bad why = batch_check(b);

	if (why == BAD_MAX)
		return ack_accept(xd, b);
	xd_count_bad(xd, why);
	if (b->epoch != 0 && b->seq >= 1 && b->seq <= XD_SEQ_MAX &&
	    b->slot <= XD_SLOT_MAX)
		ack_refused(xd, b, why, ack_accept(xd, b));
	return 0;
}

/* BAD_MAX when the batch may be used, else why not. */
enum xd_bad
batch_check(const Netstream__FlowBatch *b)
{
	unsigned sum = 0;
	enum xd_bad why;
	size_t i;

	if (b->slot > XD_SLOT_MAX)
		return BAD_SLOT; /* else any number would get hand-over state */
	if (b->template_id < TMPL_ID_FIRST || b->template_id > 65535)
		return BAD_TEMPLATE_ID;
	if (b->n_fields < 1 || b->n_fields > TMPL_MAX_FIELDS)
		return BAD_FIELDS;
	for (i = 0; i < b->n_fields; i++) {
		const Netstream__TemplateField *f = b->fields[i];

		if (f->type < 1 || f->type >= 0x8000 || f->len < 1 ||
		    f->len > XD_FIELD_MAX_LEN)
			return BAD_FIELD;
		sum += f->len;
	}
	/* xpkt refuses records under 4 bytes (set padding, see xpkt.c) */
	if (b->row_len != sum || sum < 4)
		return BAD_ROW_LEN;
	if (b->n_rows > XD_MAX_ROWS)
		return BAD_N_ROWS;
	if (b->rows.len != (size_t)b->n_rows * b->row_len)
		return BAD_ROWS;
	/*
	 * Any time a format may carry, and more (times.c clamps): only
	 * what no clock math could take is refused, and a boot after the
	 * export. A boot before the epoch is a wall clock set back.
	 */
	if (b->export_time_ms < 0 || b->export_time_ms > XD_CLOCK_MAX ||
	    b->sys_boot_ms < -XD_CLOCK_MAX ||
	    b->sys_boot_ms > b->export_time_ms)
		return BAD_CLOCK;
	/* a tracked batch counts from 1, and its seq must fit a mark */
	if (b->epoch != 0 && (b->seq < 1 || b->seq > XD_SEQ_MAX))
		return BAD_SEQ;
	if (b->n_hosts < 1 || b->n_hosts > XD_MAX_HOSTS)
		return BAD_HOSTS;
	/* strings go into options records: UTF-8 (RFC 7011 6.1.6), bounded */
	if ((b->interface != NULL && (strlen(b->interface) > XD_IFNAME_MAX ||
	    !utf8_valid(b->interface, strlen(b->interface), NULL))) ||
	    (b->interface_description != NULL &&
	    (strlen(b->interface_description) > XD_IFDESC_MAX ||
	    !utf8_valid(b->interface_description,
	    strlen(b->interface_description), NULL))))
		return BAD_STRING;
	for (i = 0; i < b->n_hosts; i++)
		if ((why = host_check(b->hosts[i])) != BAD_MAX)
			return why;
	return BAD_MAX;
}

const char *
xd_err_name(int err)
{
	static char buf[16];
	const char *n;

	if (err == XD_EQUEUE)
		return "queue-full";
	if (err == XD_ETOOBIG)
		return "record-too-big";
	if (err == 0)
		return "other";
	if ((n = strerrorname_np(err)) != NULL)
		return n;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

void
host_error(struct host *h, int err)
{
	size_t i;

	for (i = 0; i < XD_ERRS - 1; i++) {
		if (h->errs[i].n == 0)
			h->errs[i].err = err;
		if (h->errs[i].err == err)
			break;
	}
	if (i == XD_ERRS - 1 && h->errs[i].err != err)
		h->errs[i].err = 0; /* the last slot counts the rest */
	h->errs[i].n++;
}

/*
 * A packet to h was lost (a send error, an ICMP error, a full queue):
 * an ok host starts failing, and the log says so once.
 */
void
host_failed(struct host *h, int err)
{
	h->last_err = err;
	h->last_err_ms = mono_ms();
	if (h->failing)
		return;
	h->failing = 1;
	h->since_ms = now_ms();
	h->fail_pkts0 = h->failed_packets;
	h->fail_recs0 = h->failed_records;
	log_warnx("export host %s failing: %s (%s); its packets are counted "
	    "failed, not sent, until it gets them again", h->label,
	    err > 0 ? strerror(err) : xd_err_name(err), xd_err_name(err));
}

/*
 * A packet sent at sent_at (mono) had no error in XD_CONFIRM_MS: a
 * failing host whose packet left after its last failure is ok again.
 */
void
host_sent_ok(struct host *h, int64_t sent_at)
{
	if (!h->failing || sent_at <= h->last_err_ms)
		return;
	h->failing = 0;
	h->since_ms = now_ms() - (mono_ms() - sent_at);
	log_info("export host %s ok again: it gets its packets since %lld ms; "
	    "%llu packets (%llu flow records) were lost to %s meanwhile",
	    h->label, (long long)(mono_ms() - sent_at),
	    (unsigned long long)(h->failed_packets - h->fail_pkts0),
	    (unsigned long long)(h->failed_records - h->fail_recs0),
	    xd_err_name(h->last_err));
}

static void
host_label(struct host *h)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port;

	if (h->addr.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&h->addr;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&h->addr;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	}
	if (h->sock->stream == XS_FILE)
		snprintf(h->label, sizeof(h->label), "file:%.72s", h->sock->path);
	else
		snprintf(h->label, sizeof(h->label), "%s[%s]:%u",
		    h->sock->stream == XS_TCP ? "tcp:" : "", a, port);
}

struct host *
host_by_addr(struct exportd *xd, const struct xsock *s,
    const struct sockaddr_storage *a)
{
	size_t i;

	for (i = 0; i < xd->n_hosts; i++) {
		struct host *h = xd->hosts[i];

		if (h->sock == s && h->addr.ss_family == a->ss_family &&
		    memcmp(&h->addr, a, h->alen) == 0)
			return h;
	}
	return NULL;
}

/* The host's pace as the plan says (0 in a plan from before pacing). */
static void
host_pace(struct host *h, const Netstream__Host *m)
{
	unsigned pps = m->pace_pps ? m->pace_pps : PLAN_PACE_DEFAULT;

	h->pace_pps = pps < PLAN_PACE_MIN ? PLAN_PACE_MIN :
	    pps > PLAN_PACE_MAX ? PLAN_PACE_MAX : pps;
}

static struct host *
host_get(struct exportd *xd, const Netstream__Host *m)
{
	struct sockaddr_storage a;
	struct xsock *s;
	struct host *h;
	socklen_t len = 0;
	size_t i;

	/* checked; a file host has no address (its socket is its file) */
	if (xd_parse_addr(m->address, m->port, &a, &len) == -1) {
		memset(&a, 0, sizeof(a));
		len = 0;
	}
	s = sock_get(xd, m, a.ss_family);
	for (i = 0; i < xd->n_hosts; i++) {
		h = xd->hosts[i];
		if (h->sock == s && h->ipfix == (int)m->ipfix &&
		    memcmp(&h->addr, &a, len) == 0)
			break;
	}
	if (i < xd->n_hosts) {
		host_pace(h, m);
		return h;
	}
	h = xcalloc(1, sizeof(*h));
	h->addr = a;
	h->alen = len;
	h->ipfix = m->ipfix;
	h->sock = s;
	h->tokens = XD_PACE_BURST;
	h->pace_us = mono_us();
	h->since_ms = now_ms();
	host_pace(h, m);
	host_label(h);
	xd->hosts = xrealloc(xd->hosts, (xd->n_hosts + 1) * sizeof(*xd->hosts));
	xd->hosts[xd->n_hosts++] = h;
	log_info("exporting to %s (%s)", h->label, h->ipfix ? "ipfix" : "v9");
	return h;
}

static struct dest *
dest_get(struct exportd *xd, struct host *h, const Netstream__FlowBatch *b)
{
	struct dest *d;
	size_t i;

	for (i = 0; i < h->n_dests; i++)
		if (h->dests[i]->domain == b->slot)
			return h->dests[i];
	d = xcalloc(1, sizeof(*d));
	d->host = h;
	d->domain = b->slot;
	d->tmpl_up = d->opt_up = d->up =
	    b->export_time_ms - b->sys_boot_ms;
	ack_dest_init(xd, d);
	h->dests = xrealloc(h->dests, (h->n_dests + 1) * sizeof(*h->dests));
	h->dests[h->n_dests++] = d;
	return d;
}

/* The template of a batch (checked by batch_check). */
static void
batch_tmpl(const Netstream__FlowBatch *b, struct tmpl *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->id = (uint16_t)b->template_id;
	for (i = 0; i < b->n_fields; i++)
		tmpl_add_field(t, (uint16_t)b->fields[i]->type,
		    (uint16_t)b->fields[i]->len);
}

static int
tmpl_same(const struct tmpl *a, const struct tmpl *b)
{
	return a->n_fields == b->n_fields && a->n_scope == b->n_scope &&
	    memcmp(a->f, b->f, a->n_fields * sizeof(a->f[0])) == 0;
}

/* The dest's copy of template t; new or changed ones are sent at once. */
static struct dtmpl *
dtmpl_get(struct dest *d, const struct tmpl *t)
{
	struct dtmpl *dt;
	size_t i;

	for (i = 0; i < d->n_tmpls; i++) {
		dt = &d->tmpls[i];
		if (dt->t.id != t->id)
			continue;
		if (!tmpl_same(&dt->t, t)) {
			dt->t = *t;
			dt->need = 1;
			/* over a stream, an id is withdrawn before it is
			 * given another definition (RFC 7011 8.1) */
			dt->withdraw = d->host->sock->stream != 0;
		}
		return dt;
	}
	d->tmpls = xrealloc(d->tmpls, (d->n_tmpls + 1) * sizeof(*d->tmpls));
	dt = &d->tmpls[d->n_tmpls++];
	dt->t = *t;
	dt->need = 1;
	dt->withdraw = 0;
	return dt;
}

static void
options_due(struct dest *d)
{
	if (!d->need_options) {
		d->need_options = 1;
		d->opt_pos = 0;
	}
	d->opt_up = d->up;
}

static void
refresh_all(struct dest *d)
{
	size_t i;

	for (i = 0; i < d->n_tmpls; i++)
		d->tmpls[i].need = 1;
	options_due(d);
	d->tmpl_up = d->up;
	d->pkts_since_tmpl = 0;
}

/*
 * Timers run on the sender's uptime (export time less boot), which does
 * not step with the wall clock: in a replay the capture's time, live the
 * monotonic clock. An uptime that goes back (a new sender) restarts them.
 */
static void
timers(const struct exportd *xd, struct dest *d)
{
	int64_t tmo = (int64_t)xd->prm.tmpl_timeout_min * 60000;
	int64_t otmo = (int64_t)xd->prm.opt_timeout_s * 1000;

	/* templates go once per connection to a stream host (stream.c) */
	if (d->host->sock->stream)
		tmo = INT64_MAX / 2;
	if (d->up < d->tmpl_up - XD_UP_BACK_MS || d->up - d->tmpl_up >= tmo)
		refresh_all(d);
	else if (d->up < d->opt_up - XD_UP_BACK_MS ||
	    d->up - d->opt_up >= otmo)
		options_due(d);
}

static uint32_t
dest_seq(const struct dest *d)
{
	if (d->host->ipfix)
		return (uint32_t)d->records; /* options data records count */
	return (uint32_t)(d->seq_flow ? d->flows : d->packets);
}

/*
 * A collector places a v9 flow at UNIX Secs * 1000 - sysUpTime + its
 * uptime ms. UNIX Secs is whole seconds, so the header is stamped as of
 * the next whole second, sysUpTime with it: the boot time a collector
 * works out is then exact, and with it every flow time (they were early
 * by the export time's fraction of a second in nfdump, nfacctd and
 * tshark). Rounded up, not down, so that sysUpTime is never below a
 * flow's last-switched: nfacctd takes their difference unsigned.
 */
static void
dest_header(struct dest *d, struct wbuf *w)
{
	int clamped;
	uint32_t secs = times_header_secs(d->clock, d->host->ipfix, &clamped);
	int64_t up = (int64_t)secs * 1000 - d->pboot;

	/* past 2106: the last second 32 bits hold (counted) */
	d->host->times_clamped += (unsigned)clamped;
	if (up > (int64_t)UINT32_MAX)
		up = UINT32_MAX;
	if (d->host->ipfix)
		ipfix_header(w, secs, dest_seq(d), d->domain);
	else
		v9_header(w, up < 0 ? 0 : (uint32_t)up, secs, dest_seq(d),
		    d->domain);
}

static void
pkt_open(struct exportd *xd, struct dest *d)
{
	unsigned n = xd->prm.tmpl_refresh_pkts;
	struct out *o = out_get(xd, xd->prm.mtu);

	o->host = d->host;
	o->n_tst = o->n_flows = o->n_tmpl = o->n_opt = 0;
	o->dest = NULL;
	d->o = o;
	/* xpkt writes the header; dest_close() rewrites it with the clock */
	xpkt_begin(&d->x, d->host->ipfix ? XPKT_IPFIX : XPKT_V9, o->buf,
	    xd->prm.mtu, 0, 0, 0, 0);
	d->opened_ms = mono_ms();
	d->opened_clock = d->clock;
	d->pboot = times_pkt_boot(d->clock, d->boot);
	if (n > 0 && d->pkts_since_tmpl >= n && !d->host->sock->stream)
		refresh_all(d);
}

static void
dest_close(struct exportd *xd, struct dest *d)
{
	struct out *o = d->o;
	struct wbuf w;

	if (o == NULL)
		return;
	d->o = NULL;
	if (xpkt_records(&d->x) == 0) {
		out_put(xd, o);
		return;
	}
	wbuf_init(&w, o->buf, d->host->ipfix ? IPFIX_HDR_LEN : V9_HDR_LEN);
	dest_header(d, &w);
	o->len = xpkt_finish(&d->x);
	o->n_flows = d->n_flows;
	d->flows += d->n_flows;
	d->n_flows = 0;
	d->packets++;
	d->records += xpkt_data_records(&d->x);
	d->pkts_since_tmpl++;
	o->dest = d;
	o->epoch = d->xs->epoch;
	o->mark = d->added;
	o->seq_packets = d->packets;
	o->seq_flows = d->flows;
	o->seq_records = d->records;
	d->inflight++;
	send_packet(xd, o);
}

/* Puts what is due before the next data record: -1 when it did not fit. */
static int
emit_pending(struct dest *d)
{
	size_t i, n;

	for (i = 0; i < d->n_tmpls; i++) {
		if (!d->tmpls[i].need)
			continue;
		if (d->tmpls[i].withdraw) {
			if (xpkt_add_withdrawal(&d->x, d->tmpls[i].t.id, 0) == -1)
				return -1;
			d->tmpls[i].withdraw = 0;
		}
		if (xpkt_add_template(&d->x, &d->tmpls[i].t) == -1)
			return -1;
		d->tmpls[i].need = 0;
		d->o->n_tmpl++; /* the host's count once it is sent */
	}
	if (!d->need_options)
		return 0;
	for (n = options_items(d); d->opt_pos < n; d->opt_pos++) {
		if (options_put(&d->x, d, d->opt_pos) == -1)
			return -1;
		if (d->opt_pos < options_templates(d))
			d->o->n_tmpl++;
		else
			d->o->n_opt++;
	}
	d->need_options = 0;
	d->opt_pos = 0;
	return 0;
}

/* The packet carries data of template tst (exportd.tstats index). */
static void
note_tmpl(struct out *o, uint32_t tst)
{
	unsigned i;

	for (i = 0; i < o->n_tst; i++)
		if (o->tst[i] == tst)
			return;
	if (o->n_tst < XD_PKT_TMPLS)
		o->tst[o->n_tst++] = tst;
}

static void
add_row(struct exportd *xd, struct dest *d, const struct tmpl *t,
    uint32_t tst, const uint8_t *row)
{
	for (;;) {
		if (d->o == NULL)
			pkt_open(xd, d);
		if (emit_pending(d) == 0 && xpkt_add_data(&d->x, t, row) == 0) {
			d->n_flows++;
			note_tmpl(d->o, tst);
			return;
		}
		if (xpkt_records(&d->x) == 0)
			break; /* not even alone in a packet */
		dest_close(xd, d);
	}
	/* the host never gets it; the host itself is not at fault */
	host_error(d->host, XD_ETOOBIG);
	d->host->failed_records++;
}

/* How many of b's rows the persisted mark says were sent (ack.c). */
static uint32_t
rows_sent_before(const struct dest *d, const Netstream__FlowBatch *b)
{
	uint64_t seq = MARK_SEQ(d->skip);
	uint32_t rows = MARK_ROWS(d->skip);

	if (seq != b->seq)
		return seq > b->seq ? b->n_rows : 0;
	return (d->skip & 1) || rows > b->n_rows ? b->n_rows : rows;
}

/* A batch's template as v9 hosts get it, and as IPFIX hosts do. */
struct btmpl {
	struct tmpl t, ipfix;
	int convert; /* IPFIX rows are rewritten (ipfix_times) */
	uint32_t tst; /* its packet counters (exportd.tstats) */
};

static void
dest_add(struct exportd *xd, struct dest *d, const Netstream__FlowBatch *b,
    const struct btmpl *bt)
{
	uint8_t conv[TMPL_MAX_FIELDS * (XD_FIELD_MAX_LEN + 4)];
	int convert = d->host->ipfix && bt->convert;
	const struct tmpl *t = d->host->ipfix ? &bt->ipfix : &bt->t;
	const struct dtmpl *dt;
	uint32_t first;
	size_t i;

	/* a packet holds at most a second of export clock, so its header
	 * time says when its flows were exported, in a replay too; and
	 * rows of one boot, which its sysUpTime counts from */
	if (d->o != NULL && (b->export_time_ms < d->opened_clock ||
	    b->export_time_ms - d->opened_clock >= 1000 ||
	    b->sys_boot_ms != d->boot))
		dest_close(xd, d);
	d->clock = b->export_time_ms;
	d->boot = b->sys_boot_ms;
	d->up = b->export_time_ms - b->sys_boot_ms;
	d->seq_flow = b->sequence_flow;
	dt = dtmpl_get(d, t);
	if (options_note(d, b)) {
		/* from its start: the names template may have changed */
		d->need_options = 0;
		options_due(d);
	}
	timers(xd, d);
	/* a tracked batch pushed again: its rows an exportd before a
	 * restart had sent are not sent twice */
	first = b->epoch != 0 ? rows_sent_before(d, b) : 0;
	xd->rows_skipped += first;
	if (first > 0)
		d->added = mark_make(b->seq, first, first == b->n_rows);
	for (i = first; i < b->n_rows; i++) {
		const uint8_t *row = b->rows.data + i * b->row_len;

		if (d->o == NULL)
			pkt_open(xd, d); /* its boot, before its rows' times */
		if (convert || (!d->host->ipfix && bt->convert &&
		    !times_v9_as_is(b, d->pboot))) {
			d->host->times_clamped += times_row(&bt->t, row,
			    b->export_time_ms, b->sys_boot_ms, d->host->ipfix,
			    d->pboot, conv);
			row = conv;
		}
		add_row(xd, d, &dt->t, bt->tst, row);
		if (b->epoch != 0) /* what a packet closed next carries */
			d->added = mark_make(b->seq, (uint32_t)i + 1, 0);
	}
	if (b->epoch != 0)
		d->added = mark_make(b->seq, b->n_rows, 1);
}

static void
count_final(struct exportd *xd, uint32_t slot)
{
	size_t i;

	for (i = 0; i < xd->n_finals; i++)
		if (xd->finals[i].slot == slot)
			break;
	if (i == xd->n_finals) {
		xd->finals = xrealloc(xd->finals,
		    (xd->n_finals + 1) * sizeof(*xd->finals));
		xd->finals[i].slot = slot;
		xd->finals[i].n = 0;
		xd->n_finals++;
	}
	xd->finals[i].n++;
	xd->stats_now = 1;
}

/* Exports a batch that batch_check() accepted. */
void
dest_batch(struct exportd *xd, const Netstream__FlowBatch *b)
{
	struct btmpl bt;
	size_t i;

	batch_tmpl(b, &bt.t);
	bt.convert = ipfix_times(&bt.t, &bt.ipfix);
	if (bt.convert < 0) { /* cannot happen: the fields were checked */
		xd_count_bad(xd, BAD_FIELDS);
		return;
	}
	bt.tst = tstat_get(xd, bt.t.id, b->record);
	xd->batches++;
	xd->records_in += b->n_rows;
	for (i = 0; i < b->n_hosts; i++) {
		struct host *h = host_get(xd, b->hosts[i]);

		dest_add(xd, dest_get(xd, h, b), b, &bt);
	}
	if (b->final) {
		dest_close_all(xd, (int64_t)b->slot);
		send_flush_all(xd);
		count_final(xd, b->slot);
	}
}

/* Closes the packets open since XD_OPEN_MS before now. */
void
dest_close_old(struct exportd *xd, int64_t now)
{
	size_t i, j;

	for (i = 0; i < xd->n_hosts; i++)
		for (j = 0; j < xd->hosts[i]->n_dests; j++) {
			struct dest *d = xd->hosts[i]->dests[j];

			if (d->o != NULL && now - d->opened_ms >= XD_OPEN_MS)
				dest_close(xd, d);
		}
}

/* Closes the open packets of a domain, or of all when domain is -1. */
void
dest_close_all(struct exportd *xd, int64_t domain)
{
	size_t i, j;

	for (i = 0; i < xd->n_hosts; i++)
		for (j = 0; j < xd->hosts[i]->n_dests; j++) {
			struct dest *d = xd->hosts[i]->dests[j];

			if (domain < 0 || d->domain == (uint32_t)domain)
				dest_close(xd, d);
		}
}

/* When the oldest open packet must close (INT64_MAX: none is open). */
int64_t
dest_next_deadline(const struct exportd *xd)
{
	int64_t t = INT64_MAX;
	size_t i, j;

	for (i = 0; i < xd->n_hosts; i++)
		for (j = 0; j < xd->hosts[i]->n_dests; j++) {
			const struct dest *d = xd->hosts[i]->dests[j];

			if (d->o != NULL && d->opened_ms + XD_OPEN_MS < t)
				t = d->opened_ms + XD_OPEN_MS;
		}
	return t;
}

void
dest_free_all(struct exportd *xd)
{
	size_t i, j;

	for (i = 0; i < xd->n_hosts; i++) {
		struct host *h = xd->hosts[i];

		for (j = 0; j < h->n_dests; j++) {
			if (h->dests[j]->o != NULL)
				out_put(xd, h->dests[j]->o);
			free(h->dests[j]->tmpls);
			free(h->dests[j]->ifs);
			free(h->dests[j]);
		}
		free(h->dests);
		free(h->ring);
		free(h);
	}
	free(xd->hosts);
	free(xd->finals);
	xd->hosts = NULL;
	xd->n_hosts = 0;
}

/*
 * The sequence number a message of d's put before its queue carries: that
 * of the first message of d queued, or the next one when none is.
 */
static uint32_t
restart_seq(const struct dest *d)
{
	const struct out *o;

	for (o = d->host->sock->head; o != NULL; o = o->next)
		if (o->dest == d && o->len >= IPFIX_HDR_LEN)
			return (uint32_t)o->buf[8] << 24 | (uint32_t)o->buf[9] << 16 |
			    (uint32_t)o->buf[10] << 8 | o->buf[11];
	return dest_seq(d);
}

/* The open restart message of d goes out (before the queue). */
static void
restart_close(struct exportd *xd, struct dest *d, uint32_t seq)
{
	struct out *o = d->o;
	struct wbuf w;
	int c;

	d->o = NULL;
	if (xpkt_records(&d->x) == 0) {
		out_put(xd, o);
		return;
	}
	wbuf_init(&w, o->buf, IPFIX_HDR_LEN);
	ipfix_header(&w, times_header_secs(d->clock, 1, &c), seq, d->domain);
	o->len = xpkt_finish(&d->x);
	o->n_flows = 0;
	o->dest = NULL; /* no rows: nothing of the hand-over to mark */
	send_packet(xd, o);
}

/*
 * A stream host's new connection (or file): before anything queued, a
 * message with every template of each of its domains (no data record,
 * so the sequence numbers of the queue hold); the options records follow
 * in the next message built. Its open messages are closed first.
 */
void
dest_restart(struct exportd *xd, struct host *h)
{
	size_t i, k, n;

	for (i = 0; i < h->n_dests; i++)
		dest_close(xd, h->dests[i]);
	xd->front = h->sock;
	xd->front_last = NULL;
	for (i = 0; i < h->n_dests; i++) {
		struct dest *d = h->dests[i];
		uint32_t seq = restart_seq(d);

		n = options_templates(d);
		pkt_open(xd, d);
		for (k = 0; k < d->n_tmpls + n; k++) {
			int r = k < d->n_tmpls ?
			    xpkt_add_template(&d->x, &d->tmpls[k].t) :
			    options_put(&d->x, d, k - d->n_tmpls);

			if (r == -1 && xpkt_records(&d->x) > 0) {
				restart_close(xd, d, seq);
				pkt_open(xd, d);
				k--; /* again, in a message of its own */
			} else
				d->o->n_tmpl += r == 0;
		}
		restart_close(xd, d, seq);
		for (k = 0; k < d->n_tmpls; k++)
			d->tmpls[k].need = d->tmpls[k].withdraw = 0;
		d->need_options = 0;
		options_due(d);
	}
	xd->front = NULL;
	xd->front_last = NULL;
}
