/*
 * options.c: the options templates (256 sampler, 257 interface names;
 * IPFIX also 65280, 65281) and their records, for the interfaces whose
 * batches went to a (host, domain). Items of one refresh are numbered:
 * the templates first, then one sampler record per sampled interface
 * direction, then one name record per interface, so a refresh split over
 * packets resumes where it stopped.
 *
 * v9: sampler mode (element 49) 1 deterministic for fix-packets, 2 random
 * for random-packets; the interval (element 50) is 1 in N packets. The
 * data records of a sampled direction carry its sampler id (48), which
 * the options record maps to its interval. A fix-time sampler has no v9
 * record; its rows still carry its id, which no record maps to an
 * interval, so no collector scales them. A direction without a sampler
 * has no record. IPFIX: RFC 5477 selector reports (psamp_* below), and
 * data records carry selectorId (302) instead of 48 (ipfix.c).
 */
#include <string.h>

#include "exportd.h"
#include "fields.h"
#include "util.h"
#include "wbuf.h"

#define NAME_LEN 32 /* v9: interfaceName and -Description, fixed */

static const struct tmpl opt_sampler = {
	.id = XD_TMPL_OPT_SAMPLER,
	.n_fields = 5,
	.n_scope = 1,
	.rec_len = 4 + 1 + 1 + 4 + 1,
	.f = { { F_INPUT_IF, 4 }, { F_SAMPLER_ID, 1 }, { F_SAMPLER_MODE, 1 },
	    { F_SAMPLER_INTERVAL, 4 }, { F_DIRECTION, 1 } },
};

/* some interface of the dest has a description: 83 is in the template */
static int
has_desc(const struct dest *d)
{
	size_t i;

	for (i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].desc[0] != '\0')
			return 1;
	return 0;
}

/*
 * The interface names template of a (host, domain): IPFIX takes the
 * whole name (and description) as variable-length strings (RFC 7011
 * section 7); v9 has fixed fields only, 32 bytes each. interfaceDescription
 * (83) only when some interface of it has one.
 */
static void
ifname_tmpl(const struct dest *d, struct tmpl *t)
{
	uint16_t len = d->host->ipfix ? TMPL_VARLEN : NAME_LEN;

	memset(t, 0, sizeof(*t));
	t->id = XD_TMPL_OPT_IFNAME;
	t->n_scope = 1;
	tmpl_add_field(t, F_INPUT_IF, 4);
	tmpl_add_field(t, F_IF_NAME, len);
	if (has_desc(d))
		tmpl_add_field(t, F_IF_DESC, len);
}

/*
 * IPFIX selector reports (RFC 5476/5477; RFC 7270 deprecates 48-50), one
 * template per algorithm, scope selectorId (302, the id data records
 * carry). What collectors read of them (docs/interop.md) sets the rest:
 * - 34 (samplingInterval, deprecated, harmless) beside the PSAMP
 *   parameters: FastNetMon and pmacct read no 309/310, FastNetMon takes
 *   the last of 305 and 34 as its rate, nfdump the last of 34 and 306
 *   as its space: hence 305, 34, 306 in that order;
 * - 302 again as a non-scope field: nfdump 1.7.1 skips scope fields and
 *   matches data records' 302 with a non-scope one;
 * - 302 is 8 bytes, as pmacct reads it; ingressInterface and
 *   flowDirection say where the selector runs.
 * A time-based selector has no 34: no collector may scale by it.
 */
static const struct tmpl psamp_count = {
	.id = XD_TMPL_OPT_SAMPLER,
	.n_fields = 8,
	.n_scope = 1,
	.rec_len = 8 + 2 + 4 + 4 + 4 + 8 + 4 + 1,
	.f = { { F_SELECTOR_ID, 8 }, { F_SELECTOR_ALGORITHM, 2 },
	    { F_SAMPLING_PACKET_INTERVAL, 4 }, { F_SAMPLING_INTERVAL, 4 },
	    { F_SAMPLING_PACKET_SPACE, 4 }, { F_SELECTOR_ID, 8 },
	    { F_INPUT_IF, 4 }, { F_DIRECTION, 1 } },
};

static const struct tmpl psamp_random = {
	.id = XD_TMPL_OPT_RANDOM,
	.n_fields = 8,
	.n_scope = 1,
	.rec_len = 8 + 2 + 4 + 4 + 4 + 8 + 4 + 1,
	.f = { { F_SELECTOR_ID, 8 }, { F_SELECTOR_ALGORITHM, 2 },
	    { F_SAMPLING_SIZE, 4 }, { F_SAMPLING_POPULATION, 4 },
	    { F_SAMPLING_INTERVAL, 4 }, { F_SELECTOR_ID, 8 },
	    { F_INPUT_IF, 4 }, { F_DIRECTION, 1 } },
};

