/*
 * layout.c: a record's data template: its match fields, then its collect
 * fields, then the AS and BGP next hop fields the export version adds,
 * then ICMP_TYPE when it tells ICMPv6 flows apart, then the sampler id
 * when the record is applied where a sampler is.
 * sampled writes rows in this layout and exportd announces it, so both
 * take it from here.
 */
#include "fields.h"
#include "layout.h"

int
layout_has(const struct tmpl *t, unsigned type)
{
	unsigned i;

	for (i = 0; i < t->n_fields; i++)
		if (t->f[i].type == type)
			return 1;
	return 0;
}

static int
add(struct tmpl *t, unsigned type, int if32)
{
	unsigned len = field_len(type, if32);

	if (len == 0 || t->n_fields >= TMPL_MAX_FIELDS ||
	    layout_has(t, type) || t->rec_len + len > LAYOUT_MAX_ROW)
		return -1;
	t->f[t->n_fields].type = (uint16_t)type;
	t->f[t->n_fields].len = (uint16_t)len;
	t->n_fields++;
	t->rec_len = (uint16_t)(t->rec_len + len);
	return 0;
}

/* 1 when the record's rows carry ICMP_TYPE (32), see layout_record() */
int
layout_icmp(const Netstream__Record *r)
{
	int proto = 0, dport = 0;
	size_t i;

	for (i = 0; i < r->n_match; i++) {
		proto |= r->match[i] == F_PROTOCOL;
		dport |= r->match[i] == F_DST_PORT;
	}
	return proto && dport;
}

int
layout_record(const Netstream__Plan *p, const Netstream__Record *r,
    struct tmpl *t)
{
	size_t i;
	int if32 = p->interface_32bit;

	t->id = (uint16_t)r->template_id;
	t->n_fields = t->n_scope = t->rec_len = 0;
	for (i = 0; i < r->n_match; i++)
		if (add(t, r->match[i], if32) == -1)
			return -1;
	for (i = 0; i < r->n_collect; i++)
		if (add(t, r->collect[i], if32) == -1)
			return -1;
	/*
	 * ICMPv6 type and code are in destination-port (type * 256 + code),
	 * where nfdump 1.7 does not look for ICMP flows: it zeroes the port
	 * of a v9 ICMP flow unless ICMP_TYPE (32) is there too. A record
	 * that tells ICMPv6 flows apart (protocol and destination-port)
	 * carries 32 as well; exportd names it 139 for IPFIX hosts.
	 */
	if (layout_icmp(r) && add(t, F_ICMP_TYPE_CODE, if32) == -1)
		return -1;
	if (p->export_as != 0) {
		if (!layout_has(t, F_SRC_AS))
			add(t, F_SRC_AS, if32);
		if (!layout_has(t, F_DST_AS))
			add(t, F_DST_AS, if32);
	}
	if (p->bgp_nexthop && !layout_has(t, F_BGP_NEXT_HOP))
		add(t, F_BGP_NEXT_HOP, if32);
	/* applied to a sampled interface direction: which sampler picked */
	if (r->sampler_id && add(t, F_SAMPLER_ID, if32) == -1)
		return -1;
	return 0;
}
