/*
 * fuzz_decode.c: decode_packet() over every link type sampled accepts. The
 * first byte picks the link type, the rest is the captured frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the link types decode.h lists, and one it does not know */
static const int dlts[] = {
	NS_DLT_EN10MB, NS_DLT_LINUX_SLL, NS_DLT_LINUX_SLL2, NS_DLT_RAW,
	NS_DLT_RAW_OPENBSD, NS_LINKTYPE_RAW, NS_DLT_IPV6, NS_DLT_IPV4,
	NS_DLT_NULL, NS_DLT_LOOP, 147 /* DLT_USER0 */,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt pk;
	uint8_t *frame;
	uint32_t caplen;
	int dlt, r;

	if (size < 1 || size - 1 > UINT32_MAX)
		return 0;
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	caplen = (uint32_t)(size - 1);
	/* a copy of exactly caplen bytes, so ASan sees any read past it */
	frame = malloc(caplen ? caplen : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data + 1, caplen);
	r = decode_packet(dlt, frame, caplen, &pk);
	/* what the cache relies on */
	if (r < 0 || r >= DEC_NRESULTS)
		abort();
	if ((r == DEC_IPV6 && (uint32_t)pk.l3_off + 40 > caplen) ||
	    (r == DEC_IPV4 && (uint32_t)pk.l3_off + 20 > caplen))
		abort();
	if (r == DEC_IPV6 && pk.ip_len < 40)
		abort();
	(void)decode_reason_name(r);
	free(frame);
	return 0;
}
