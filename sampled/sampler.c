/*
 * sampler.c: which packets of an interface direction are sampled:
 * fix-packets (every Nth), random-packets (one in N on average, N-spaced
 * at random), fix-time (the first packet of every T ms), or all.
 */
#include "sampled.h"

static uint32_t
next_rand(struct sampler *sm)
{
	/* xorshift64*: reproducible for a given seed */
	sm->rng ^= sm->rng >> 12;
	sm->rng ^= sm->rng << 25;
	sm->rng ^= sm->rng >> 27;
	return (uint32_t)((sm->rng * 0x2545f4914f6cdd1dULL) >> 32);
}

void
sampler_init(struct sampler *sm, const Netstream__Sampler *ps, uint64_t seed)
{
	sm->mode = ps ? (int)ps->mode : 0;
	sm->value = ps ? ps->value : 0;
	/* plans are checked (1..65535); a packet count of 0 would divide
	 * by zero: it samples every packet, as 1 does */
	if (sm->value == 0 && (sm->mode == NETSTREAM__SAMPLER_MODE__FIX_PACKETS ||
	    sm->mode == NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS))
		sm->value = 1;
	sm->count = 0;
	sm->next_ms = 0;
	sm->rng = seed ? seed : 0x853c49e6748fea9bULL;
	/* random: the gap to the next sample is uniform in 1..2N-1 */
	sm->skip = sm->value > 1 ?
	    (uint32_t)(1 + next_rand(sm) % (2 * (uint64_t)sm->value - 1)) : 1;
}

/* 1 when this packet is sampled. */
int
sampler_take(struct sampler *sm, int64_t now_ms)
{
	switch (sm->mode) {
	case NETSTREAM__SAMPLER_MODE__FIX_PACKETS:
		return sm->count++ % sm->value == 0;
	case NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS:
		if (--sm->skip > 0)
			return 0;
		sm->skip = sm->value > 1 ? (uint32_t)(1 + next_rand(sm) %
		    (2 * (uint64_t)sm->value - 1)) : 1;
		return 1;
	case NETSTREAM__SAMPLER_MODE__FIX_TIME:
		if ((uint64_t)now_ms < sm->next_ms)
			return 0;
		sm->next_ms = (uint64_t)now_ms + sm->value;
		return 1;
	default:
		return 1;
	}
}
