/* ipfix.c: IPFIX wire layout (RFC 7011): header, template records, Length. */
#include "xpkt.h"

/* Version, Length (patched by ipfix_finish), Export Time, Sequence, Domain */
void
ipfix_header(struct wbuf *w, uint32_t export_time, uint32_t sequence,
	     uint32_t domain)
{
	wbuf_put_u16(w, 10);
	wbuf_put_u16(w, 0);
	wbuf_put_u32(w, export_time);
	wbuf_put_u32(w, sequence);
	wbuf_put_u32(w, domain);
}

/*
 * A template record (set 2): Template ID, Field Count, fields; or an
 * options template record (set 3): Template ID, Field Count (scope fields
 * included), Scope Field Count, scope fields then the others (RFC 7011
 * section 3.4.2.2). No enterprise bit: every element is IANA's.
 */
void
ipfix_template(struct wbuf *w, const struct tmpl *t)
{
	wbuf_put_u16(w, t->id);
	wbuf_put_u16(w, t->n_fields);
	if (t->n_scope > 0)
		wbuf_put_u16(w, t->n_scope);
	for (unsigned i = 0; i < t->n_fields; i++) {
		wbuf_put_u16(w, t->f[i].type);
		wbuf_put_u16(w, t->f[i].len);
	}
}

/* Length: the whole message, header included */
void
ipfix_finish(struct wbuf *w)
{
	wbuf_patch_u16(w, 2, (uint16_t)w->len);
}
