/*
 * cdecode.c: collector-side decoder of NetFlow v9 (RFC 3954) and IPFIX
 * (RFC 7011) packets: templates per exporter and domain, data and options
 * records handed to a callback, sequence and malformed-packet counters.
 * No sockets here, so a fuzz target can feed it bytes.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cdecode.h"
#include "util.h"
#include "wbuf.h"

#define CD_HASH 4096	   /* template hash buckets */
#define CD_MIN_DATA_ID 256 /* below: template and reserved set ids */
#define CD_VARLEN 0xffff
#define CD_LATE_WINDOW 65536 /* a sequence this far back is a late packet */

struct cd_tfield {
	uint16_t type, len; /* len CD_VARLEN: IPFIX variable length */
	uint32_t pen;
};

struct cd_tmpl {
	struct cd_tmpl *next;
	size_t src; /* index into st->src */
	uint16_t id;
	uint16_t n_fields, n_scope;
	int options;
	size_t min_len; /* fixed lengths plus one byte per varlen field */
	struct cd_tfield f[];
};

/* One packet being decoded. */
struct cd_pkt {
	struct cdecode *st;
	struct cdecode_source *s;
	size_t si;
	const struct sockaddr_storage *from;
	int version;
	uint32_t domain, seq, time;
	cdecode_cb cb;
	void *arg;
	unsigned records; /* template and data records: the v9 Count */
	unsigned data;	  /* data records: what IPFIX Sequence counts */
	unsigned flows;	  /* ... without options: what v9 flow mode counts */
	int skipped;	  /* a data set was skipped, so data is a lower bound */
};

static const char *const reason_names[CD_NREASONS] = {
    [CD_OK] = "ok",
    [CD_SHORT_HEADER] = "short_header",
    [CD_BAD_VERSION] = "bad_version",
    [CD_LENGTH] = "length_mismatch",
    [CD_SET_LENGTH] = "set_length",
    [CD_TMPL_ID] = "template_id",
    [CD_TMPL_NO_FIELDS] = "template_no_fields",
    [CD_TMPL_FIELD_LEN] = "template_field_length",
    [CD_TMPL_SCOPE] = "template_scope",
    [CD_TMPL_SHORT] = "template_short",
    [CD_RECORD_LEN] = "record_length",
};

const char *
cdecode_reason_name(int reason)
{
	if (reason < 0 || reason >= CD_NREASONS)
		return "unknown";
	return reason_names[reason];
}

void
cdecode_init(struct cdecode *st, unsigned flags)
{
	memset(st, 0, sizeof(*st));
	st->flags = flags;
	st->hash = xcalloc(CD_HASH, sizeof(*st->hash));
}

void
cdecode_free(struct cdecode *st)
{
	struct cd_tmpl *t, *next;

	for (size_t i = 0; st->hash != NULL && i < CD_HASH; i++)
		for (t = st->hash[i]; t != NULL; t = next) {
			next = t->next;
			free(t);
		}
	free(st->hash);
	free(st->src);
	memset(st, 0, sizeof(*st));
}

/* the same exporter address and port; other families compare equal */
static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		       memcmp(&a6->sin6_addr, &b6->sin6_addr,
			      sizeof(a6->sin6_addr)) == 0;
	return 1;
}

static ssize_t
source_index(const struct cdecode *st, const struct sockaddr_storage *from,
	     int version, uint32_t domain)
{
	const struct cdecode_source *s;

	if (st->last_src < st->n_src) {
		s = &st->src[st->last_src];
		if (s->version == version && s->domain == domain &&
		    same_addr(&s->addr, from))
			return (ssize_t)st->last_src;
	}
	for (size_t i = 0; i < st->n_src; i++) {
		s = &st->src[i];
		if (s->version == version && s->domain == domain &&
		    same_addr(&s->addr, from))
			return (ssize_t)i;
	}
	return -1;
}

const struct cdecode_source *
cdecode_find_source(const struct cdecode *st,
		    const struct sockaddr_storage *from, int version,
		    uint32_t domain)
{
	struct sockaddr_storage none = {0};
	ssize_t i =
	    source_index(st, from != NULL ? from : &none, version, domain);

	return i < 0 ? NULL : &st->src[i];
}