static const struct tmpl psamp_time = {
	.id = XD_TMPL_OPT_TIME,
	.n_fields = 7,
	.n_scope = 1,
	.rec_len = 8 + 2 + 4 + 4 + 8 + 4 + 1,
	.f = { { F_SELECTOR_ID, 8 }, { F_SELECTOR_ALGORITHM, 2 },
	    { F_SAMPLING_TIME_INTERVAL, 4 }, { F_SAMPLING_TIME_SPACE, 4 },
	    { F_SELECTOR_ID, 8 }, { F_INPUT_IF, 4 }, { F_DIRECTION, 1 } },
};

/* RFC 5475's selectorAlgorithm values */
#define PSAMP_SYSTEMATIC_COUNT 1
#define PSAMP_SYSTEMATIC_TIME 2
#define PSAMP_RANDOM_N_OF_N 3

/* options templates of a (host, domain): items 0.. of a refresh */
static size_t
n_templates(const struct dest *d)
{
	return d->host->ipfix ? 4 : 2;
}

/*
 * A direction whose sampler is announced: v9, one with a packet interval
 * (a collector reads 49/50 as 1 in N packets: nfacctd reported 1-in-100
 * for fix-time 100 ms); IPFIX, any, each with its own algorithm.
 */
static int
sampled(const struct dest *d, const struct iface *f, int dir)
{
	return f->has_dir[dir] &&
	    (f->mode[dir] == NETSTREAM__SAMPLER_MODE__FIX_PACKETS ||
	    f->mode[dir] == NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS ||
	    (d->host->ipfix &&
	    f->mode[dir] == NETSTREAM__SAMPLER_MODE__FIX_TIME));
}

static size_t
sampler_records(const struct dest *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->n_ifs; i++)
		n += (size_t)sampled(d, &d->ifs[i], 0) +
		    (size_t)sampled(d, &d->ifs[i], 1);
	return n;
}

size_t
options_items(const struct dest *d)
{
	return n_templates(d) + sampler_records(d) + d->n_ifs;
}

/* the items of a refresh that are templates (counted as such) */
size_t
options_templates(const struct dest *d)
{
	return n_templates(d);
}

static unsigned
wire_mode(unsigned mode)
{
	return mode == NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS ? 2 : 1;
}

/* An IPFIX selector report of f's sampler of dir, into w. */
static const struct tmpl *
psamp_row(struct wbuf *w, const struct iface *f, int dir)
{
	uint32_t n = f->value[dir] ? f->value[dir] : 1;
	const struct tmpl *t;

	wbuf_put_u64(w, f->sampler_id[dir]);
	switch (f->mode[dir]) {
	case NETSTREAM__SAMPLER_MODE__FIX_PACKETS:
		t = &psamp_count;
		wbuf_put_u16(w, PSAMP_SYSTEMATIC_COUNT);
		wbuf_put_u32(w, 1);	/* 305: one packet selected ... */
		wbuf_put_u32(w, n);	/* 34: 1 in N */
		wbuf_put_u32(w, n - 1); /* 306: ... then N - 1 skipped */
		break;
	case NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS:
		t = &psamp_random;
		wbuf_put_u16(w, PSAMP_RANDOM_N_OF_N);
		wbuf_put_u32(w, 1); /* 309: one packet ... */
		wbuf_put_u32(w, n); /* 310: ... of N */
		wbuf_put_u32(w, n); /* 34 */
		break;
	default:
		/* fix-time: the first packet of every N ms (microseconds) */
		t = &psamp_time;
		wbuf_put_u16(w, PSAMP_SYSTEMATIC_TIME);
		wbuf_put_u32(w, 1);
		wbuf_put_u32(w, n * 1000 - 1);
		break;
	}
	wbuf_put_u64(w, f->sampler_id[dir]);
	wbuf_put_u32(w, f->ifindex);
	wbuf_put_u8(w, (uint8_t)dir);
	return t;
}

