/* out.c: writes the pcap file, or none at all when a spec has an error. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pcapgen.h"
#include "util.h"

const struct link_type links[] = {
    [L_ETH] = {"eth", DLT_EN10MB},	 [L_SLL] = {"sll", DLT_LINUX_SLL},
    [L_SLL2] = {"sll2", DLT_LINUX_SLL2}, [L_RAW] = {"raw", DLT_RAW},
    [L_NULL] = {"null", DLT_NULL},
};

uint8_t frame[FRAME_MAX];

int
parse_link(const char *s)
{
	size_t i;

	for (i = 0; i < NELEM(links); i++)
		if (strcmp(s, links[i].name) == 0)
			return (int)i;
	return -1;
}

static void
out_open(struct out *o)
{
	FILE *fp;

	if (o->link < 0)
		o->link = L_ETH;
	o->pd = pcap_open_dead(links[o->link].dlt, o->snaplen);
	if (o->pd == NULL)
		fatalx("pcap_open_dead failed");
	if (strcmp(o->path, "-") == 0)
		fp = stdout;
	else if ((fp = fopen(o->path, "wb")) == NULL)
		fatal("%s", o->path);
	if (setvbuf(fp, NULL, _IOFBF, 1 << 20) != 0)
		fatalx("setvbuf failed");
	o->dump = pcap_dump_fopen(o->pd, fp);
	if (o->dump == NULL)
		fatalx("%s: %s", o->path, pcap_geterr(o->pd));
}

void
out_write(struct out *o, uint64_t ts_us, size_t caplen, size_t len)
{
	struct pcap_pkthdr h;

	if (o->dump == NULL)
		out_open(o);
	h.ts.tv_sec = (time_t)(ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
	h.caplen = (bpf_u_int32)caplen;
	h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)o->dump, &h, frame);
	o->packets++;
}

void
out_close(struct out *o)
{
	if (o->dump == NULL)
		out_open(o); /* an empty spec still makes a valid file */
	if (pcap_dump_flush(o->dump) != 0)
		fatalx("%s: write failed", o->path);
	pcap_dump_close(o->dump);
	pcap_close(o->pd);
}

/* a spec with an error leaves no half-written file behind */
void
out_discard(struct out *o)
{
	if (o->dump == NULL)
		return;
	pcap_dump_close(o->dump);
	pcap_close(o->pd);
	if (strcmp(o->path, "-") != 0)
		unlink(o->path);
}
