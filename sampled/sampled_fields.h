/* sampled_fields.h: writing flow fields (fields.c), shared by key and row. */
#ifndef SAMPLED_FIELDS_H
#define SAMPLED_FIELDS_H

#include <stdint.h>

#include "decode.h"
#include "routes.h"

/* What a field may need beyond the packet or the flow counters. */
struct fctx {
	const struct route *rs, *rd; /* routes of the source, destination */
	uint32_t ifindex;
	int dir;
	int export_as;
	uint32_t sampler_id; /* of the binding: 0 when it samples nothing */
	uint16_t icmp;	     /* ICMPv6 type * 256 + code; 0: not ICMPv6 */
};

struct flow_vals {
	uint64_t packets, bytes;
	uint32_t first_ms, last_ms, ext;
	uint8_t tcp_flags;
	int reason;
};

/* fields.c */
void field_put_key(uint8_t *out, unsigned type, unsigned len,
    const struct pkt *pk, const struct fctx *x);
void field_put_collect(uint8_t *out, unsigned type, unsigned len,
    const struct flow_vals *v, const struct fctx *x);

#endif
