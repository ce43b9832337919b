/*
 * test_hashseed.c: the flow cache hash has a secret (issue 13, item 9):
 * caches made under two secrets file the same keys in different buckets,
 * keys made to collide under one secret do not collide under another,
 * and the process's secret is what getrandom() gave.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include <cmocka.h>

#include "fields.h"
#include "../../sampled/sampled.h"
#include "../../sampled/sampled_fields.h"

void
push_row(struct slot *s, struct binding *b, struct flow *f, int reason)
{
	(void)s;
	(void)b;
	(void)f;
	(void)reason;
}

/* getrandom(), as the linker wraps it: scripted, or passed through */
ssize_t __real_getrandom(void *buf, size_t len, unsigned flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags);
static int scripted;	       /* 0: the real one */
static unsigned calls, bad_flags;
static int script_fail;	       /* errno to fail every call with */
static uint8_t pattern[64];

ssize_t
__wrap_getrandom(void *buf, size_t len, unsigned flags)
{
	static size_t given;
	size_t n = len;

	if (!scripted)
		return __real_getrandom(buf, len, flags);
	calls++;
	if (flags != 0)
		bad_flags++;
	if (script_fail) {
		errno = script_fail;
		return -1;
	}
	if (calls == 1) { /* interrupted before any byte */
		given = 0;
		errno = EINTR;
		return -1;
	}
	if (calls == 2 && n > 5) /* a short read */
		n = 5;
	memcpy(buf, pattern + given, n);
	given += n;
	return (ssize_t)n;
}

static uint32_t match5[] = { F_SRC_ADDR, F_DST_ADDR, F_PROTOCOL, F_SRC_PORT,
	F_DST_PORT };
static uint32_t coll[] = { F_PACKETS, F_BYTES };
static Netstream__Plan plan;
static Netstream__Record rec;
static Netstream__Binding pb;
static struct slot slot;

static struct binding
binding_with_seed(uint64_t k0, uint64_t k1)
{
	struct hash_seed s = { k0, k1 };
	struct binding b;

	netstream__plan__init(&plan);
	netstream__record__init(&rec);
	netstream__binding__init(&pb);
	rec.n_match = 5;
	rec.match = match5;
	rec.n_collect = 2;
	rec.collect = coll;
	rec.template_id = 258;
	memset(&slot, 0, sizeof(slot));
	slot.plan = &plan;
	memset(&b, 0, sizeof(b));
	b.pb = &pb;
	b.rec = &rec;
	cache_seed_set(&s);
	b.cache = cache_new(&plan, &rec);
	assert_non_null(b.cache);
	return b;
}

/* the 5-tuple of flow i: sources that differ in their last 4 bytes */
static struct pkt
pkt(uint32_t i)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.src[0] = 0x20;
	p.src[1] = 0x01;
	memcpy(p.src + 12, &i, 4);
	p.dst[15] = 1;
	p.proto = 17;
	p.sport = 1000;
	p.dport = 53;
	return p;
}

static uint32_t
hash_of(struct binding *b, uint32_t i)
{
	uint8_t key[LAYOUT_MAX_ROW];
	struct pkt p = pkt(i);

	return cache_key(&slot, b, &p, key);
}

/* two caches of one process, made under two secrets */
static void
two_seeds_hash_a_key_differently(void **state)
{
	struct binding a = binding_with_seed(1, 2);
	struct binding b = binding_with_seed(0x0123456789abcdefULL,
	    0xfedcba9876543210ULL);
	struct binding a2 = binding_with_seed(1, 2);
	unsigned i, same = 0;

	(void)state;
	for (i = 0; i < 1000; i++) {
		if (hash_of(&a, i) == hash_of(&b, i))
			same++;
		/* one secret, one function */
		assert_int_equal(hash_of(&a, i), hash_of(&a2, i));
	}
	/* 32-bit hashes: equal by chance about once in 4 billion */
	assert_int_equal(same, 0);
	cache_free(a.cache);
	cache_free(b.cache);
	cache_free(a2.cache);
}

/*
 * What an attacker does to a known function: search keys that share a
 * bucket (here 64 of 65536 buckets). Under another secret the same keys
 * spread as any keys do: no bucket holds more than a few.
 */
static void
colliding_keys_spread_under_another_seed(void **state)
{
	enum { WANT = 64, MASK = 0xffff };
	struct binding a = binding_with_seed(0x9e3779b97f4a7c15ULL,
	    0xc2b2ae3d27d4eb4fULL); /* the function before it had a secret */
	struct binding b = binding_with_seed(0x5851f42d4c957f2dULL,
	    0x14057b7ef767814fULL);
	uint32_t keys[WANT], target, i, n = 0;
	unsigned count[MASK + 1] = { 0 }, worst = 0;

	(void)state;
	target = hash_of(&a, 0) & MASK;
	for (i = 0; n < WANT && i < 100000000u; i++)
		if ((hash_of(&a, i) & MASK) == target)
			keys[n++] = i;
	assert_int_equal(n, WANT);
	for (i = 0; i < WANT; i++) {
		unsigned k = hash_of(&b, keys[i]) & MASK;

		if (++count[k] > worst)
			worst = count[k];
	}
	/* 64 balls in 65536 bins: a bin of 3 already is rare */
	assert_true(worst <= 3);
	cache_free(a.cache);
	cache_free(b.cache);
}

/* cache_seed_init takes its secret from getrandom(), EINTR and short
 * reads included, with flags 0 (the kernel CSPRNG, waiting for it) */
static void
seed_comes_from_getrandom(void **state)
{
	struct hash_seed s;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(0xa5 ^ (i * 37));
	scripted = 1;
	calls = bad_flags = 0;
	script_fail = 0;
	assert_int_equal(cache_seed_init(), 0);
	scripted = 0;
	s = cache_seed();
	assert_int_equal(calls, 3);
	assert_int_equal(bad_flags, 0);
	assert_memory_equal(&s, pattern, sizeof(s));
}

/* without getrandom the secret is still not the fixed constants */
static void
seed_without_getrandom_is_not_fixed(void **state)
{
	struct hash_seed fixed = { 0x9e3779b97f4a7c15ULL,
		0xc2b2ae3d27d4eb4fULL }, s;

	(void)state;
	cache_seed_set(&fixed);
	scripted = 1;
	calls = 0;
	script_fail = ENOSYS;
	assert_int_equal(cache_seed_init(), -1);
	scripted = 0;
	script_fail = 0;
	s = cache_seed();
	assert_true(s.k0 != fixed.k0 || s.k1 != fixed.k1);
}

/* the real getrandom: two draws (two processes) differ */
static void
two_draws_differ(void **state)
{
	struct hash_seed s1, s2;

	(void)state;
	scripted = 0;
	assert_int_equal(cache_seed_init(), 0);
	s1 = cache_seed();
	assert_int_equal(cache_seed_init(), 0);
	s2 = cache_seed();
	assert_memory_not_equal(&s1, &s2, sizeof(s1));
	assert_true(s1.k0 != 0x9e3779b97f4a7c15ULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_seeds_hash_a_key_differently),
		cmocka_unit_test(colliding_keys_spread_under_another_seed),
		cmocka_unit_test(seed_comes_from_getrandom),
		cmocka_unit_test(seed_without_getrandom_is_not_fixed),
		cmocka_unit_test(two_draws_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
