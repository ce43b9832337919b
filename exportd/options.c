/*
 * options.c: the options templates (256 sampler, 257 interface names) and
 * their records, for the interfaces whose batches went to a (host, domain).
 * Items of one refresh are numbered: 0 and 1 the two templates, then one
 * sampler record per sampled interface direction, then one name record
 * per interface, so a refresh split over packets resumes where it stopped.
 *
 * Sampler mode (element 49): 1 deterministic for fix-packets, 2 random
 * for random-packets; the interval (element 50) is 1 in N packets. The
 * data records of a sampled direction carry its sampler id (48), which
 * the options record maps to its interval. A fix-time sampler has no
 * record: a collector reads 49/50 as 1 in N packets (nfacctd reported
 * 1-in-100 for fix-time 100 ms), and no packet interval is true of it;
 * its rows still carry its id, which no record maps to an interval, so
 * no collector scales them. A direction without a sampler has no record.
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

/* a direction whose sampler has a packet interval to announce */
static int
sampled(const struct iface *f, int dir)
{
	return f->has_dir[dir] &&
	    (f->mode[dir] == NETSTREAM__SAMPLER_MODE__FIX_PACKETS ||
	    f->mode[dir] == NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS);
}

static size_t
sampler_records(const struct dest *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->n_ifs; i++)
		n += (size_t)sampled(&d->ifs[i], 0) + (size_t)sampled(&d->ifs[i], 1);
	return n;
}

size_t
options_items(const struct dest *d)
{
	return 2 + sampler_records(d) + d->n_ifs;
}

static unsigned
wire_mode(unsigned mode)
{
	return mode == NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS ? 2 : 1;
}

static int
put_sampler(struct xpkt *x, const struct dest *d, size_t k)
{
	uint8_t row[16];
	struct wbuf w;
	size_t i;
	int dir;

	for (i = 0; i < d->n_ifs; i++)
		for (dir = 0; dir < 2; dir++) {
			const struct iface *f = &d->ifs[i];

			if (!sampled(f, dir) || k-- > 0)
				continue;
			wbuf_init(&w, row, sizeof(row));
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
	size_t ns = sampler_records(d);

	struct tmpl t;

	if (i == 0)
		return xpkt_add_template(x, &opt_sampler);
	if (i == 1) {
		ifname_tmpl(d, &t);
		return xpkt_add_template(x, &t);
	}
	i -= 2;
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
