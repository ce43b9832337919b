/* decode.h: the hot-path packet decoder (link header -> IPv6 -> L4 ports). */
#ifndef NS_DECODE_H
#define NS_DECODE_H

#include <stdint.h>

/*
 * Link types decode_packet() understands, as libpcap's pcap_datalink()
 * returns them. Spelled out here so the decoder does not depend on pcap.h;
 * tests/unit/test_decode.c checks them against <pcap/dlt.h>.
 */
#define NS_DLT_NULL 0	      /* BSD loopback, AF in host byte order */
#define NS_DLT_EN10MB 1	      /* Ethernet, 802.1Q / QinQ stacks */
#define NS_DLT_RAW 12	      /* raw IP (Linux, most BSDs) */
#define NS_DLT_RAW_OPENBSD 14 /* raw IP as OpenBSD numbers it */
#define NS_LINKTYPE_RAW 101   /* raw IP, as stored in pcap files */
#define NS_DLT_LOOP 108	      /* BSD loopback, AF in network byte order */
#define NS_DLT_LINUX_SLL 113  /* Linux cooked capture v1 */
#define NS_DLT_IPV4 228	      /* raw IPv4 only */
#define NS_DLT_IPV6 229	      /* raw IPv6 only */
#define NS_DLT_LINUX_SLL2 276 /* Linux cooked capture v2 */

/*
 * What decode_packet() returns. Only DEC_IPV6 is aggregated; every other
 * value is a counter in the stats (decode_reason_name() gives its label).
 */
enum decode_result {
	DEC_IPV6 = 0, /* struct pkt is complete */
	DEC_IPV4,     /* well-formed IPv4 header: counted, not aggregated */
	DEC_OTHER,    /* not IP: ARP, LLDP, MPLS, unknown link type ... */
	DEC_MALFORMED_LINK,	   /* link header (or a VLAN tag) cut short */
	DEC_MALFORMED_VLAN_DEPTH,  /* more than DEC_MAX_VLAN_TAGS VLAN tags */
	DEC_MALFORMED_IP_VERSION,  /* version nibble disagrees with link type */
	DEC_MALFORMED_IP4_HDR,	   /* IPv4 header cut short or IHL < 5 */
	DEC_MALFORMED_IP6_HDR,	   /* fewer than 40 bytes of IPv6 header */
	DEC_MALFORMED_EXT_TRUNC,   /* extension header cut short by caplen */
	DEC_MALFORMED_EXT_CHAIN,   /* more than DEC_MAX_EXT_HEADERS headers */
	DEC_MALFORMED_L4_TRUNC,	   /* L4 header cut short by caplen */
	DEC_MALFORMED_PAYLOAD_LEN, /* headers past the IPv6 payload length */
	DEC_NRESULTS
};

#define DEC_MAX_VLAN_TAGS 8
#define DEC_MAX_EXT_HEADERS 16

/*
 * ext_headers: the IPFIX ipv6ExtensionHeaders bitmap (element 64, RFC 5102
 * section 5.8.x / IANA IPFIX registry). RFC 5102 numbers the bits:
 *
 *   bit  name  next header  meaning
 *    0   Res                reserved
 *    1   FRA1      44       fragment header, not the first fragment
 *    2   RH        43       routing header
 *    3   FRA0      44       fragment header, first fragment (offset 0)
 *    4   UNK                unknown layer 4 header (compressed, encrypted,
 *                           not supported)
 *    5   Res                reserved
 *    6   HOP        0       hop-by-hop options
 *    7   DST       60       destination options
 *    8   PAY      108       payload compression (IPComp)
 *    9   AH        51       authentication header
 *   10   ESP       50       encapsulating security payload
 *   11-31 Res               reserved
 *
 * The RFC does not say which end bit 0 is, and exporters disagree (Cisco's
 * v9 IPV6_OPTION_HEADERS numbers the same flags from the other end); the
 * newer IPFIX work on ipv6ExtensionHeadersFull exists partly for that
 * reason. We take "bit N" as the value 1 << N of the unsigned32, the
 * reading that needs no table; exportd sends the value big-endian. Change
 * it here and nowhere else if a collector wants the other reading.
 *
 * Mobility (135), HIP (139) and shim6 (140) are walked like any other
 * extension header but have no flag of their own: they set UNK ("not
 * supported" by this bitmap). Upper-layer protocols never set a flag.
 */
#define EXT_FRA1 (1u << 1)
#define EXT_RH (1u << 2)
#define EXT_FRA0 (1u << 3)
#define EXT_UNK (1u << 4)
#define EXT_HOP (1u << 6)
#define EXT_DST (1u << 7)
#define EXT_PAY (1u << 8)
#define EXT_AH (1u << 9)
#define EXT_ESP (1u << 10)

/*
 * One decoded packet: what the flow cache needs and nothing else. All
 * multi-byte fields are in host byte order; addresses stay in wire order.
 */
struct pkt {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t flow_label;  /* 20 bits */
	uint32_t ext_headers; /* EXT_* flags above */
	/*
	 * IPv6 payload length + 40 as the header says, whatever the capture
	 * kept. Jumbogram (payload length 0 and a Jumbo Payload option first
	 * in the hop-by-hop header): 40 + the jumbo length, clamped to
	 * UINT32_MAX. For DEC_IPV4: the IPv4 total length.
	 */
	uint32_t ip_len;
	uint16_t sport;	   /* TCP/UDP/SCTP; 0 otherwise */
	uint16_t dport;	   /* ... ICMPv6: type * 256 + code */
	uint16_t vlan;	   /* outermost VLAN id, 0 when untagged */
	uint16_t l3_off;   /* offset of the IP header in the packet */
	uint8_t proto;	   /* upper-layer protocol after extension headers */
	uint8_t tclass;	   /* traffic class */
	uint8_t tcp_flags; /* the 8 flag bits (CWR..FIN), TCP only */
	uint8_t hop_limit;
	uint8_t is_fragment;	   /* a fragment header was seen */
	uint8_t is_first_fragment; /* ... with offset 0: ports are valid */
};

_Static_assert(sizeof(struct pkt) <= 64, "struct pkt fits a cache line");

/* decode.c */
int decode_packet(int dlt, const uint8_t *p, uint32_t caplen, struct pkt *out);
const char *decode_reason_name(int result);

#endif
