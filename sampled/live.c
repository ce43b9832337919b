/*
 * live.c: a live device, captured through one AF_PACKET socket and its
 * TPACKET_V3 ring. One socket takes both directions (the packet type
 * says which), a kernel BPF filter passes only IPv6 (VLAN-tagged too)
 * and cuts it to the headers, and the ring hands over whole blocks, when
 * one is full or LIVE_BLOCK_MS after its first packet: one wake-up per
 * block, not per packet (libpcap's immediate mode falls back to
 * TPACKET_V2 and wakes per packet; without it, it still opens a socket
 * per direction, as it gives no packet type on an Ethernet device).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "plan.h"
#include "sampled.h"
#include "util.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define LIVE_BLOCK_MAX (1u << 20) /* bytes of a ring block, at most */
#define LIVE_FRAME 2048		  /* the ring's nominal frame (V3: a unit) */

/*
 * The filter: IPv6, on Ethernet also behind one or two VLAN tags still in
 * the frame (the kernel usually strips the outer tag into the packet's
 * metadata, where the filter does not see it: such a frame reads as
 * untagged). A device without Ethernet headers (tun, PPP, GRE) is read
 * from its network header on.
 */
static const char filter_eth[] = "ip6 or (vlan and (ip6 or (vlan and ip6)))";
static const char filter_raw[] = "ip6";

struct live {
	int fd;
	uint8_t *map;
	size_t map_len;
	struct tpacket_req3 req;
	unsigned cur; /* the next block to read */
	int ignore_out; /* outgoing packets are not delivered */
	int ifindex;	/* of the device it was opened on */
	int vnet;	/* a virtio-net header before each frame (gso.c) */
};

/* The filter as kernel code, cut at LIVE_SNAPLEN bytes. */
static int
attach_filter(int fd, int dlt, char *err, size_t errlen)
{
	struct bpf_program prog;
	struct sock_fprog fp;
	pcap_t *dead = pcap_open_dead(dlt, LIVE_SNAPLEN);
	int rc = -1;

	if (dead == NULL) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return -1;
	}
	if (pcap_compile(dead, &prog, dlt == DLT_EN10MB ? filter_eth :
	    filter_raw, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		snprintf(err, errlen, "filter: %s", pcap_geterr(dead));
		pcap_close(dead);
		return -1;
	}
	/* struct bpf_insn and struct sock_filter are the same layout */
	fp.len = (unsigned short)prog.bf_len;
	fp.filter = (struct sock_filter *)prog.bf_insns;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) == -1)
		snprintf(err, errlen, "SO_ATTACH_FILTER: %s", strerror(errno));
	else
		rc = 0;
	pcap_freecode(&prog);
	pcap_close(dead);
	return rc;
}

/* Blocks of a power of two up to 1 MiB, at least 8 of them in the ring. */
static void
ring_geometry(struct tpacket_req3 *r, unsigned ring_kb)
{
	size_t ring = (size_t)ring_kb * 1024, block = LIVE_BLOCK_MAX;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	while (block > page && block * 8 > ring)
		block >>= 1;
	if (block < LIVE_FRAME)
		block = LIVE_FRAME;
	memset(r, 0, sizeof(*r));
	r->tp_block_size = (unsigned)block;
	r->tp_block_nr = (unsigned)(ring / block > 1 ? ring / block : 2);
	r->tp_frame_size = LIVE_FRAME;
	r->tp_frame_nr = r->tp_block_nr * (r->tp_block_size / LIVE_FRAME);
	r->tp_retire_blk_tov = LIVE_BLOCK_MS;
}

/* Ethernet (and loopback) frames as they are; other links from IP on. */
static int
link_dlt(const char *device)
{
	struct ifreq ifr;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), t = -1;

	memset(&ifr, 0, sizeof(ifr));
	ns_strlcpy(ifr.ifr_name, device, sizeof(ifr.ifr_name));
	if (fd != -1 && ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		t = ifr.ifr_hwaddr.sa_family;
	if (fd != -1)
		close(fd);
	return t == ARPHRD_ETHER || t == ARPHRD_LOOPBACK || t == -1 ?
	    DLT_EN10MB : DLT_RAW;
}

/*
 * A virtio-net header before each frame says which is a GSO/GRO
 * super-packet (gso.c). Without it (a kernel that refuses it) such a
 * frame counts as one packet: logged at each open.
 */
