/*
 * pcapfile.c: a capture file opened for libpcap through a stdio buffer the
 * caller gives (and frees after pcap_close). libpcap reads each record
 * with two freads; left to itself, glibc allocates a buffer of its own
 * size, whatever setvbuf asks, and that is a 4 KiB read(2) every 28
 * packets. The FILE is read by one thread only, so stdio need not lock
 * it on every fread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>

#include "pcapfile.h"

pcap_t *
pcapfile_open(const char *path, char *buf, size_t len, char *ebuf)
{
	FILE *f = fopen(path, "rb");
	pcap_t *pc;

	if (f == NULL) {
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
		return NULL;
	}
	setvbuf(f, buf, _IOFBF, len);
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	if ((pc = pcap_fopen_offline_with_tstamp_precision(f,
	    PCAP_TSTAMP_PRECISION_MICRO, ebuf)) == NULL)
		fclose(f);
	return pc;
}
