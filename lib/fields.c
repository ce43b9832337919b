/* fields.c: the table of flexible flow fields, by config name and by id. */
#include <stddef.h>
#include <string.h>

#include "fields.h"
#include "util.h"

#define K FIELD_KEY
#define C FIELD_COLLECT

static const struct field_def fields[] = {
	{ "source-address", F_SRC_ADDR, 16, K },
	{ "destination-address", F_DST_ADDR, 16, K },
	{ "source-mask", F_SRC_MASK, 1, K | C },
	{ "destination-mask", F_DST_MASK, 1, K | C },
	{ "protocol", F_PROTOCOL, 1, K },
	{ "traffic-class", F_TRAFFIC_CLASS, 1, K },
	{ "flow-label", F_FLOW_LABEL, 3, K },
	{ "source-port", F_SRC_PORT, 2, K },
	{ "destination-port", F_DST_PORT, 2, K },
	{ "input-interface", F_INPUT_IF, 2, K | C },
	{ "output-interface", F_OUTPUT_IF, 2, K | C },
	{ "direction", F_DIRECTION, 1, K | C },
	{ "tcp-flags", F_TCP_FLAGS, 1, K | C },
	{ "source-vlan", F_SRC_VLAN, 2, K },
	{ "source-as", F_SRC_AS, 2, K | C },
	{ "destination-as", F_DST_AS, 2, K | C },
	{ "next-hop", F_NEXT_HOP, 16, K | C },
	{ "bgp-next-hop", F_BGP_NEXT_HOP, 16, K | C },
	{ "packets", F_PACKETS, 8, C },
	{ "bytes", F_BYTES, 8, C },
	{ "first-switched", F_FIRST_SWITCHED, 4, C },
	{ "last-switched", F_LAST_SWITCHED, 4, C },
	{ "flow-end-reason", F_END_REASON, 1, C },
	{ "extension-headers", F_EXT_HEADERS, 4, K | C },
	{ "icmp-type", F_ICMP_TYPE_V6, 1, K },
	{ "icmp-code", F_ICMP_CODE_V6, 1, K },
	/* added by the plan, never configured: see layout.c */
	{ "sampler-id", F_SAMPLER_ID, 1, 0 },
	{ "icmp-type-code", F_ICMP_TYPE_CODE, 2, 0 },
};

const struct field_def *
field_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(fields); i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

const struct field_def *
field_by_id(unsigned id)
{
	size_t i;

	for (i = 0; i < NELEM(fields); i++)
		if (fields[i].id == id)
			return &fields[i];
	return NULL;
}

const struct field_def *
field_at(unsigned i)
{
	return i < NELEM(fields) ? &fields[i] : NULL;
}

/* Interface and AS fields are 2 bytes, or 4 when the plan says 32-bit. */
unsigned
field_len(unsigned id, int if32)
{
	const struct field_def *f = field_by_id(id);

	if (f == NULL)
		return 0;
	if (if32 && (id == F_INPUT_IF || id == F_OUTPUT_IF || id == F_SRC_AS ||
	    id == F_DST_AS))
		return 4;
	return f->len;
}