static void
vnet_header(struct live *lv, const char *device)
{
	int one = 1;

	lv->vnet = setsockopt(lv->fd, SOL_PACKET, PACKET_VNET_HDR, &one,
	    sizeof(one)) == 0;
	if (!lv->vnet)
		log_warn("%s: PACKET_VNET_HDR (GSO super-packets will count as "
		    "one packet each)", device);
}

static int
open_ring(struct live *lv, const char *device, unsigned ring_kb, int dlt,
    char *err, size_t errlen)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int v = TPACKET_V3;

	if ((sll.sll_ifindex = (int)if_nametoindex(device)) == 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	lv->ifindex = sll.sll_ifindex;
	/* no protocol until the filter is on: nothing unfiltered queues */
	if ((lv->fd = socket(AF_PACKET, (dlt == DLT_EN10MB ? SOCK_RAW :
	    SOCK_DGRAM) | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (attach_filter(lv->fd, dlt, err, errlen) == -1)
		return -1;
	if (setsockopt(lv->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ==
	    -1) {
		snprintf(err, errlen, "TPACKET_V3: %s", strerror(errno));
		return -1;
	}
	vnet_header(lv, device);
	ring_geometry(&lv->req, ring_kb);
	if (setsockopt(lv->fd, SOL_PACKET, PACKET_RX_RING, &lv->req,
	    sizeof(lv->req)) == -1) {
		snprintf(err, errlen, "PACKET_RX_RING (%u blocks of %u): %s",
		    lv->req.tp_block_nr, lv->req.tp_block_size,
		    strerror(errno));
		return -1;
	}
	lv->map_len = (size_t)lv->req.tp_block_size * lv->req.tp_block_nr;
	lv->map = mmap(NULL, lv->map_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, lv->fd, 0);
	if (lv->map == MAP_FAILED) {
		lv->map = NULL;
		snprintf(err, errlen, "mmap of the ring: %s", strerror(errno));
		return -1;
	}
	sll.sll_protocol = htons(ETH_P_ALL);
	if (bind(lv->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		snprintf(err, errlen, "bind: %s", strerror(errno));
		return -1;
	}
	return 0;
}

unsigned fdset_gen;

void
fdset_changed(void)
{
	__atomic_add_fetch(&fdset_gen, 1, __ATOMIC_RELAXED);
}

void
live_close(struct capture *c)
{
	struct live *lv = c->lv;

	if (lv == NULL)
		return;
	if (lv->map != NULL)
		munmap(lv->map, lv->map_len);
	if (lv->fd != -1)
		close(lv->fd);
	free(lv);
	c->lv = NULL;
	fdset_changed();
}

int
live_open(struct capture *c, const char *device, unsigned ring_kb,
    char *err, size_t errlen)
{
	struct live *lv = xcalloc(1, sizeof(*lv));

	lv->fd = -1;
	c->lv = lv;
	c->dlt = link_dlt(device);
	fdset_changed();
	if (open_ring(lv, device, ring_kb, c->dlt, err, errlen) == -1) {
		live_close(c);
		return -1;
	}
	return 0;
}

/*
 * Outgoing packets are not even delivered when no outbound direction is
 * enabled (Linux 4.20 on; before, they are skipped here).
 */
void
live_directions(struct capture *c)
{
	int ignore = c->bidx_out < 0;

	if (c->lv == NULL || ignore == c->lv->ignore_out)
		return;
	if (setsockopt(c->lv->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &ignore,
	    sizeof(ignore)) == 0)
		c->lv->ignore_out = ignore;
}

/* The kernel's index of the device c was opened on, 0: not open. */
int
live_ifindex(const struct capture *c)
{
	return c->lv != NULL ? c->lv->ifindex : 0;
}

/*
 * A device that goes down leaves an error on its packet sockets (the
 * ring is never read with recv, which would clear it): poll would report
 * it at once, again and again, and the loop would spin. Reading it
 * clears it; capture goes on when the device is up again.
 */
void
live_clear_error(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
}

int
live_fd(const struct capture *c)
{
	return c->lv != NULL ? c->lv->fd : -1;
}

/* Packets the kernel dropped since the last call (the ring was full). */
uint64_t
live_drops(struct capture *c)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	if (c->lv == NULL ||
	    getsockopt(c->lv->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) ==
	    -1)
		return 0;
	return st.tp_drops;
}

/* the virtio-net header's gso_type, just before the frame */
#define VNET_GSO(h)                                                          \
	(((const struct virtio_net_hdr *)((const uint8_t *)(h) + (h)->tp_mac) - \
	    1)->gso_type != VIRTIO_NET_HDR_GSO_NONE)

/*
 * One packet of a block: the VLAN tag the kernel took into metadata is
 * put back after the MAC addresses, so decoding sees the frame as sent.
 */
static void
one_packet(struct slot *s, struct capture *c, const struct tpacket3_hdr *h)
{
	const struct sockaddr_ll *sll = (const struct sockaddr_ll *)
	    ((const uint8_t *)h + TPACKET_ALIGN(sizeof(*h)));
	const uint8_t *mac = (const uint8_t *)h + h->tp_mac;
	uint8_t frame[LIVE_SNAPLEN + 4];
	struct pcap_pkthdr ph;
	int out = sll->sll_pkttype == PACKET_OUTGOING, tag = 0;

	if ((out ? c->bidx_out : c->bidx) < 0)
		return; /* a direction that is not enabled */
	ph.ts.tv_sec = h->tp_sec;
	ph.ts.tv_usec = h->tp_nsec / 1000;
	ph.caplen = h->tp_snaplen;
	ph.len = h->tp_len;
	if ((h->tp_status & TP_STATUS_VLAN_VALID) && c->dlt == DLT_EN10MB &&
	    h->tp_snaplen >= 12 && h->tp_snaplen <= LIVE_SNAPLEN) {
		uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ?
		    h->hv1.tp_vlan_tpid : ETHERTYPE_VLAN;

		memcpy(frame, mac, 12);
		frame[12] = (uint8_t)(tpid >> 8);
		frame[13] = (uint8_t)tpid;
		frame[14] = (uint8_t)(h->hv1.tp_vlan_tci >> 8);
		frame[15] = (uint8_t)h->hv1.tp_vlan_tci;
		memcpy(frame + 16, mac + 12, h->tp_snaplen - 12);
		ph.caplen += 4;
		ph.len += 4;
		mac = frame;
		tag = 4;
	}
	/* a super-packet: the rare way, as its segments */
	if (c->lv->vnet && VNET_GSO(h) && live_gso(s, c, &ph, mac, out,
	    (const uint8_t *)h + h->tp_mac - sizeof(struct virtio_net_hdr),
	    tag) == 0)
		return;
	capture_live_packet(s, c, &ph, mac, out);
}

#define FRAME_AHEAD 2 /* frames of a block fetched ahead of the one read */

/* Lines [from, from + len) of a block from h on, into the cache. */
static inline void
prefetch_frames(const void *h, size_t from, size_t len)
{
	const uint8_t *p = (const uint8_t *)h + from;
	size_t o;

	for (o = 0; o < len; o += 64)
		__builtin_prefetch(p + o);
}

/*
 * Reads the blocks the kernel handed over, up to budget packets (whole
 * blocks: a block goes back to the kernel only when all of it is read).
 * Returns the packets read.
 */
int
live_read(struct slot *s, struct capture *c, int budget)
{
	struct live *lv = c->lv;
	int n = 0;

	while (lv != NULL && n < budget) {
		struct tpacket_block_desc *b = (struct tpacket_block_desc *)
		    (lv->map + (size_t)lv->cur * lv->req.tp_block_size);
		const struct tpacket3_hdr *h;
		uint32_t i, np;

		if (!(__atomic_load_n(&b->hdr.bh1.block_status,
		    __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		np = b->hdr.bh1.num_pkts;
		h = (const struct tpacket3_hdr *)((uint8_t *)b +
		    b->hdr.bh1.offset_to_first_pkt);
		prefetch_frames(h, 0, FRAME_AHEAD * 256);
		for (i = 0; i < np; i++) {
			uint32_t next = h->tp_next_offset;

			/* the frames FRAME_AHEAD on, at this one's length:
			 * written by another CPU, each line a miss */
			prefetch_frames(h, FRAME_AHEAD * next, next);
			one_packet(s, c, h);
			h = (const struct tpacket3_hdr *)((const uint8_t *)h +
			    next);
		}
		n += (int)np;
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL,
		    __ATOMIC_RELEASE);
		lv->cur = (lv->cur + 1) % lv->req.tp_block_nr;
	}
	capture_live_flush(s); /* every packet read is counted */
	return n;
}

/* A block with packets the kernel has not handed over yet, or has. */
static int
pending(const struct live *lv)
{
	const struct tpacket_block_desc *b = (const struct tpacket_block_desc *)
	    (lv->map + (size_t)lv->cur * lv->req.tp_block_size);

	/* the kernel counts a block's packets as it fills it */
	return (__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
	    TP_STATUS_USER) ||
	    __atomic_load_n(&b->hdr.bh1.num_pkts, __ATOMIC_RELAXED) > 0;
}

/*
 * At a stop: what came before it is read. The block being filled is
 * handed over LIVE_BLOCK_MS after its first packet at the latest; it is
 * waited for only when it holds packets.
 */
void
live_drain(struct slot *s)
{
	int64_t end = mono_ms() + LIVE_BLOCK_MS + 10;
	size_t i;

	for (i = 0; i < s->ncap; i++) {
		struct capture *c = &s->cap[i];

		while (c->lv != NULL && pending(c->lv) && mono_ms() < end) {
			struct pollfd p = { c->lv->fd, POLLIN, 0 };

			if (live_read(s, c, INT32_MAX) == 0)
				poll(&p, 1, (int)(end - mono_ms()));
		}
	}
}

/* ---- one device over several workers (workers.c) ---- */

#ifndef PACKET_FANOUT_CBPF
#define PACKET_FANOUT_CBPF 6
#endif
#ifndef PACKET_FANOUT_FLAG_UNIQUEID
#define PACKET_FANOUT_FLAG_UNIQUEID 0x2000
#endif
#ifndef PACKET_FANOUT_DATA
#define PACKET_FANOUT_DATA 22
#endif

/*
 * Joins c's socket to a fanout group of its device: a new group with an
 * id the kernel makes unique (create: *id is set), or the group *id.
 */
int
live_fanout(struct capture *c, int create, uint16_t *id, char *err,
    size_t errlen)
{
	int arg = create ?
	    (PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_UNIQUEID) << 16 :
	    PACKET_FANOUT_CBPF << 16 | *id;
	socklen_t len = sizeof(arg);

	if (c->lv == NULL) {
		snprintf(err, errlen, "not a live capture");
		return -1;
	}
	if (setsockopt(c->lv->fd, SOL_PACKET, PACKET_FANOUT, &arg,
	    sizeof(arg)) == -1) {
		snprintf(err, errlen, "PACKET_FANOUT%s: %s", create ?
		    " (a new group)" : "", strerror(errno));
		return -1;
	}
	if (create) {
		if (getsockopt(c->lv->fd, SOL_PACKET, PACKET_FANOUT, &arg,
		    &len) == -1) {
			snprintf(err, errlen, "PACKET_FANOUT id: %s",
			    strerror(errno));
			return -1;
		}
		*id = (uint16_t)(arg & 0xffff);
	}
	return 0;
}

/*
 * The group's program: the worker of a packet, from the IPv6 addresses
 * in fields (FANOUT_SRC, FANOUT_DST) XORed and folded to a byte; the
 * kernel takes it modulo the workers. The fanout runs before the socket
 * sees the frame: a received packet starts at its network header (the
 * kernel has taken the outer VLAN tag into its metadata; a second tag is
 * still there), a sent one at its link header, tags in it or not. So the
 * IPv6 header is found per packet type. What is not IPv6 goes to the
 * first worker, as whole flows.
 */
#define FP(c, k) ((struct sock_filter)BPF_STMT((c), (k)))
#define FJ(c, k, t, f) ((struct sock_filter)BPF_JUMP((c), (k), (t), (f)))
#define F_MAX 96
#define M_BASE 15 /* scratch: the IPv6 header's offset */
#define M_ACC 0	  /* scratch: the hash so far */

/* Jumps to label `to` of the program: patched when it is known. */
struct fprog {
	struct sock_filter f[F_MAX];
	unsigned n;
	unsigned fix[16][2]; /* (instruction, label) of a jump's true arm */
	unsigned nfix;
	unsigned label[8];
};

enum { L_HASH, L_OTHER, L_IN, L_OUT };

static void
emit(struct fprog *g, struct sock_filter x)
{
	if (g->n < F_MAX)
		g->f[g->n] = x;
	g->n++;
}

/* if A == k: base = off, go hash */
static void
base_if(struct fprog *g, uint32_t k, uint32_t off)
{
	emit(g, FJ(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 3));
	emit(g, FP(BPF_LD | BPF_IMM, off));
	emit(g, FP(BPF_ST, M_BASE));
	if (g->nfix < 16) {
		g->fix[g->nfix][0] = g->n;
		g->fix[g->nfix++][1] = L_HASH;
	}
	emit(g, FP(BPF_JMP | BPF_JA, 0));
}

static void
jump_to(struct fprog *g, unsigned label)
{
	if (g->nfix < 16) {
		g->fix[g->nfix][0] = g->n;
		g->fix[g->nfix++][1] = label;
	}
	emit(g, FP(BPF_JMP | BPF_JA, 0));
}

int
live_fanout_program(struct capture *c, unsigned fields, char *err,
    size_t errlen)
{
	struct fprog g;
	struct sock_fprog fp;
	unsigned i, off, first = fields & FANOUT_SRC ? 8 : 24,
	    last = fields & FANOUT_DST ? 40 : 24;

	memset(&g, 0, sizeof(g));
	emit(&g, FP(BPF_LD | BPF_W | BPF_ABS,
	    (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)));
	emit(&g, FJ(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 1, 0));
	jump_to(&g, L_IN);
	/* sent: from the link header */
	g.label[L_OUT] = g.n;
	if (c->dlt == DLT_EN10MB) {
		emit(&g, FP(BPF_LD | BPF_H | BPF_ABS, 12));
		base_if(&g, ETHERTYPE_IPV6, 14);
		emit(&g, FP(BPF_LD | BPF_H | BPF_ABS, 16));
		base_if(&g, ETHERTYPE_IPV6, 18);
		emit(&g, FP(BPF_LD | BPF_H | BPF_ABS, 20));
		base_if(&g, ETHERTYPE_IPV6, 22);
		jump_to(&g, L_OTHER);
	} else {
		emit(&g, FP(BPF_LD | BPF_IMM, 0));
		emit(&g, FP(BPF_ST, M_BASE));
		jump_to(&g, L_HASH);
	}
	/* received: from the network header, or a VLAN tag before it */
	g.label[L_IN] = g.n;
	emit(&g, FP(BPF_LD | BPF_W | BPF_ABS,
	    (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL)));
	base_if(&g, ETHERTYPE_IPV6, 0);
	emit(&g, FJ(BPF_JMP | BPF_JEQ | BPF_K, ETHERTYPE_VLAN, 1, 0));
	jump_to(&g, L_OTHER);
	emit(&g, FP(BPF_LD | BPF_H | BPF_ABS, 2));
	base_if(&g, ETHERTYPE_IPV6, 4);
	jump_to(&g, L_OTHER);
	/* the hash of the address words (the kernel's check wants every
	 * way into it to have stored the base: none falls through) */
	g.label[L_HASH] = g.n;
	emit(&g, FP(BPF_LD | BPF_IMM, 0));
	emit(&g, FP(BPF_ST, M_ACC));
	for (off = first; off < last && fields != 0; off += 4) {
		emit(&g, FP(BPF_LDX | BPF_MEM, M_BASE));
		emit(&g, FP(BPF_LD | BPF_W | BPF_IND, off));
		emit(&g, FP(BPF_LDX | BPF_MEM, M_ACC));
		emit(&g, FP(BPF_ALU | BPF_XOR | BPF_X, 0));
		emit(&g, FP(BPF_ST, M_ACC));
	}
	emit(&g, FP(BPF_MISC | BPF_TAX, 0));
	emit(&g, FP(BPF_ALU | BPF_RSH | BPF_K, 16));
	emit(&g, FP(BPF_ALU | BPF_XOR | BPF_X, 0));
	emit(&g, FP(BPF_MISC | BPF_TAX, 0));
	emit(&g, FP(BPF_ALU | BPF_RSH | BPF_K, 8));
	emit(&g, FP(BPF_ALU | BPF_XOR | BPF_X, 0));
	emit(&g, FP(BPF_RET | BPF_A, 0));
	g.label[L_OTHER] = g.n;
	emit(&g, FP(BPF_RET | BPF_K, 0));
	if (g.n > F_MAX) {
		snprintf(err, errlen, "fanout program: %u instructions", g.n);
		return -1;
	}
	for (i = 0; i < g.nfix; i++) /* ja: k is the forward offset */
		g.f[g.fix[i][0]].k = g.label[g.fix[i][1]] - g.fix[i][0] - 1;
	fp.len = (unsigned short)g.n;
	fp.filter = g.f;
	if (c->lv == NULL || setsockopt(c->lv->fd, SOL_PACKET,
	    PACKET_FANOUT_DATA, &fp, sizeof(fp)) == -1) {
		snprintf(err, errlen, "PACKET_FANOUT_DATA: %s",
		    c->lv ? strerror(errno) : "not a live capture");
		return -1;
	}
	return 0;
}
