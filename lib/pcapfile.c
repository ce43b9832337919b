/*
 * pcapfile.c: a capture file opened for libpcap through a stdio buffer the
 * caller gives (and frees after pcap_close). libpcap reads each record
 * with two freads; left to itself, glibc allocates a buffer of its own
 * size, whatever setvbuf asks, and that is a 4 KiB read(2) every 28
 * packets. The FILE is read by one thread only, so stdio need not lock
 * it on every fread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcapfile.h"

/*
 * A regular file only: open() of a FIFO blocks until a writer comes, and
 * a FIFO or a device never ends a replay. Opened without blocking, then
 * checked on the descriptor itself (nothing can swap the file between).
 */
static FILE *
open_regular(const char *path, char *ebuf)
{
	struct stat st;
	FILE *f;
	int fd, fl;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "not a regular file");
		close(fd);
		return NULL;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1 ||
	    (f = fdopen(fd, "rb")) == NULL) {
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

pcap_t *
pcapfile_open(const char *path, char *buf, size_t len, char *ebuf)
{
	FILE *f = open_regular(path, ebuf);
	pcap_t *pc;

	if (f == NULL)
		return NULL;
	setvbuf(f, buf, _IOFBF, len);
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	if ((pc = pcap_fopen_offline_with_tstamp_precision(f,
	    PCAP_TSTAMP_PRECISION_MICRO, ebuf)) == NULL)
		fclose(f);
	return pc;
}
