/*
 * flow.c: pcapgen's flow mode: M packets over N 5-tuples, the flows of
 * each round in another order, the same file for the same arguments.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pcapgen.h"
#include "util.h"

static uint64_t
splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* a bijection on 32 bits: distinct flows get distinct addresses */
static uint32_t
perm32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static uint64_t
gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* a^-1 mod n, for gcd(a, n) == 1 */
static uint64_t
mod_inverse(uint64_t a, uint64_t n)
{
	int64_t t = 0, nt = 1, r = (int64_t)n, nr = (int64_t)(a % n), q, x;

	while (nr != 0) {
		q = r / nr;
		x = t - q * nt, t = nt, nt = x;
		x = r - q * nr, r = nr, nr = x;
	}
	return (uint64_t)(t < 0 ? t + (int64_t)n : t);
}

/* round r visits flow (a * k + b) mod n at its position k */
struct round {
	uint64_t a, b;
};

static struct round
round_perm(const struct flowgen *fg, uint64_t r)
{
	struct round p;
	uint64_t n = fg->flows, h = splitmix(splitmix(fg->seed) + r);

	p.a = n > 1 ? h % n : 0;
	p.b = n > 1 ? splitmix(h) % n : 0;
	if (n > 1) {
		if (p.a == 0)
			p.a = 1;
		while (gcd(p.a, n) != 1)
			p.a = p.a + 1 == n ? 1 : p.a + 1;
	} else {
		p.a = 1;
	}
	return p;
}

/* the 5-tuple of flow f */
static void
flow_tuple(const struct flowgen *fg, uint64_t f, struct gpkt *g)
{
	uint64_t h = splitmix(fg->seed * 0x100000001b3ULL ^ f);
	uint32_t id = perm32((uint32_t)f ^ (uint32_t)fg->seed);
	static const uint16_t ports[] = {80, 443, 53, 22, 8080, 123, 25, 993};

	g->src[0] = 0x20, g->src[1] = 0x01, g->src[2] = 0x0d, g->src[3] = 0xb8;
	g->src[4] = (uint8_t)(fg->seed >> 8), g->src[5] = (uint8_t)fg->seed;
	memcpy(g->src + 8, &h, 4); /* noise */
	g->src[12] = id >> 24, g->src[13] = id >> 16 & 0xff;
	g->src[14] = id >> 8 & 0xff, g->src[15] = id & 0xff;
	g->dst[0] = 0x20, g->dst[1] = 0x01, g->dst[2] = 0x0d, g->dst[3] = 0xb8;
	g->dst[4] = 0xff, g->dst[5] = 0xff;
	g->dst[14] = (uint8_t)(h >> 40 & 0x03); /* 1024 servers */
	g->dst[15] = (uint8_t)(h >> 48);
	g->proto = (h >> 56 & 3) ? IPPROTO_TCP : IPPROTO_UDP;
	g->sport = (uint16_t)(1024 + (h >> 16 & 0xffff) % 64511);
	g->dport = ports[h >> 60 & 7];
	g->tc = (h >> 34 & 1) ? 0 : 0x28;
	g->label = (uint32_t)(h >> 8) & 0xfffff;
	if (!fg->mix)
		return;
	/* --mix: the kind of flow from bits the rest does not use */
	if (h >> 32 & 1) {
		g->nvlan = 1;
		g->tpid[0] = 0x8100;
		g->vid[0] = (uint16_t)(1 + (h >> 35 & 0xffff) % 4094);
	}
	if (h >> 33 & 1) {
		g->next = 2;
		g->ext[0] = X_HOP;
		g->ext[1] = X_DST;
	}
}

static void
print_counts(const struct flowgen *fg, const uint64_t *cnt)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	FILE *fp = stdout;
	struct gpkt g;
	uint64_t f;

	fprintf(fp, "# src dst proto sport dport packets bytes\n");
	for (f = 0; f < fg->flows; f++) {
		memset(&g, 0, sizeof(g));
		flow_tuple(fg, f, &g);
		inet_ntop(AF_INET6, g.src, s, sizeof(s));
		inet_ntop(AF_INET6, g.dst, d, sizeof(d));
		fprintf(fp, "%s %s %u %u %u %" PRIu64 " %" PRIu64 "\n", s, d,
			g.proto, g.sport, g.dport, cnt[2 * f], cnt[2 * f + 1]);
	}
}

int
flow_mode(const struct flowgen *fg, struct out *o)
{
	uint64_t n = fg->flows, rounds, rem, i, *cnt = NULL, last_inv = 0;
	struct round perm = {1, 0}, lastp;
	char errbuf[256];
	struct gpkt g;

	rounds = (fg->packets + n - 1) / n;
	rem = fg->packets % n;
	lastp = round_perm(fg, rounds ? rounds - 1 : 0);
	if (n > 1)
		last_inv = mod_inverse(lastp.a, n);
	if (fg->print_counts)
		cnt = xcalloc(n * 2, sizeof(*cnt));
	o->link = L_ETH;
	o->snaplen = (int)fg->snaplen;

	for (i = 0; i < fg->packets; i++) {
		uint64_t r = i / n, k = i % n, f, x = splitmix(fg->seed + i);
		int first, last;
		size_t len, cap;

		if (k == 0)
			perm = round_perm(fg, r);
		f = (perm.a * k + perm.b) % n;
		first = r == 0;
		if (r + 1 == rounds)
			last = 1;
		else if (r + 2 == rounds && rem != 0)
			/* last unless f shows up in the short last round */
			last = ((f + n - lastp.b) % n * last_inv) % n >= rem;
		else
			last = 0;

		memset(&g, 0, sizeof(g));
		flow_tuple(fg, f, &g);
		g.hlim = 64;
		g.len = (uint32_t)(64 + x % 1437);
		if (g.next && g.len < 96)
			g.len = 96; /* 40 + 16 of options + a TCP header */
		if (g.proto == IPPROTO_TCP) {
			g.flags = first ? 0x02 : (x >> 20 & 3) ? 0x10 : 0x18;
			if (last && fg->tcp_fin)
				g.flags = first ? 0x03 : 0x11;
		}
		len = build_frame(&g, L_ETH, frame, sizeof(frame), fg->snaplen,
				  errbuf, sizeof(errbuf));
		if (len == 0)
			fatalx("flow %" PRIu64 ": %s", f, errbuf);
		cap = len < fg->snaplen ? len : fg->snaplen;
		out_write(o, fg->start_us + i * 1000000 / fg->pps, cap, len);
		if (cnt) {
			cnt[2 * f]++;
			cnt[2 * f + 1] += g.len;
		}
	}
	out_close(o);
	if (cnt) {
		print_counts(fg, cnt);
		free(cnt);
	}
	return 0;
}