/* the source's index, added when new; -1 past CDECODE_MAX_SOURCES */
static ssize_t
source_get(struct cdecode *st, const struct sockaddr_storage *from, int version,
	   uint32_t domain)
{
	ssize_t i = source_index(st, from, version, domain);
	struct cdecode_source *s;

	if (i >= 0)
		return (ssize_t)(st->last_src = (size_t)i);
	if (st->n_src >= CDECODE_MAX_SOURCES)
		return -1;
	if (st->n_src == st->cap_src) {
		st->cap_src = st->cap_src ? 2 * st->cap_src : 8;
		st->src = xrealloc(st->src, st->cap_src * sizeof(*st->src));
	}
	s = &st->src[st->n_src];
	memset(s, 0, sizeof(*s));
	s->addr = *from;
	s->version = version;
	s->domain = domain;
	st->last_src = st->n_src;
	return (ssize_t)st->n_src++;
}

static struct cd_tmpl **
tmpl_slot(struct cdecode *st, size_t si, uint16_t id)
{
	size_t h = (si * 2654435761u + id) % CD_HASH;
	struct cd_tmpl **tp;

	for (tp = &st->hash[h]; *tp != NULL; tp = &(*tp)->next)
		if ((*tp)->src == si && (*tp)->id == id)
			break;
	return tp; /* the template's link, or the empty end of its chain */
}

static void
tmpl_unlink(struct cdecode *st, struct cd_tmpl **tp)
{
	struct cd_tmpl *t = *tp;

	*tp = t->next;
	st->src[t->src].active_templates--;
	st->n_templates--;
	free(t);
}

/* IPFIX withdrawal of one template, or of all data or options templates */
static void
tmpl_withdraw(struct cdecode *st, size_t si, int all, uint16_t id, int options)
{
	struct cd_tmpl **tp;

	if (!all) {
		tp = tmpl_slot(st, si, id);
		if (*tp != NULL)
			tmpl_unlink(st, tp);
		return;
	}
	for (size_t h = 0; h < CD_HASH; h++)
		for (tp = &st->hash[h]; *tp != NULL;)
			if ((*tp)->src == si && (*tp)->options == options)
				tmpl_unlink(st, tp);
			else
				tp = &(*tp)->next;
}

/* stores (or replaces) a parsed template; refused past the limits */
static void
tmpl_store(struct cdecode *st, size_t si, uint16_t id, int options,
	   unsigned n_fields, unsigned n_scope, const struct cd_tfield *f)
{
	struct cd_tmpl **tp = tmpl_slot(st, si, id), *t;

	if (n_fields > CDECODE_MAX_FIELDS ||
	    (*tp == NULL && st->n_templates >= CDECODE_MAX_TEMPLATES)) {
		st->templates_refused++;
		if (*tp != NULL) /* the old definition is no longer true */
			tmpl_unlink(st, tp);
		return;
	}
	if (*tp != NULL)
		tmpl_unlink(st, tp);
	t = xmalloc(sizeof(*t) + n_fields * sizeof(t->f[0]));
	t->src = si;
	t->id = id;
	t->n_fields = (uint16_t)n_fields;
	t->n_scope = (uint16_t)n_scope;
	t->options = options;
	t->min_len = 0;
	for (unsigned i = 0; i < n_fields; i++) {
		t->f[i] = f[i];
		t->min_len += f[i].len == CD_VARLEN ? 1 : f[i].len;
	}
	t->next = *tp; /* the rest of the chain, after an unlink */
	*tp = t;
	st->src[si].active_templates++;
	st->n_templates++;
}

/*
 * Reads n field specifiers into f (the first CDECODE_MAX_FIELDS of them).
 * IPFIX specifiers with the enterprise bit carry a 4-byte number.
 */
static int
read_fields(struct cd_pkt *pk, struct rbuf *r, unsigned n, struct cd_tfield *f)
{
	int ipfix = pk->version == 10;

	for (unsigned i = 0; i < n; i++) {
		uint16_t type = rbuf_get_u16(r), len = rbuf_get_u16(r);
		uint32_t pen = 0;

		if (ipfix && (type & 0x8000)) {
			pen = rbuf_get_u32(r);
			type &= 0x7fff;
		}
		if (r->failed)
			return CD_TMPL_SHORT;
		if (len == 0 || (!ipfix && len == CD_VARLEN))
			return CD_TMPL_FIELD_LEN;
		if (i < CDECODE_MAX_FIELDS) {
			f[i].type = type;
			f[i].len = len;
			f[i].pen = pen;
		}
	}
	return CD_OK;
}

