/* xpkt.c: export packet builder shared by v9 and IPFIX: sets, padding, MTU. */
#include <string.h>

#include "xpkt.h"

/* Appends a field and keeps rec_len in step; -1 when the template is full. */
int
tmpl_add_field(struct tmpl *t, uint16_t type, uint16_t len)
{
	uint16_t least = len == TMPL_VARLEN ? 1 : len;

	if (t->n_fields >= TMPL_MAX_FIELDS || least > UINT16_MAX - t->rec_len)
		return -1;
	t->f[t->n_fields].type = type;
	t->f[t->n_fields].len = len;
	t->n_fields++;
	t->rec_len = (uint16_t)(t->rec_len + least);
	return 0;
}

/*
 * A variable-length value as IPFIX writes it (RFC 7011 section 7): a
 * length byte, or 255 and two length bytes from 255 on. Returns the bytes
 * written to out (len + 1 or len + 3); len is at most 65532.
 */
size_t
xpkt_put_varlen(uint8_t *out, const void *val, size_t len)
{
	size_t h = 1;

	if (len < 255)
		out[0] = (uint8_t)len;
	else {
		out[0] = 255;
		out[1] = (uint8_t)(len >> 8);
		out[2] = (uint8_t)len;
		h = 3;
	}
	memcpy(out + h, val, len);
	return h + len;
}

/*
 * 0 when the template can be exported. Records shorter than 4 bytes are
 * refused so that the (at most 3) padding bytes of a set are always shorter
 * than one of its records, as RFC 7011 section 3.3.1 requires and as v9
 * collectors assume too; no netstreamd record is that short.
 */
int
tmpl_check(const struct tmpl *t)
{
	unsigned sum = 0;

	if (t->id < XPKT_MIN_DATA_SET_ID || t->n_fields == 0 ||
	    t->n_fields > TMPL_MAX_FIELDS || t->n_scope >= t->n_fields)
		return -1;
	for (unsigned i = 0; i < t->n_fields; i++) {
		/* 0x8000: enterprise bit; a variable length counts 1 */
		if (t->f[i].type == 0 || t->f[i].type >= 0x8000 ||
		    t->f[i].len == 0)
			return -1;
		sum += t->f[i].len == TMPL_VARLEN ? 1 : t->f[i].len;
	}
	if (sum != t->rec_len || sum < 4)
		return -1;
	return 0;
}

void
xpkt_begin(struct xpkt *x, int format, uint8_t *buf, size_t mtu,
	   uint32_t sys_uptime_ms, uint32_t unix_secs, uint32_t sequence,
	   uint32_t domain)
{
	x->format = format;
	wbuf_init(&x->w, buf, mtu < XPKT_MAX_LEN ? mtu : XPKT_MAX_LEN);
	x->set_id = -1;
	x->set_off = 0;
	x->n_records = 0;
	x->n_data = 0;
	if (format == XPKT_V9)
		v9_header(&x->w, sys_uptime_ms, unix_secs, sequence, domain);
	else if (format == XPKT_IPFIX)
		ipfix_header(&x->w, unix_secs, sequence, domain);
	else
		x->w.overflow = 1; /* no such format: nothing will fit */
}

/*
 * Pads the open set with zeros and writes its Length. IPFIX template and
 * options template sets are not padded: padding is optional (RFC 7011
 * section 3.3.1), and some readers (python3-ipfix) take the 2 bytes
 * after an options template record for another record.
 */
static void
set_close(struct xpkt *x)
{
	if (x->set_id < 0)
		return;
	if (x->format != XPKT_IPFIX || x->set_id >= XPKT_MIN_DATA_SET_ID)
		wbuf_pad4(&x->w, x->set_off);
	wbuf_patch_u16(&x->w, x->set_off + 2,
		       (uint16_t)(x->w.len - x->set_off));
	x->set_id = -1;
}

/*
 * Makes set id the open one, closing another that is open; a new set of
 * the same id when alone is set (one record per set).
 */
