/*
 * fields.c: writes one flow field in wire format, from a packet (building
 * a flow key) or from a finished flow (the collect part of a row).
 */
#include <netinet/in.h>
#include <string.h>

#include "fields.h"
#include "sampled_fields.h"

static void
put_be(uint8_t *out, uint64_t v, unsigned len)
{
	while (len > 0) {
		out[--len] = (uint8_t)v;
		v >>= 8;
	}
}

#define AS_TRANS 23456 /* RFC 6793: a 4-byte AS where only 2 bytes fit */

/* The origin or peer AS of a route, as a field of len bytes holds it. */
static uint32_t
as_of(const struct route *r, int export_as, unsigned len)
{
	uint32_t as;

	if (r == NULL)
		return 0;
	as = export_as == 2 ? r->peer_as : r->origin_as;
	return len < 4 && as > 0xffff ? AS_TRANS : as;
}

/* Fields every row may carry, whatever the flow is: 0 when handled. */
static int
put_common(uint8_t *out, unsigned type, unsigned len,
    const struct fctx *x)
{
	static const uint8_t zero[16];

	switch (type) {
	case F_SRC_MASK:
		put_be(out, x->rs ? x->rs->len : 0, len);
		return 0;
	case F_DST_MASK:
		put_be(out, x->rd ? x->rd->len : 0, len);
		return 0;
	case F_SRC_AS:
		put_be(out, as_of(x->rs, x->export_as, len), len);
		return 0;
	case F_DST_AS:
		put_be(out, as_of(x->rd, x->export_as, len), len);
		return 0;
	case F_NEXT_HOP:
		memcpy(out, x->rd ? x->rd->next_hop : zero, 16);
		return 0;
	case F_BGP_NEXT_HOP:
		memcpy(out, x->rd ? x->rd->bgp_next_hop : zero, 16);
		return 0;
	case F_INPUT_IF:
		put_be(out, x->dir == 0 ? x->ifindex : 0, len);
		return 0;
	case F_OUTPUT_IF:
		put_be(out, x->dir == 1 ? x->ifindex : 0, len);
		return 0;
	case F_DIRECTION:
		put_be(out, (unsigned)x->dir, len);
		return 0;
	case F_SAMPLER_ID:
		put_be(out, x->sampler_id, len);
		return 0;
	case F_ICMP_TYPE_CODE:
		put_be(out, x->icmp, len);
		return 0;
	default:
		return -1;
	}
}

/* A match field of the packet pk. */
void
field_put_key(uint8_t *out, unsigned type, unsigned len, const struct pkt *pk,
    const struct fctx *x)
{
	switch (type) {
	case F_SRC_ADDR:
		memcpy(out, pk->src, 16);
		break;
	case F_DST_ADDR:
		memcpy(out, pk->dst, 16);
		break;
	case F_PROTOCOL:
		out[0] = pk->proto;
		break;
	case F_TRAFFIC_CLASS:
		out[0] = pk->tclass;
		break;
	case F_FLOW_LABEL:
		put_be(out, pk->flow_label, len);
		break;
	case F_SRC_PORT:
		put_be(out, pk->sport, len);
		break;
	case F_DST_PORT:
		put_be(out, pk->dport, len);
		break;
	case F_TCP_FLAGS:
		out[0] = pk->tcp_flags;
		break;
	case F_SRC_VLAN:
		put_be(out, pk->vlan, len);
		break;
	case F_EXT_HEADERS:
		put_be(out, pk->ext_headers, len);
		break;
	case F_ICMP_TYPE_V6: /* dport is type * 256 + code for ICMPv6 */
		out[0] = pk->proto == IPPROTO_ICMPV6 ? (uint8_t)(pk->dport >> 8) : 0;
		break;
	case F_ICMP_CODE_V6:
		out[0] = pk->proto == IPPROTO_ICMPV6 ? (uint8_t)pk->dport : 0;
		break;
	default:
		if (put_common(out, type, len, x) == -1)
			memset(out, 0, len);
		break;
	}
}

/* A collect field of a finished flow. */
void
field_put_collect(uint8_t *out, unsigned type, unsigned len,
    const struct flow_vals *v, const struct fctx *x)
{
	switch (type) {
	case F_PACKETS:
		put_be(out, v->packets, len);
		break;
	case F_BYTES:
		put_be(out, v->bytes, len);
		break;
	case F_FIRST_SWITCHED:
		put_be(out, v->first_ms, len);
		break;
	case F_LAST_SWITCHED:
		put_be(out, v->last_ms, len);
		break;
	case F_TCP_FLAGS:
		out[0] = v->tcp_flags;
		break;
	case F_END_REASON:
		out[0] = (uint8_t)v->reason;
		break;
	case F_EXT_HEADERS:
		put_be(out, v->ext, len);
		break;
	default:
		if (put_common(out, type, len, x) == -1)
			memset(out, 0, len);
		break;
	}
}