static int
put_sampler(struct xpkt *x, const struct dest *d, size_t k)
{
	uint8_t row[40];
	struct wbuf w;
	size_t i;
	int dir;

	for (i = 0; i < d->n_ifs; i++)
		for (dir = 0; dir < 2; dir++) {
			const struct iface *f = &d->ifs[i];

			if (!sampled(d, f, dir) || k-- > 0)
				continue;
			wbuf_init(&w, row, sizeof(row));
			if (d->host->ipfix)
				return xpkt_add_data(x, psamp_row(&w, f, dir),
				    row);
			wbuf_put_u32(&w, f->ifindex);
			wbuf_put_u8(&w, (uint8_t)f->sampler_id[dir]);
			wbuf_put_u8(&w, (uint8_t)wire_mode(f->mode[dir]));
			wbuf_put_u32(&w, f->value[dir]);
			wbuf_put_u8(&w, (uint8_t)dir);
			return xpkt_add_data(x, &opt_sampler, row);
		}
	return 0; /* the list changed under a resumed refresh: skip */
}

/*
 * A string into the record: IPFIX, variable length, whole; v9, its 32
 * bytes cut at a character's end (never in the middle of one: the field
 * stays UTF-8), NUL-padded.
 */
static size_t
put_str(uint8_t *out, const char *s, int ipfix)
{
	size_t len = strlen(s), n;

	if (ipfix)
		return xpkt_put_varlen(out, s, len);
	n = utf8_cut(s, len, NAME_LEN);
	memcpy(out, s, n);
	memset(out + n, 0, NAME_LEN - n);
	return NAME_LEN;
}

static int
put_ifname(struct xpkt *x, const struct dest *d, const struct iface *f)
{
	uint8_t row[4 + 2 * (3 + XD_IFDESC_MAX)];
	struct tmpl t;
	size_t n;

	ifname_tmpl(d, &t);
	row[0] = (uint8_t)(f->ifindex >> 24);
	row[1] = (uint8_t)(f->ifindex >> 16);
	row[2] = (uint8_t)(f->ifindex >> 8);
	row[3] = (uint8_t)f->ifindex;
	n = 4 + put_str(row + 4, f->name, d->host->ipfix);
	if (t.n_fields == 3)
		n += put_str(row + n, f->desc, d->host->ipfix);
	return xpkt_add_data_len(x, &t, row, n);
}

/* Puts item i of the refresh (see the top of the file); -1: no room. */
int
options_put(struct xpkt *x, const struct dest *d, size_t i)
{
	static const struct tmpl *const psamp[] = { &psamp_random,
		&psamp_time };
	size_t ns = sampler_records(d);
	struct tmpl t;

	if (i == 0)
		return xpkt_add_template(x,
		    d->host->ipfix ? &psamp_count : &opt_sampler);
	if (i == 1) {
		ifname_tmpl(d, &t);
		return xpkt_add_template(x, &t);
	}
	if (i < n_templates(d))
		return xpkt_add_template(x, psamp[i - 2]);
	i -= n_templates(d);
	if (i < ns)
		return put_sampler(x, d, i);
	i -= ns;
	return i < d->n_ifs ? put_ifname(x, d, &d->ifs[i]) : 0;
}

static struct iface *
iface_get(struct dest *d, uint32_t ifindex, int *changed)
{
	size_t i;

	for (i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].ifindex == ifindex)
			return &d->ifs[i];
	d->ifs = xrealloc(d->ifs, (d->n_ifs + 1) * sizeof(*d->ifs));
	memset(&d->ifs[d->n_ifs], 0, sizeof(d->ifs[0]));
	d->ifs[d->n_ifs].ifindex = ifindex;
	*changed = 1;
	return &d->ifs[d->n_ifs++];
}

/* Remembers the batch's interface; 1 when the options records change. */
int
options_note(struct dest *d, const Netstream__FlowBatch *b)
{
	const Netstream__Sampler *s = b->sampler;
	int dir = b->direction == NETSTREAM__DIRECTION__OUTBOUND;
	unsigned mode = s ? s->mode : 0, value = s ? s->value : 0;
	unsigned id = s ? s->id : 0;
	const char *name = b->interface ? b->interface : "";
	const char *desc = b->interface_description ?
	    b->interface_description : "";
	struct iface *f;
	int changed = 0;

	if (b->ifindex == 0 && name[0] == '\0')
		return 0;
	f = iface_get(d, b->ifindex, &changed);
	if (strncmp(f->name, name, sizeof(f->name)) != 0 ||
	    strncmp(f->desc, desc, sizeof(f->desc)) != 0) {
		ns_strlcpy(f->name, name, sizeof(f->name));
		ns_strlcpy(f->desc, desc, sizeof(f->desc));
		changed = 1;
	}
	if (!f->has_dir[dir] || f->mode[dir] != mode ||
	    f->value[dir] != value || f->sampler_id[dir] != id) {
		f->has_dir[dir] = 1;
		f->mode[dir] = mode;
		f->value[dir] = value;
		f->sampler_id[dir] = id;
		changed = 1;
	}
	return changed;
}
