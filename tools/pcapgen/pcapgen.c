/* pcapgen.c: writes deterministic pcap files for the tests and benchmarks. */

/*
 * Two modes.
 *
 * 1. pcapgen -s SPEC -o OUT.pcap [-l LINK]
 *
 *    SPEC is a text file, one packet (or a run of identical packets) per
 *    line; '#' starts a comment, blank lines are skipped. A line is a list
 *    of key=value words; every key is optional and nothing carries over
 *    from one line to the next except the clock.
 *
 *      t=SEC          time of the line's first packet (seconds, decimals
 *                     allowed); default: previous packet + its gap
 *      repeat=N       write N identical packets (default 1) ...
 *      gap=SEC        ... this far apart (default 0.001)
 *      link=eth|sll|sll2|raw|null
 *                     link type of the whole file (default eth, or -l).
 *                     A line holding only link= sets it; any later
 *                     link= must agree, since a pcap has one link type.
 *      src=ADDR dst=ADDR   default 2001:db8::1 and 2001:db8::2
 *                     (192.0.2.1 and 192.0.2.2 with v4=1)
 *      v4=1           an IPv4 packet instead (then len = total length)
 *      proto=tcp|udp|sctp|icmp6|esp|none|N   default tcp
 *      sport=N dport=N     default 1024 and 80
 *      flags=LETTERS|N     TCP flags: F S R P A U E C (FIN SYN RST PSH ACK
 *                     URG ECE CWR) or a number; default none
 *      icmp=TYPE/CODE      ICMPv6 type and code (sets proto=icmp6)
 *      len=N          IPv6 wire length, payload length + 40 (default:
 *                     just the headers); the payload is zeros
 *      tc=N label=N hlim=N traffic class, flow label, hop limit (64)
 *      vlan=ID        an 802.1Q tag
 *      qinq=ID        an outer service tag before it (TPID 0x88a8, or
 *                     stag=0x9100|0x8100); with vlan=10 qinq=20 the
 *                     outer VLAN is 20
 *      ext=LIST       extension headers in this order, comma-separated:
 *                     hop dst rh ah mob frag (rh: routing type 2, 24 bytes;
 *                     ah: 24 bytes; mob: mobility, 8 bytes). The fragment
 *                     header goes where frag is listed, else last.
 *      frag=none|first|next   a fragment header; first = offset 0 and M=1
 *                     with the L4 header, next = a later fragment with no
 *                     L4 header
 *      id=N fragoff=N more=0|1   fragment id (default 1), offset in bytes
 *                     (multiple of 8, default 1232 for next), M flag
 *                     (default 1 for first, 0 for next)
 *      ethertype=N    a non-IP Ethernet frame of that type with len zero
 *                     bytes of payload (default 28), e.g. 0x0806 for ARP
 *      truncate=N     capture only the first N bytes of the frame; the
 *                     original length stays the full one
 *
 *    TCP, UDP and ICMPv6 checksums are right for unfragmented packets
 *    without a routing header (zero payload adds nothing to the sum).
 *
 * 2. pcapgen --flows N --packets M [--seed S] [--snaplen L] [--pps R]
 *            [--start SEC] [--tcp-fin] [--print-counts] [--mix] -o OUT.pcap
 *
 *    M IPv6 TCP/UDP packets over Ethernet spread evenly over N distinct
 *    5-tuples (each flow gets M/N or M/N+1). Every round of N packets
 *    visits the flows in a different order (an affine permutation drawn
 *    from the seed), so packets of a flow are never adjacent unless N is
 *    tiny. IPv6 lengths vary over 64..1500, timestamps advance at R
 *    packets per second of pcap time (default 1000000) from --start
 *    (default 1700000000), captures are cut to L bytes (default 128) with
 *    the original length kept. A TCP flow's first packet has SYN, the
 *    others ACK (some PSH); --tcp-fin gives each TCP flow's last packet
 *    FIN+ACK (SYN+FIN for a one-packet flow). --print-counts prints, per
 *    flow, its 5-tuple, packets and bytes (IPv6 wire lengths). --mix
 *    gives a quarter of the flows an 802.1Q tag (VLAN 1..4094), a quarter
 *    hop-by-hop and destination options headers (8 bytes each), a
 *    quarter both (a live capture's harder frames); a flow keeps its
 *    kind, and lengths grow to fit the headers where they must.
 *    Same arguments, same file, byte for byte.
 *
 * This file reads the options; spec.c and flow.c are the two modes,
 * frame.c builds a frame and out.c writes it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pcapgen.h"

static _Noreturn void
usage(int code)
{
	FILE *fp = code ? stderr : stdout;

	fprintf(
	    fp,
	    "usage: pcapgen -s SPEC [-l LINK] -o OUT.pcap\n"
	    "       pcapgen --flows N --packets M [--seed S] [--snaplen L]\n"
	    "               [--pps R] [--start SEC] [--tcp-fin] "
	    "[--print-counts] [--mix] -o OUT.pcap\n"
	    "\n"
	    "SPEC: one packet per line, key=value words, '#' comments:\n"
	    "  t=SEC repeat=N gap=SEC      time, copies, spacing (0.001)\n"
	    "  link=eth|sll|sll2|raw|null  one per file (default eth)\n"
	    "  src= dst= v4=1              addresses (2001:db8::1, ::2)\n"
	    "  proto=tcp|udp|sctp|icmp6|esp|none|N  sport= dport=\n"
	    "  flags=FSRPAUEC|N icmp=TYPE/CODE\n"
	    "  len=N                       IPv6 wire length (payload + 40),\n"
	    "                              zero payload; default headers only\n"
	    "  tc= label= hlim=            traffic class, flow label, hop "
	    "limit\n"
	    "  vlan=ID qinq=ID stag=TPID   802.1Q tag, outer tag (0x88a8)\n"
	    "  ext=hop,dst,rh,ah,mob,frag  extension headers, in order\n"
	    "  frag=none|first|next id=N fragoff=BYTES more=0|1\n"
	    "  ethertype=N                 non-IP frame (len= payload bytes)\n"
	    "  truncate=N                  capture N bytes, keep orig length\n"
	    "Flow mode: M packets over N 5-tuples, lengths 64..1500, R pps\n"
	    "(default 1000000) of pcap time, snaplen L (default 128); --mix:\n"
	    "a quarter of the flows VLAN-tagged, a quarter with hop-by-hop\n"
	    "and destination options headers, a quarter both.\n");
	exit(code);
}

static uint64_t
num_arg(const char *name, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		fatalx("--%s %s: expected %" PRIu64 "..%" PRIu64, name, s, min,
		       max);
	return v;
}

int
main(int argc, char **argv)
{
	enum {
		O_FLOWS = 256,
		O_PACKETS,
		O_SEED,
		O_SNAPLEN,
		O_PPS,
		O_START,
		O_FIN,
		O_COUNTS,
		O_MIX
	};
	static const struct option longopts[] = {
	    {"flows", required_argument, NULL, O_FLOWS},
	    {"packets", required_argument, NULL, O_PACKETS},
	    {"seed", required_argument, NULL, O_SEED},
	    {"snaplen", required_argument, NULL, O_SNAPLEN},
	    {"pps", required_argument, NULL, O_PPS},
	    {"start", required_argument, NULL, O_START},
	    {"tcp-fin", no_argument, NULL, O_FIN},
	    {"print-counts", no_argument, NULL, O_COUNTS},
	    {"mix", no_argument, NULL, O_MIX},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct flowgen fg = {.seed = 1,
			     .pps = 1000000,
			     .snaplen = 128,
			     .start_us = 1700000000ULL * 1000000};
	struct out o = {.link = -1, .snaplen = 262144};
	const char *spec = NULL;
	int c;

	log_init("pcapgen", 0);
	while ((c = getopt_long(argc, argv, "s:o:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			spec = optarg;
			break;
		case 'o':
			o.path = optarg;
			break;
		case 'l':
			if ((o.link = parse_link(optarg)) < 0)
				fatalx("-l %s: eth, sll, sll2, raw or null",
				       optarg);
			break;
		case O_FLOWS:
			fg.flows = num_arg("flows", optarg, 1, UINT32_MAX);
			break;
		case O_PACKETS:
			fg.packets =
			    num_arg("packets", optarg, 0, UINT64_MAX / 1000000);
			break;
		case O_SEED:
			fg.seed = num_arg("seed", optarg, 0, UINT64_MAX);
			break;
		case O_SNAPLEN:
			fg.snaplen =
			    (uint32_t)num_arg("snaplen", optarg, 1, 262144);
			break;
		case O_PPS:
			fg.pps = num_arg("pps", optarg, 1, 1000000000);
			break;
		case O_START:
			fg.start_us =
			    num_arg("start", optarg, 0, UINT32_MAX) * 1000000;
			break;
		case O_FIN:
			fg.tcp_fin = 1;
			break;
		case O_COUNTS:
			fg.print_counts = 1;
			break;
		case O_MIX:
			fg.mix = 1;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || o.path == NULL ||
	    (spec == NULL) == (fg.flows == 0))
		usage(2);
	if (spec)
		return spec_mode(spec, &o);
	if (fg.print_counts && strcmp(o.path, "-") == 0)
		fatalx("--print-counts writes to stdout: give -o a file");
	return flow_mode(&fg, &o);
}
