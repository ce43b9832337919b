/*
 * bench/cachecost.c: the flow cache alone as burst() drives it (key and
 * hash, group and flow prefetches, update), for a 5-tuple record: N flows
 * (argument), 10M packets in rounds of N, each round in another order, as
 * pcapgen's traces. Best of 3; prints "N flows: X ns a packet". Without
 * the file reading, decoding and the VM's I/O noise, it shows what a
 * change to cache.c costs or saves (bench/README.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fields.h"
#include "sampled.h"
#include "sampled_fields.h"
void push_row(struct slot *s, struct binding *b, struct flow *f, int reason);
int main(int argc, char **argv);

void
push_row(struct slot *s, struct binding *b, struct flow *f, int reason)
{
	(void)s;
	(void)b;
	(void)f;
	(void)reason;
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* flow k of round r: an affine permutation per round (a odd, so a
 * permutation for any power of two; checked by the flow count below) */
static uint32_t
visit(uint32_t n, uint32_t r, uint32_t k)
{
	uint64_t a = (2 * (uint64_t)r * 2654435761u + 1) % n;

	while (n > 1 && (a == 0 || (n % 2 == 0 && a % 2 == 0)))
		a++;
	return (uint32_t)((a * k + r * 40503u) % n);
}

int
main(int argc, char **argv)
{
	static uint32_t m[] = { F_SRC_ADDR, F_DST_ADDR, F_PROTOCOL, F_SRC_PORT,
		F_DST_PORT };
	static struct {
		struct pkt p;
		uint32_t h;
		uint8_t key[BURST_KEY_MAX];
	} it[BURST];
	static struct slot s;
	static struct binding b;
	Netstream__Plan plan;
	Netstream__Record rec;
	Netstream__Binding pb;
	uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 0, npk = 10000000;
	uint32_t *order, i, k;
	double best = 1e9;
	int rep;

	if (n == 0 || n > 2097152) {
		fprintf(stderr, "usage: cachecost FLOWS (1..2097152)\n");
		return 2;
	}
	order = malloc((size_t)npk * sizeof(*order));
	if (order == NULL)
		return 1;
	for (i = 0; i < npk; i++)
		order[i] = visit(n, i / n, i % n);
	netstream__plan__init(&plan);
	netstream__record__init(&rec);
	netstream__binding__init(&pb);
	rec.n_match = 5;
	rec.match = m;
	rec.template_id = 258;
	s.plan = &plan;
	s.flows_max = 2097152;
	s.active_ms = 3600000;
	s.inactive_ms = 600000;
	b.pb = &pb;
	b.rec = &rec;
	cache_seed_init();
	for (rep = 0; rep < 3; rep++) {
		double t0, ns;

		b.cache = cache_new(&plan, &rec);
		t0 = now();
		for (i = 0; i < npk; i += BURST) {
			uint32_t nb = npk - i < BURST ? npk - i : BURST;

			for (k = 0; k < nb; k++) {
				struct pkt *p = &it[k].p;
				uint32_t f = order[i + k] * 2654435761u;

				memset(p, 0, sizeof(*p));
				p->proto = 6;
				p->ip_len = 100;
				p->tcp_flags = 0x10;
				memcpy(p->src + 12, &f, 4);
				p->dst[15] = 1;
				p->sport = (uint16_t)(order[i + k] >> 3);
				p->dport = 80;
				it[k].h = cache_key(&s, &b, p, it[k].key);
				cache_prefetch_bucket(b.cache, it[k].h);
			}
			for (k = 0; k < nb && k < PREFETCH_AHEAD; k++)
				cache_prefetch_flow(b.cache, it[k].h);
			for (k = 0; k < nb; k++) {
				if (k + PREFETCH_AHEAD < nb)
					cache_prefetch_flow(b.cache,
					    it[k + PREFETCH_AHEAD].h);
				cache_update(&s, &b, &it[k].p,
				    1000 + (i + k) / 1000, it[k].key, it[k].h);
			}
		}
		ns = (now() - t0) / npk * 1e9;
		if (b.cache->used != n) {
			fprintf(stderr, "%u flows made, not %u\n",
			    b.cache->used, n);
			return 1;
		}
		cache_free(b.cache);
		s.flows_total = 0;
		if (ns < best)
			best = ns;
	}
	printf("%u flows: %.1f ns a packet\n", n, best);
	free(order);
	return 0;
}