static void
set_open(struct xpkt *x, uint16_t id, int alone)
{
	if (x->set_id == id && !alone)
		return;
	set_close(x);
	x->set_off = x->w.len;
	wbuf_put_u16(&x->w, id);
	wbuf_reserve(&x->w, 2); /* Length, written by set_close() */
	x->set_id = id;
}

/*
 * Keeps what was appended since *saved when it fits with the padding the
 * open set will need at its close; otherwise puts the packet back as it
 * was. Bytes past the restored length may have changed; they are not part
 * of the packet and a set's Length is always rewritten when it closes.
 */
static int
commit(struct xpkt *x, const struct xpkt *saved)
{
	size_t pad = x->format == XPKT_IPFIX &&
	    x->set_id < XPKT_MIN_DATA_SET_ID ? 0 :
	    pad4_len(x->w.len - x->set_off);

	if (!x->w.overflow && pad <= wbuf_left(&x->w))
		return 0;
	*x = *saved;
	return -1;
}

int
xpkt_add_template(struct xpkt *x, const struct tmpl *t)
{
	struct xpkt saved = *x;
	int v9 = x->format == XPKT_V9;

	if (tmpl_check(t) < 0 || x->n_records == UINT16_MAX)
		return -1;
	for (unsigned i = 0; v9 && i < t->n_fields; i++)
		if (t->f[i].len == TMPL_VARLEN)
			return -1; /* v9 has no variable length */
	/*
	 * One options template per set: pmacct 1.7 and nfdump 1.7 read only
	 * the first record of an options template set (RFC 3954 and 7011
	 * allow several, but a collector that drops the rest loses every
	 * options record of the later templates).
	 */
	if (t->n_scope > 0)
		set_open(x, v9 ? V9_SET_OPTIONS : IPFIX_SET_OPTIONS, 1);
	else
		set_open(x, v9 ? V9_SET_TEMPLATE : IPFIX_SET_TEMPLATE, 0);
	if (v9)
		v9_template(&x->w, t);
	else
		ipfix_template(&x->w, t);
	if (commit(x, &saved) < 0)
		return -1;
	x->n_records++;
	return 0;
}

/*
 * A template withdrawal (IPFIX over a stream, RFC 7011 8.1): the id with
 * a field count of 0, in a template set (options: an options template
 * set), before the id is given another definition.
 */
int
xpkt_add_withdrawal(struct xpkt *x, uint16_t id, int options)
{
	struct xpkt saved = *x;

	if (x->format != XPKT_IPFIX || id < XPKT_MIN_DATA_SET_ID ||
	    x->n_records == UINT16_MAX)
		return -1;
	set_open(x, options ? IPFIX_SET_OPTIONS : IPFIX_SET_TEMPLATE, 0);
	wbuf_put_u16(&x->w, id);
	wbuf_put_u16(&x->w, 0);
	if (commit(x, &saved) < 0)
		return -1;
	x->n_records++;
	return 0;
}

int
xpkt_add_data(struct xpkt *x, const struct tmpl *t, const uint8_t *row)
{
	return xpkt_add_data_len(x, t, row, t->rec_len);
}

/* A record of len bytes: more than rec_len when it has varlen fields. */
int
xpkt_add_data_len(struct xpkt *x, const struct tmpl *t, const uint8_t *row,
		  size_t len)
{
	struct xpkt saved = *x;

	if (t->id < XPKT_MIN_DATA_SET_ID || t->rec_len < 4 ||
	    len < t->rec_len || x->n_records == UINT16_MAX)
		return -1;
	set_open(x, t->id, 0);
	wbuf_put_bytes(&x->w, row, len);
	if (commit(x, &saved) < 0)
		return -1;
	x->n_records++;
	x->n_data++;
	return 0;
}

/*
 * Closes the open set and writes the header's Count (v9) or Length
 * (IPFIX). Returns the packet length, or 0 when not even the header fit.
 * Adding more records afterwards and finishing again is allowed.
 */
size_t
xpkt_finish(struct xpkt *x)
{
	set_close(x);
	if (x->format == XPKT_V9)
		v9_finish(&x->w, x->n_records);
	else
		ipfix_finish(&x->w);
	return x->w.overflow ? 0 : x->w.len;
}
