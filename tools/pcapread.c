/*
 * pcapread: the floor of every benchmark: a bare libpcap read loop over a
 * capture file that touches each packet once, and prints packets/s.
 *
 *   pcapread FILE           the file opened by pcap_open_offline(), as
 *                           libpcap reads it by default (glibc's stdio
 *                           buffer: a 4 KiB read(2) every 28 packets)
 *   pcapread --buffer FILE  the same loop through a 1 MiB stdio buffer
 *                           read without stdio locks, as sampled reads
 *                           its files, so a ratio compares the work only
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "pcapfile.h"
#include "util.h"

static char iobuf[PCAPFILE_BUF];

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, sum = 0;
	int64_t t0, t1;
	int buffered = argc == 3 && strcmp(argv[1], "--buffer") == 0;
	pcap_t *p;

	if (argc != 2 && !buffered) {
		fprintf(stderr, "usage: pcapread [--buffer] FILE\n");
		return 2;
	}
	p = buffered ? pcapfile_open(argv[2], iobuf, sizeof(iobuf), err) :
	    pcap_open_offline(argv[1], err);
	if (p == NULL) {
		fprintf(stderr, "pcapread: %s: %s\n", argv[argc - 1], err);
		return 1;
	}
	t0 = mono_ms();
	while (pcap_next_ex(p, &h, &d) == 1) {
		n++;
		sum += d[h->caplen > 20 ? 20 : 0]; /* touch the packet */
	}
	t1 = mono_ms();
	printf("packets %llu ms %lld pps %.0f check %llu\n",
	    (unsigned long long)n, (long long)(t1 - t0),
	    t1 > t0 ? (double)n * 1000.0 / (double)(t1 - t0) : 0.0,
	    (unsigned long long)sum);
	pcap_close(p);
	return 0;
}
