/* ipfix.c: IPFIX wire layout (RFC 7011): header, template records, Length. */
#include <string.h>

#include "fields.h"
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

/*
 * What IPFIX hosts get instead of sampled's v9 rows (DESIGN.md):
 * - times: sampled writes first/last-switched as v9 does, ms of sysUpTime
 *   (21/22, 4 bytes). An IPFIX collector cannot place them without
 *   systemInitTimeMilliseconds, which nfdump and nfacctd do not read, so
 *   IPFIX hosts get flowStartMilliseconds / flowEndMilliseconds (152/153,
 *   8 bytes, unix ms): the rows change (times.c: times_row);
 * - ICMP: v9's ICMP_TYPE (32) is icmpTypeCodeIPv4 in IPFIX; the same two
 *   bytes for an IPv6 flow are icmpTypeCodeIPv6 (139), the one nfdump's
 *   IPFIX reader takes. Only the template changes.
 * ipfix_times() makes the IPFIX template of a record; 1 when its rows
 * must be rewritten, else 0 (they go as they are).
 */
int
ipfix_times(const struct tmpl *in, struct tmpl *out)
{
	int changed = 0;

	*out = *in;
	out->n_fields = 0;
	out->rec_len = 0;
	for (unsigned i = 0; i < in->n_fields; i++) {
		struct tmpl_field f = in->f[i];

		if (i >= in->n_scope && f.len == 4 &&
		    (f.type == F_FIRST_SWITCHED || f.type == F_LAST_SWITCHED)) {
			f.type = f.type == F_FIRST_SWITCHED ?
			    IPFIX_FLOW_START_MS : IPFIX_FLOW_END_MS;
			f.len = 8;
			changed = 1;
		}
		if (i >= in->n_scope && f.type == F_ICMP_TYPE_CODE)
			f.type = F_ICMP_TYPE_CODE_V6;
		/* the sampler id as RFC 7270 says: selectorId, 8 bytes as
		 * pmacct reads it (options.c has the selector reports) */
		if (i >= in->n_scope && f.type == F_SAMPLER_ID && f.len <= 8) {
			f.type = F_SELECTOR_ID;
			f.len = 8;
			changed = 1;
		}
		if (tmpl_add_field(out, f.type, f.len) == -1)
			return -1;
	}
	return changed;
}
