/* v9.c: NetFlow v9 wire layout (RFC 3954): header, template records, Count. */
#include "xpkt.h"

/*
 * v9 options templates name a scope by a scope type (RFC 3954 section 6.1:
 * 1 System, 2 Interface, 3 Line Card, 4 Cache, 5 Template), not by a field
 * type; our templates carry the IPFIX scope elements, so translate them.
 * Anything else is written as given.
 */
static uint16_t
v9_scope_type(uint16_t type)
{
	switch (type) {
	case 10: /* ingressInterface */
	case 14: /* egressInterface */
		return 2;
	case 141: /* lineCardId */
		return 3;
	case 144: /* exportingProcessId */
	case 149: /* observationDomainId */
		return 1;
	case 145: /* templateId */
		return 5;
	default:
		return type;
	}
}

/* Version, Count (v9_finish), sysUpTime, UNIX Secs, Sequence, Source ID */
void
v9_header(struct wbuf *w, uint32_t sys_uptime_ms, uint32_t unix_secs,
	  uint32_t sequence, uint32_t source_id)
{
	wbuf_put_u16(w, 9);
	wbuf_put_u16(w, 0);
	wbuf_put_u32(w, sys_uptime_ms);
	wbuf_put_u32(w, unix_secs);
	wbuf_put_u32(w, sequence);
	wbuf_put_u32(w, source_id);
}

/*
 * A template record (flowset 0): Template ID, Field Count, fields; or an
 * options template record (flowset 1): Template ID, Option Scope Length and
 * Option Length (bytes of the field definitions, 4 per field), scope
 * fields, option fields.
 */
void
v9_template(struct wbuf *w, const struct tmpl *t)
{
	wbuf_put_u16(w, t->id);
	if (t->n_scope == 0) {
		wbuf_put_u16(w, t->n_fields);
	} else {
		wbuf_put_u16(w, (uint16_t)(4 * t->n_scope));
		wbuf_put_u16(w, (uint16_t)(4 * (t->n_fields - t->n_scope)));
	}
	for (unsigned i = 0; i < t->n_fields; i++) {
		uint16_t type = t->f[i].type;

		wbuf_put_u16(w, i < t->n_scope ? v9_scope_type(type) : type);
		wbuf_put_u16(w, t->f[i].len);
	}
}

/* Count: every template, options template and data record in the packet */
void
v9_finish(struct wbuf *w, uint16_t count)
{
	wbuf_patch_u16(w, 2, count);
}