/* v9 flowset 0 (templates) or 1 (options templates) */
static int
v9_templates(struct cd_pkt *pk, struct rbuf *set, int options)
{
	struct cd_tfield f[CDECODE_MAX_FIELDS];
	unsigned n, n_scope;
	int rc;

	/* less than a record header left is padding */
	while (rbuf_left(set) >= (options ? 6u : 4u)) {
		uint16_t id = rbuf_get_u16(set);

		if (options) {
			uint16_t scope_len = rbuf_get_u16(set);
			uint16_t opt_len = rbuf_get_u16(set);

			if (scope_len == 0 || scope_len % 4 || opt_len % 4)
				return CD_TMPL_SCOPE;
			n_scope = scope_len / 4u;
			n = n_scope + opt_len / 4u;
		} else {
			n_scope = 0;
			n = rbuf_get_u16(set);
		}
		if (id < CD_MIN_DATA_ID)
			return CD_TMPL_ID;
		if (n == 0)
			return CD_TMPL_NO_FIELDS;
		if ((rc = read_fields(pk, set, n, f)) != CD_OK)
			return rc;
		tmpl_store(pk->st, pk->si, id, options, n, n_scope, f);
		if (options)
			pk->s->options_templates++;
		else
			pk->s->templates++;
		pk->records++;
	}
	return CD_OK;
}

/* IPFIX set 2 (templates) or 3 (options templates), withdrawals included */
static int
ipfix_templates(struct cd_pkt *pk, struct rbuf *set, int options)
{
	struct cd_tfield f[CDECODE_MAX_FIELDS];
	unsigned n, n_scope = 0;
	int rc;

	while (rbuf_left(set) >= 4) {
		uint16_t id = rbuf_get_u16(set);

		n = rbuf_get_u16(set);
		if (n == 0) { /* RFC 7011 section 8.1 */
			uint16_t all_id = options ? 3 : 2;

			if (id != all_id && id < CD_MIN_DATA_ID)
				return CD_TMPL_ID;
			tmpl_withdraw(pk->st, pk->si, id == all_id, id,
				      options);
			pk->s->withdrawals++;
			continue;
		}
		if (id < CD_MIN_DATA_ID)
			return CD_TMPL_ID;
		if (options) {
			n_scope = rbuf_get_u16(set);
			if (set->failed)
				return CD_TMPL_SHORT;
			if (n_scope == 0 || n_scope > n)
				return CD_TMPL_SCOPE;
		}
		if ((rc = read_fields(pk, set, n, f)) != CD_OK)
			return rc;
		tmpl_store(pk->st, pk->si, id, options, n, n_scope, f);
		if (options)
			pk->s->options_templates++;
		else
			pk->s->templates++;
		pk->records++;
	}
	return CD_OK;
}

/* one record of t from the set into st->f; CD_RECORD_LEN when it overruns */
static int
data_record(struct cd_pkt *pk, struct rbuf *set, const struct cd_tmpl *t)
{
	struct cdecode_field *out = pk->st->f;

	for (unsigned i = 0; i < t->n_fields; i++) {
		size_t len = t->f[i].len;
		struct rbuf v;

		if (len == CD_VARLEN) { /* RFC 7011 section 7 */
			len = rbuf_get_u8(set);
			if (len == 255)
				len = rbuf_get_u16(set);
		}
		v = rbuf_sub(set, len);
		if (set->failed || v.failed)
			return CD_RECORD_LEN;
		out[i].type = t->f[i].type;
		out[i].len = (uint16_t)len;
		out[i].pen = t->f[i].pen;
		out[i].scope = i < t->n_scope;
		out[i].val = v.buf;
	}
	return CD_OK;
}

static int
data_set(struct cd_pkt *pk, struct rbuf *set, uint16_t id)
{
	const struct cd_tmpl *t = *tmpl_slot(pk->st, pk->si, id);
	struct cdecode_rec rec;
	int rc;

	if (t == NULL) {
		pk->s->no_template++;
		pk->skipped = 1;
		return CD_OK;
	}
	rec.from = pk->from;
	rec.version = pk->version;
	rec.domain = pk->domain;
	rec.seq = pk->seq;
	rec.time = pk->time;
	rec.tmpl_id = id;
	rec.options = t->options;
	rec.n_fields = t->n_fields;
	rec.f = pk->st->f;
	/* min_len >= 1: every field is at least one byte */
	while (rbuf_left(set) >= t->min_len) {
		if ((rc = data_record(pk, set, t)) != CD_OK)
			return rc;
		if (t->options)
			pk->s->options_records++;
		else {
			pk->s->data_records++;
			pk->flows++;
		}
		pk->records++;
		pk->data++;
		if (pk->cb != NULL)
			pk->cb(&rec, pk->arg);
	}
	/* padding is shorter than a record and than a set header */
	return rbuf_left(set) >= 4 ? CD_RECORD_LEN : CD_OK;
}

