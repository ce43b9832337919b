/*
 * pcapread: the floor of every benchmark: a bare libpcap read loop over a
 * capture file that touches each packet once, and prints packets/s. It
 * reads through the same 1 MiB stdio buffer sampled uses, so the ratio
 * compares the work, not the buffering.
 */
#include <pcap/pcap.h>
#include <stdio.h>

#include "util.h"

static char iobuf[1 << 20];

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, sum = 0;
	int64_t t0, t1;
	pcap_t *p;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: pcapread FILE\n");
		return 2;
	}
	if ((f = fopen(argv[1], "rb")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	if ((p = pcap_fopen_offline(f, err)) == NULL) {
		fprintf(stderr, "pcapread: %s\n", err);
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
