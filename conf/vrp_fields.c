/*
 * vrp_fields.c: the record view's words for each flexible flow field:
 * `match WORDS` and `collect WORDS` of `ipv6 netstream record NAME`.
 * The vendor's own: ipv6 source-address ... next-header, transport
 * source-port/destination-port, counter packets/bytes, timestamp
 * sys-uptime first/last, tcp-flags, interface input/output; the others
 * (ours) follow their pattern, one group word then the field.
 */
#include <stddef.h>
#include <string.h>

#include "util.h"
#include "vrp.h"

static const struct vrp_field vrp_fields[] = {
	{ "source-address", { "ipv6", "source-address" }, 0 },
	{ "destination-address", { "ipv6", "destination-address" }, 0 },
	{ "source-mask", { "ipv6", "source-mask" }, 0 },
	{ "destination-mask", { "ipv6", "destination-mask" }, 0 },
	{ "protocol", { "ipv6", "protocol" }, 0 },
	/* IPv6's own name of the upper-layer protocol field */
	{ "protocol", { "ipv6", "next-header" }, 1 },
	{ "traffic-class", { "ipv6", "traffic-class" }, 0 },
	{ "flow-label", { "ipv6", "flow-label" }, 0 },
	{ "extension-headers", { "ipv6", "extension-headers" }, 0 },
	{ "source-port", { "transport", "source-port" }, 0 },
	{ "destination-port", { "transport", "destination-port" }, 0 },
	{ "tcp-flags", { "tcp-flags" }, 0 },
	{ "tcp-flags", { "transport", "tcp-flags" }, 1 },
	{ "icmp-type", { "icmp", "type" }, 0 },
	{ "icmp-code", { "icmp", "code" }, 0 },
	{ "input-interface", { "interface", "input" }, 0 },
	{ "output-interface", { "interface", "output" }, 0 },
	{ "direction", { "flow", "direction" }, 0 },
	{ "flow-end-reason", { "flow", "end-reason" }, 0 },
	{ "source-vlan", { "datalink", "source-vlan" }, 0 },
	{ "source-as", { "routing", "source-as" }, 0 },
	{ "destination-as", { "routing", "destination-as" }, 0 },
	{ "next-hop", { "routing", "next-hop" }, 0 },
	{ "bgp-next-hop", { "routing", "bgp-next-hop" }, 0 },
	{ "packets", { "counter", "packets" }, 0 },
	{ "bytes", { "counter", "bytes" }, 0 },
	{ "first-switched", { "timestamp", "sys-uptime", "first" }, 0 },
	{ "last-switched", { "timestamp", "sys-uptime", "last" }, 0 },
};

const struct vrp_field *
vrp_field_at(size_t i)
{
	return i < NELEM(vrp_fields) ? &vrp_fields[i] : NULL;
}

const struct vrp_field *
vrp_field_of(const char *field)
{
	size_t i;

	for (i = 0; i < NELEM(vrp_fields); i++)
		if (!vrp_fields[i].alias &&
		    strcmp(vrp_fields[i].field, field) == 0)
			return &vrp_fields[i];
	return NULL;
}