static int
walk_sets(struct cd_pkt *pk, struct rbuf *r)
{
	int v9 = pk->version == 9, rc = CD_OK;

	while (rc == CD_OK && rbuf_left(r) > 0) {
		uint16_t id = rbuf_get_u16(r), len = rbuf_get_u16(r);
		struct rbuf set;

		if (r->failed || len < 4 || len - 4u > rbuf_left(r))
			return CD_SET_LENGTH;
		set = rbuf_sub(r, len - 4u);
		if (id >= CD_MIN_DATA_ID)
			rc = data_set(pk, &set, id);
		else if (v9 && id <= 1)
			rc = v9_templates(pk, &set, id == 1);
		else if (!v9 && (id == 2 || id == 3))
			rc = ipfix_templates(pk, &set, id == 3);
		else
			pk->s->unknown_sets++;
	}
	return rc;
}

/* compares the header's Sequence with what the last packet announced */
static int
seq_check(struct cdecode_source *s, uint32_t seq)
{
	int64_t d;

	if (!s->seq_known)
		return 0;
	d = (int32_t)(seq - s->next_seq);
	if (d > 0) {
		s->seq_gaps++;
		s->seq_lost += (uint64_t)d;
	} else if (d < 0) {
		s->seq_ooo++;
	}
	return d < 0 && d > -CD_LATE_WINDOW;
}

/* what the next packet should carry, when this one says enough */
static void
seq_next(struct cd_pkt *pk, int complete)
{
	struct cdecode_source *s = pk->s;
	int by_records =
	    pk->version == 10 || (pk->st->flags & CDECODE_V9_FLOW_SEQ);

	if (by_records && (!complete || pk->skipped)) {
		s->seq_known = 0; /* records we could not count */
		return;
	}
	/* IPFIX counts every data record, v9 flow mode the flow records */
	s->next_seq = pk->seq + (pk->version == 10 ? pk->data :
	    by_records ? pk->flows : 1u);
	s->seq_known = 1;
}

static void
count_malformed(struct cdecode *st, struct cdecode_source *s, int reason)
{
	st->malformed[reason]++;
	if (s != NULL)
		s->malformed[reason]++;
}

/*
 * Decodes one UDP payload from an exporter: calls cb for every data and
 * options record, learns templates. Returns CD_OK, or the reason the
 * packet was malformed (counted; records before that point were delivered,
 * the rest of the packet is dropped).
 */
int
cdecode_packet(struct cdecode *st, const struct sockaddr_storage *from,
	       const uint8_t *p, size_t len, cdecode_cb cb, void *arg)
{
	static const struct sockaddr_storage none;
	struct cd_pkt pk = {.st = st, .cb = cb, .arg = arg};
	uint16_t count = 0, ipfix_len = 0;
	ssize_t si;
	struct rbuf r;
	int rc, late;

	pk.from = from != NULL ? from : &none;
	rbuf_init(&r, p, len);
	pk.version = rbuf_get_u16(&r);
	if (pk.version == 9) {
		count = rbuf_get_u16(&r);
		rbuf_skip(&r, 4); /* sysUpTime */
		pk.time = rbuf_get_u32(&r);
	} else if (pk.version == 10) {
		ipfix_len = rbuf_get_u16(&r);
		pk.time = rbuf_get_u32(&r);
	} else if (!r.failed) {
		count_malformed(st, NULL, CD_BAD_VERSION);
		return CD_BAD_VERSION;
	}
	pk.seq = rbuf_get_u32(&r);
	pk.domain = rbuf_get_u32(&r);
	if (r.failed) {
		count_malformed(st, NULL, CD_SHORT_HEADER);
		return CD_SHORT_HEADER;
	}
	si = source_get(st, pk.from, pk.version, pk.domain);
	if (si < 0) {
		st->sources_refused++;
		return CD_OK;
	}
	pk.si = (size_t)si;
	pk.s = &st->src[si];
	pk.s->packets++;
	if (pk.version == 10 && ipfix_len != len) {
		count_malformed(st, pk.s, CD_LENGTH);
		pk.s->seq_known = 0;
		return CD_LENGTH;
	}
	late = seq_check(pk.s, pk.seq);
	rc = walk_sets(&pk, &r);
	if (rc != CD_OK)
		count_malformed(st, pk.s, rc);
	else if (pk.version == 9 && !pk.skipped && pk.records != count)
		pk.s->count_mismatch++;
	if (!late)
		seq_next(&pk, rc == CD_OK);
	return rc;
}
