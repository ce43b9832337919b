/*
 * fuzz_pcapng.c: the pcapng direction-flags walk (lib/pcapng.c) over any
 * bytes: it must count what it cannot read and never read past a block.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapng_flags r;
	FILE *f;
	int i, d;

	if (size == 0 || (f = fmemopen((void *)data, size, "rb")) == NULL)
		return 0;
	pcapng_flags_fopen(&r, f);
	/* as many packets as libpcap could have returned, and more */
	for (i = 0; i < 4096 && !r.lost; i++) {
		d = pcapng_flags_next(&r);
		if (d != PCAPNG_DIR_NONE && d != PCAPNG_DIR_IN &&
		    d != PCAPNG_DIR_OUT)
			__builtin_trap();
	}
	pcapng_flags_close(&r);
	fclose(f);
	return 0;
}
