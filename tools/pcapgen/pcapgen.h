/* pcapgen.h: what pcapgen's files share: the packet, the output, the modes. */
#ifndef PCAPGEN_H
#define PCAPGEN_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX (65535 + 40 + 64)
#define MAX_EXT 16
#define MAX_VLAN 2

enum link { L_ETH, L_SLL, L_SLL2, L_RAW, L_NULL };

/* a link type: its name in -l and link=, its DLT in the file header */
struct link_type {
	const char *name;
	int dlt;
};

/* extension header kinds in a spec's ext= list */
enum ext { X_HOP, X_DST, X_RH, X_AH, X_MOB, X_FRAG };

enum frag { FRAG_NONE, FRAG_FIRST, FRAG_NEXT };

/* One packet as a spec line (or flow mode) describes it. */
struct gpkt {
	int v4;
	uint8_t src[16], dst[16]; /* IPv4: the first 4 bytes */
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t flags;
	uint8_t icmp_type, icmp_code;
	uint32_t len; /* IP wire length; 0 = headers only */
	uint8_t tc, hlim;
	uint32_t label;
	int nvlan;
	uint16_t tpid[MAX_VLAN], vid[MAX_VLAN]; /* outermost first */
	int next;
	enum ext ext[MAX_EXT];
	enum frag frag;
	uint32_t frag_id;
	uint16_t frag_off;
	int more;
	uint16_t ethertype; /* nonzero: a non-IP frame */
	uint32_t truncate;
};

/* The output file and its clock. */
struct out {
	const char *path;
	int link; /* enum link, -1 until fixed */
	int snaplen;
	pcap_t *pd;
	pcap_dumper_t *dump;
	uint64_t packets;
};

/* What flow mode's options ask for. */
struct flowgen {
	uint64_t flows, packets, seed, pps, start_us;
	uint32_t snaplen;
	int tcp_fin, print_counts, mix;
};

/* frame.c */
size_t build_frame(const struct gpkt *g, int link, uint8_t *buf, size_t cap,
		   size_t zero_to, char *errbuf, size_t errlen);

/* out.c */
extern const struct link_type links[];
extern uint8_t frame[FRAME_MAX]; /* the frame out_write writes */
int parse_link(const char *s);
void out_write(struct out *o, uint64_t ts_us, size_t caplen, size_t len);
void out_close(struct out *o);
void out_discard(struct out *o);

/* spec.c */
int spec_mode(const char *spec, struct out *o);

/* flow.c */
int flow_mode(const struct flowgen *fg, struct out *o);

#endif
