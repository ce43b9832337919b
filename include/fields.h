/* fields.h: the flexible flow record fields (DESIGN.md table), v9/IPFIX ids. */
#ifndef NS_FIELDS_H
#define NS_FIELDS_H

#include <stdint.h>

enum field_id {
	F_BYTES = 1,
	F_PACKETS = 2,
	F_PROTOCOL = 4,
	F_TRAFFIC_CLASS = 5,
	F_TCP_FLAGS = 6,
	F_SRC_PORT = 7,
	F_INPUT_IF = 10,
	F_DST_PORT = 11,
	F_OUTPUT_IF = 14,
	F_SRC_AS = 16,
	F_DST_AS = 17,
	F_LAST_SWITCHED = 21,
	F_FIRST_SWITCHED = 22,
	F_SRC_ADDR = 27,
	F_DST_ADDR = 28,
	F_SRC_MASK = 29,
	F_DST_MASK = 30,
	F_FLOW_LABEL = 31,
	F_ICMP_TYPE_CODE = 32, /* v9 ICMP_TYPE: type * 256 + code */
	F_SAMPLING_INTERVAL = 34,
	F_SAMPLING_ALGORITHM = 35,
	F_SRC_VLAN = 58,
	F_DIRECTION = 61,
	F_NEXT_HOP = 62,
	F_BGP_NEXT_HOP = 63,
	F_EXT_HEADERS = 64,
	F_IF_NAME = 82,
	F_IF_DESC = 83,
	F_END_REASON = 136,
	F_ICMP_TYPE_CODE_V6 = 139, /* icmpTypeCodeIPv6: 32 as IPFIX hosts get it */
	F_ICMP_TYPE_V6 = 178,	   /* icmpTypeIPv6 */
	F_ICMP_CODE_V6 = 179,	   /* icmpCodeIPv6 */
	F_SAMPLER_ID = 48,
	F_SAMPLER_MODE = 49,
	F_SAMPLER_INTERVAL = 50,
	/* PSAMP (RFC 5477), for IPFIX hosts (RFC 7270 deprecates 48-50) */
	F_SELECTOR_ID = 302,
	F_SELECTOR_ALGORITHM = 304,
	F_SAMPLING_PACKET_INTERVAL = 305,
	F_SAMPLING_PACKET_SPACE = 306,
	F_SAMPLING_TIME_INTERVAL = 307,
	F_SAMPLING_TIME_SPACE = 308,
	F_SAMPLING_SIZE = 309,
	F_SAMPLING_POPULATION = 310,
};

#define FIELD_KEY 0x1     /* may be a match field */
#define FIELD_COLLECT 0x2 /* may be a collect field */

struct field_def {
	const char *name;
	uint16_t id;
	uint16_t len; /* bytes on the wire */
	uint8_t where;
};

/* fields.c */
const struct field_def *field_by_name(const char *name);
const struct field_def *field_by_id(unsigned id);
const struct field_def *field_at(unsigned i); /* NULL past the end */
unsigned field_len(unsigned id, int if32);

#endif
