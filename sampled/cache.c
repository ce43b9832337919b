/*
 * cache.c: the flow cache of one interface direction: a hash of tagged
 * groups, one cache line each, over one array of flows (what a packet
 * needs: counters and key) beside one of their aging parts; a list by
 * first packet (active aging) and a timing wheel by due time (inactive
 * aging), so aging costs what it ages and a packet touches only its own
 * flow. A packet that comes after its flow's active or inactive time
 * starts a new flow, so the flows do not depend on when the aging ran.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#if defined(__SSE2__) && !defined(CACHE_TAG_SWAR)
#include <emmintrin.h>
#endif

#include "fields.h"
#include "log.h"
#include "sampled.h"
#include "sampled_fields.h"
#include "util.h"

#define GROW_FIRST 1024
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_FROM (4 * HUGE_PAGE) /* the aging part */
#define HUGE_FROM_POOL HUGE_PAGE /* the flows */
#define REHASH_AHEAD 16
#define POPULATE_FLOWS 1024 /* entries made resident at a time */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

static inline struct flow *
F(const struct cache *c, uint32_t i)
{
	return (struct flow *)(c->pool + (size_t)i * c->esize);
}

static inline struct flow_meta *
M(const struct cache *c, uint32_t i)
{
	return &c->meta[i];
}

static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/*
 * The hash's secret, per process (cache_seed_init), copied into each
 * cache: without one, traffic crafted to collide under a known function
 * would turn the cache into long chains. Until it is set (unit tests)
 * it is the constants the hash had before it had a secret.
 */
#define SEED_FIXED0 0x9e3779b97f4a7c15ULL
#define SEED_FIXED1 0xc2b2ae3d27d4eb4fULL
static struct hash_seed proc_seed = { SEED_FIXED0, SEED_FIXED1 };

/*
 * bench/run builds a sampled with CACHE_HASH_FIXED: the hash of the same
 * code with its constants as immediates, as it was before the seed, so
 * `make bench` shows what the seed costs.
 */
#ifdef CACHE_HASH_FIXED
#define K0(c) ((void)(c), SEED_FIXED0)
#define K1(c) ((void)(c), SEED_FIXED1)
#else
#define K0(c) ((c)->seed.k0)
#define K1(c) ((c)->seed.k1)
#endif

/*
 * A fast multiply-xorshift hash of the key; keys are short. Two lanes of
 * 8-byte words, so their multiplies overlap, and a key of 8 bytes or more
 * ends with its last 8 bytes (overlapping the words before): no loop
 * over the tail bytes. The lanes start from the secret and every key word
 * is mixed into a lane that depends on it, so which keys share a bucket
 * cannot be worked out without the secret (it is not a cryptographic
 * MAC: the output is never shown, only chain lengths could leak it).
 */
static inline uint32_t
key_hash(const uint8_t *k, unsigned len, uint64_t k0, uint64_t k1)
{
	uint64_t a = k0 ^ len, b = k1;
	unsigned i = 0;

	for (; i + 16 <= len; i += 16) {
		a = (a ^ load64(k + i)) * 0xbf58476d1ce4e5b9ULL;
		b = (b ^ load64(k + i + 8)) * 0x94d049bb133111ebULL;
		a ^= a >> 31;
		b ^= b >> 29;
	}
	if (i + 8 <= len) {
		a = (a ^ load64(k + i)) * 0xbf58476d1ce4e5b9ULL;
		a ^= a >> 31;
		i += 8;
	}
	if (i < len) {
		uint64_t t = 0;

		if (len >= 8)
			t = load64(k + len - 8);
		else
			memcpy(&t, k, len);
		b = (b ^ t) * 0x94d049bb133111ebULL;
	}
	a ^= (b >> 32) | (b << 32);
	a ^= a >> 29;
	a *= 0xbf58476d1ce4e5b9ULL;
	a ^= a >> 32;
	return (uint32_t)a;
}

/* Fills buf from getrandom(), as the kernel's CSPRNG; -1 if it cannot. */
static int
random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Draws the process's secret from getrandom(); the caches made after it
 * use it. Without getrandom (a kernel before 3.17) the secret is weak
 * (time and pid): said once, and -1.
 */
int
cache_seed_init(void)
{
	struct hash_seed s;
	struct timespec ts;

	if (random_bytes(&s, sizeof(s)) == 0) {
		proc_seed = s;
		return 0;
	}
	log_warn("getrandom: flow cache hash seeded from the clock");
	clock_gettime(CLOCK_REALTIME, &ts);
	proc_seed.k0 ^= ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec;
	proc_seed.k1 ^= (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
	return -1;
}

void
cache_seed_set(const struct hash_seed *s)
{
	proc_seed = *s;
}

struct hash_seed
cache_seed(void)
{
	return proc_seed;
}

static int
is_route_field(unsigned t)
{
	return t == F_SRC_MASK || t == F_DST_MASK || t == F_SRC_AS ||
	    t == F_DST_AS || t == F_NEXT_HOP || t == F_BGP_NEXT_HOP;
}

/* The op that writes match field type of len bytes into a key. */
static struct keyop
key_op(unsigned type, unsigned len)
{
	struct keyop o = { KOP_FIELD, (uint8_t)len, 0, type };

	if (type == F_SRC_ADDR && len == 16)
		o = (struct keyop){ KOP_COPY16, 16, offsetof(struct pkt, src), 0 };
	else if (type == F_DST_ADDR && len == 16)
		o = (struct keyop){ KOP_COPY16, 16, offsetof(struct pkt, dst), 0 };
	else if (type == F_PROTOCOL && len == 1)
		o = (struct keyop){ KOP_COPY1, 1, offsetof(struct pkt, proto), 0 };
	else if (type == F_TRAFFIC_CLASS && len == 1)
		o = (struct keyop){ KOP_COPY1, 1, offsetof(struct pkt, tclass),
			0 };
	else if (type == F_TCP_FLAGS && len == 1)
		o = (struct keyop){ KOP_COPY1, 1,
			offsetof(struct pkt, tcp_flags), 0 };
	else if (type == F_SRC_PORT && len == 2)
		o = (struct keyop){ KOP_BE16, 2, offsetof(struct pkt, sport), 0 };
	else if (type == F_DST_PORT && len == 2)
		o = (struct keyop){ KOP_BE16, 2, offsetof(struct pkt, dport), 0 };
	else if (type == F_SRC_VLAN && len == 2)
		o = (struct keyop){ KOP_BE16, 2, offsetof(struct pkt, vlan), 0 };
	return o;
}

struct cache *
cache_new(const Netstream__Plan *p, const Netstream__Record *r)
{
	struct cache *c = xcalloc(1, sizeof(*c));
	unsigned i, off = 0;

	if (layout_record(p, r, &c->layout) == -1) {
		free(c);
		return NULL;
	}
	c->seed = proc_seed;
	c->off_src = c->off_dst = c->off_proto = c->off_dport = -1;
	for (i = 0; i < r->n_match; i++) {
		unsigned t = c->layout.f[i].type;

		if (t == F_SRC_ADDR)
			c->off_src = (int)off;
		if (t == F_DST_ADDR)
			c->off_dst = (int)off;
		if (t == F_PROTOCOL && c->layout.f[i].len == 1)
			c->off_proto = (int)off;
		if (t == F_DST_PORT && c->layout.f[i].len == 2)
			c->off_dport = (int)off;
		if (is_route_field(t))
			c->key_routes = 1;
		c->kop[i] = key_op(t, c->layout.f[i].len);
		if (c->kop[i].op == KOP_FIELD)
			c->kop_fields = 1;
		off += c->layout.f[i].len;
	}
	for (i = 0; i < c->layout.n_fields; i++)
		if (is_route_field(c->layout.f[i].type))
			c->uses_routes = 1;
	c->nkop = r->n_match;
	c->key_len = off;
	/* one cache line when it fits (the array is 2 MiB aligned) */
	c->esize = offsetof(struct flow, key) + c->key_len;
	c->esize = c->esize <= 64 ? 64 : (c->esize + 7) & ~(size_t)7;
	c->free_head = c->age_head = c->age_tail = NIL;
	c->wheel = xmalloc(WHEEL_SIZE * sizeof(uint32_t));
	memset(c->wheel, 0xff, WHEEL_SIZE * sizeof(uint32_t));
	return c;
}

/*
 * Address space for bytes, aligned to 2 MiB, with huge pages advised from
 * byte huge_from on (a multiple of 2 MiB; SIZE_MAX: none): a big array
 * then costs a page fault and a TLB entry per 2 MiB instead of per 4 KiB
 * (a fault costs about 16 us on a VM). Nothing is resident until touched,
 * but a huge page is resident whole once touched.
 */
static uint8_t *
region_new(size_t bytes, size_t huge_from, size_t *len)
{
	size_t n = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uint8_t *p, *a;

	p = mmap(NULL, n + HUGE_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap of %zu bytes", n + HUGE_PAGE);
	a = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + n < p + n + HUGE_PAGE)
		munmap(a + n, (size_t)(p + n + HUGE_PAGE - (a + n)));
	if (huge_from < n) /* only a hint: small pages work as well */
		(void)madvise(a + huge_from, n - huge_from, MADV_HUGEPAGE);
	*len = n;
	return a;
}

/*
 * Makes bytes [from, to) of a region resident in one system call: a
 * page faulted in one at a time costs a trap each (about 11 us on a VM,
 * against 0.6 us a page this way). Only a hint: on a kernel without it,
 * the pages fault in as they are touched.
 */
static void
region_populate(uint8_t *base, size_t from, size_t to)
{
	static size_t page;

	if (page == 0)
		page = (size_t)sysconf(_SC_PAGESIZE);
	from &= ~(page - 1);
	to = (to + page - 1) & ~(page - 1);
	if (to > from)
		(void)madvise(base + from, to - from, MADV_POPULATE_WRITE);
}

static void
region_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	region_free(c->pool, c->pool_len);
	region_free(c->meta, c->meta_len);
	region_free(c->groups, c->groups_len);
	free(c->wheel);
	free(c);
}

/* The tag: the hash's top byte (the group takes its low bits), never 0. */
static inline uint8_t
tag_of(uint32_t h)
{
	uint8_t t = (uint8_t)(h >> 24);

	return t != 0 ? t : 1;
}

#if defined(__SSE2__) && !defined(CACHE_TAG_SWAR)
/* Bit k set for each slot k whose tag is t (t 0: the empty slots). */
static inline unsigned
tag_match(const struct hgroup *gp, uint8_t t)
{
	/* the 12 tags and the 4 bytes after them: one compare */
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)gp->tag);

	_Static_assert(offsetof(struct hgroup, ref) == 16, "16 tag bytes");
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8((char)t))) & ((1u << HG_SLOTS) - 1);
}
#else
/*
 * The same, a word at a time, where there is no SSE2 (test_cache_swar
 * runs the cache's tests over it).
 */
#define ONES 0x0101010101010101ULL
#define LOW7 0x7f7f7f7f7f7f7f7fULL

/* 8 bytes, the first in the lowest bits whatever the byte order */
static inline uint64_t
load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Bit k set for each of the 8 bytes of x that is zero, and no other: no
 * carry crosses a byte (each is at most 0x7f + 0x7f before the add). */
static inline unsigned
zero_bytes(uint64_t x)
{
	uint64_t z = ~(((x & LOW7) + LOW7) | x | LOW7);

	/* bit 7 of byte k to bit k: the products land apart */
	return (unsigned)(((z >> 7) * 0x0102040810204080ULL) >> 56);
}

/* Bit k set for each slot k whose tag is t (t 0: the empty slots). */
static inline unsigned
tag_match(const struct hgroup *gp, uint8_t t)
{
	uint8_t rest[8] = { 0 };

	_Static_assert(HG_SLOTS > 8 && HG_SLOTS <= 16, "two words of tags");
	memcpy(rest, gp->tag + 8, HG_SLOTS - 8);
	return (zero_bytes(load_le64(gp->tag) ^ ONES * t) |
	    zero_bytes(load_le64(rest) ^ ONES * t) << 8) &
	    ((1u << HG_SLOTS) - 1);
}
#endif

/* Files entry i under hash h: in its group, or the first after it with
 * room (the groups passed count it in over). */
static void
hg_insert(struct cache *c, uint32_t i, uint32_t h)
{
	uint32_t g = h & c->gmask;

	for (;;) {
		struct hgroup *gp = &c->groups[g];
		unsigned m = tag_match(gp, 0);

		if (m != 0) {
			unsigned s = (unsigned)__builtin_ctz(m);

			gp->tag[s] = tag_of(h);
			gp->ref[s] = i + 1;
			return;
		}
		if (gp->over < UINT8_MAX)
			gp->over++;
		g = (g + 1) & c->gmask;
	}
}

/* Takes entry i, filed under hash h, out of the hash. */
static void
hg_remove(struct cache *c, uint32_t i, uint32_t h)
{
	uint32_t g = h & c->gmask;
	unsigned s;

	for (;;) {
		struct hgroup *gp = &c->groups[g];

		for (s = 0; s < HG_SLOTS; s++)
			if (gp->tag[s] != 0 && gp->ref[s] == i + 1) {
				gp->tag[s] = 0;
				return;
			}
		/* a saturated count no longer knows: it stays */
		if (gp->over < UINT8_MAX)
			gp->over--;
		g = (g + 1) & c->gmask;
	}
}

/* A hash of at least n groups, a power of two, refiled from the array. */
static void
rehash(struct cache *c, uint32_t n)
{
	uint32_t ngroups = 1, i;
	size_t len;

	while (ngroups < n)
		ngroups *= 2;
	len = (size_t)ngroups * sizeof(struct hgroup);
	region_free(c->groups, c->groups_len);
	/* fresh mapped memory is zero, empty groups; every group is
	 * touched: huge pages waste nothing from 2 MiB on, and at most half
	 * from 1 MiB, where a lookup at random would otherwise miss the TLB
	 * (256 small pages and more) */
	c->groups = (struct hgroup *)region_new(len,
	    len >= HUGE_PAGE / 2 ? 0 : SIZE_MAX, &c->groups_len);
	region_populate((uint8_t *)c->groups, 0, len);
	c->gmask = ngroups - 1;
	/* the groups are written in random order: fetched a few flows ahead
	 * (at 1M flows, this refiling was 5% of a run) */
	for (i = 0; i < c->hwm; i++) {
		uint32_t a = i + REHASH_AHEAD;

		if (a < c->hwm)
			__builtin_prefetch(&c->groups[M(c, a)->hash & c->gmask],
			    1);
		if (M(c, i)->used)
			hg_insert(c, i, M(c, i)->hash);
	}
}

/*
 * The flow array is address space for the slot's limit of flows, taken
 * once: entries are handed out from hwm up, so what no flow used yet is
 * never touched (and never resident), and growing copies nothing. Only a
 * plan that raises the limit moves the array. The flows, which every
 * packet reads at random, take huge pages from their second 2 MiB (32k
 * flows of 64 bytes; small pages past that missed the TLB on most
 * packets of a live capture of 100k flows); the aging part, read only as
 * flows come and go, from HUGE_FROM, where the one huge page being
 * filled is at most a quarter of what the array holds.
 */
static void
reserve(struct cache *c, uint64_t limit)
{
	size_t len, mlen;
	uint8_t *p = region_new((size_t)limit * c->esize, HUGE_FROM_POOL,
	    &len);
	uint8_t *m = region_new((size_t)limit * sizeof(struct flow_meta),
	    HUGE_FROM, &mlen);

	if (c->pool != NULL) {
		memcpy(p, c->pool, (size_t)c->hwm * c->esize);
		memcpy(m, c->meta, (size_t)c->hwm * sizeof(struct flow_meta));
		region_free(c->pool, c->pool_len);
		region_free(c->meta, c->meta_len);
	}
	c->pool = p;
	c->pool_len = len;
	c->meta = (struct flow_meta *)m;
	c->meta_len = mlen;
	c->reserved = limit;
	c->populated = c->hwm; /* the copy touched them */
}

/* Doubles what may be handed out of the flow array, and the hash. */
static int
grow(struct cache *c, uint64_t limit)
{
	uint32_t ncap = c->cap ? c->cap * 2 : GROW_FIRST;

	if (ncap > limit)
		ncap = (uint32_t)limit;
	if (ncap <= c->cap)
		return -1;
	if (ncap > c->reserved)
		reserve(c, limit);
	c->cap = ncap;
	/* at most HG_FLOWS flows a group (of HG_SLOTS): a group seldom
	 * fills, so a lookup nearly always reads one group */
	if (c->groups == NULL || (uint64_t)(c->gmask + 1) * HG_FLOWS < ncap)
		rehash(c, (ncap + HG_FLOWS - 1) / HG_FLOWS);
	return 0;
}

static void
whl_unlink(struct cache *c, uint32_t i)
{
	struct flow_meta *f = M(c, i);

	if (f->whl_prev != NIL)
		M(c, f->whl_prev)->whl_next = f->whl_next;
	else
		c->wheel[f->bucket] = f->whl_next;
	if (f->whl_next != NIL)
		M(c, f->whl_next)->whl_prev = f->whl_prev;
}

/*
 * A flow time (ms since boot, mod 2^32) as ms since boot: flows are
 * within 2^31 ms of the slot clock, so a slot up for more than 49.7 days
 * still ages them on time.
 */
static uint64_t
up_ms(const struct slot *s, uint32_t t)
{
	int64_t ref = s->now_ms - s->boot_ms;
	int64_t v = ref + (int32_t)(t - (uint32_t)ref);

	return v < 0 ? 0 : (uint64_t)v;
}

/* Files the flow under the tick of its inactive due time. */
static void
whl_insert(struct slot *s, struct cache *c, uint32_t i)
{
	struct flow_meta *f = M(c, i);
	uint32_t b = (uint32_t)(((up_ms(s, F(c, i)->last_ms) +
	    s->inactive_ms) / WHEEL_TICK_MS) % WHEEL_SIZE);

	f->bucket = (uint16_t)b;
	f->whl_prev = NIL;
	f->whl_next = c->wheel[b];
	if (f->whl_next != NIL)
		M(c, f->whl_next)->whl_prev = i;
	c->wheel[b] = i;
}

static void
age_unlink(struct cache *c, uint32_t i)
{
	struct flow_meta *f = M(c, i);

	if (f->age_prev != NIL)
		M(c, f->age_prev)->age_next = f->age_next;
	else
		c->age_head = f->age_next;
	if (f->age_next != NIL)
		M(c, f->age_next)->age_prev = f->age_prev;
	else
		c->age_tail = f->age_prev;
}

/* Hands the flow to its batch and frees its entry. */
static void
expire(struct slot *s, struct binding *b, uint32_t i, int reason)
{
	struct cache *c = b->cache;
	struct flow *f = F(c, i);

	push_row(s, b, f, reason);
	hg_remove(c, i, M(c, i)->hash);
	whl_unlink(c, i);
	age_unlink(c, i);
	M(c, i)->used = 0;
	f->hnext = c->free_head;
	c->free_head = i;
	c->used--;
	c->aged[reason]++;
	s->flows_total--;
}

/* Keys are short: compare them a word at a time, without a call. */
static inline int
key_equal(const uint8_t *a, const uint8_t *b, unsigned len)
{
	uint64_t d = 0;
	unsigned i = 0;

	for (; i + 8 <= len; i += 8)
		d |= load64(a + i) ^ load64(b + i);
	for (; i < len; i++)
		d |= (uint64_t)(a[i] ^ b[i]);
	return d == 0;
}

static uint32_t
lookup(struct cache *c, const uint8_t *key, uint32_t h)
{
	uint32_t g = h & c->gmask, i;
	uint8_t t = tag_of(h);
	unsigned m;

	if (c->groups == NULL)
		return NIL;
	/* a flow is read only when its tag matches: nearly always the one
	 * looked for (another flow's tag matches once in 255) */
	for (;;) {
		const struct hgroup *gp = &c->groups[g];

		for (m = tag_match(gp, t); m != 0; m &= m - 1) {
			i = gp->ref[__builtin_ctz(m)] - 1;
			if (key_equal(F(c, i)->key, key, c->key_len))
				return i;
		}
		if (gp->over == 0)
			return NIL;
		g = (g + 1) & c->gmask;
	}
}

/*
 * The next POPULATE_FLOWS entries of the flow array and its aging part,
 * resident before the first of them is handed out: what no flow used is
 * still never resident, past one step.
 */
static void
populate(struct cache *c)
{
	uint64_t to = (uint64_t)c->populated + POPULATE_FLOWS;

	if (to > c->reserved)
		to = c->reserved;
	region_populate(c->pool, (size_t)c->populated * c->esize,
	    (size_t)to * c->esize);
	region_populate((uint8_t *)c->meta,
	    (size_t)c->populated * sizeof(struct flow_meta),
	    (size_t)to * sizeof(struct flow_meta));
	c->populated = (uint32_t)to;
}

/* A new entry, making room by policy when the slot's cache is full. */
static uint32_t
create(struct slot *s, struct binding *b, const uint8_t *key, uint32_t h,
    uint32_t now)
{
	struct cache *c = b->cache;
	struct flow *f;
	struct flow_meta *m;
	uint32_t i;

	if (s->flows_total >= s->flows_max) {
		if (s->drop_new || c->age_head == NIL) {
			c->dropped_full++;
			return NIL;
		}
		c->evicted++;
		expire(s, b, c->age_head, END_RESOURCES);
	}
	if (c->free_head != NIL) {
		i = c->free_head;
		c->free_head = F(c, i)->hnext;
	} else if (c->hwm < c->cap || grow(c, s->flows_max) == 0) {
		i = c->hwm++;
		if (i >= c->populated)
			populate(c);
		/* the next new flow's lines, written then: a flow is new
		 * every few packets, seldom enough that the hardware does
		 * not see the stream */
		if (c->hwm < c->populated) {
			__builtin_prefetch(F(c, c->hwm), 1);
			__builtin_prefetch(M(c, c->hwm), 1);
		}
	} else {
		c->dropped_full++;
		return NIL;
	}
	f = F(c, i);
	memset(f, 0, offsetof(struct flow, key));
	memcpy(f->key, key, c->key_len);
	f->first_ms = f->last_ms = now;
	hg_insert(c, i, h);
	m = M(c, i);
	m->used = 1;
	m->hash = h;
	whl_insert(s, c, i);
	m->age_next = NIL;
	m->age_prev = c->age_tail;
	if (c->age_tail != NIL)
		M(c, c->age_tail)->age_next = i;
	else
		c->age_head = i;
	c->age_tail = i;
	c->used++;
	c->created++;
	s->flows_total++;
	s->counted.flows++;
	return i;
}

#define TH_FIN 0x01
#define TH_RST 0x04

/* The flow key of pk for binding b, and its hash. */
uint32_t
cache_key(struct slot *s, struct binding *b, const struct pkt *pk,
    uint8_t *key)
{
	const struct cache *c = b->cache;
	struct fctx x = { .rs = NULL };
	unsigned k;
	uint8_t *out = key;

	if (c->kop_fields) {
		x.ifindex = b->pb->ifindex;
		x.dir = (int)b->pb->direction;
		x.export_as = (int)s->plan->export_as;
		if (c->key_routes) {
			x.rs = routes_lookup(&s->routes, pk->src);
			x.rd = routes_lookup(&s->routes, pk->dst);
		}
	}
	for (k = 0; k < c->nkop; k++) {
		const struct keyop *o = &c->kop[k];
		const uint8_t *from = (const uint8_t *)pk + o->from;
		uint16_t v;

		switch (o->op) {
		case KOP_COPY16:
			memcpy(out, from, 16);
			break;
		case KOP_COPY1:
			out[0] = from[0];
			break;
		case KOP_BE16:
			memcpy(&v, from, 2);
			out[0] = (uint8_t)(v >> 8);
			out[1] = (uint8_t)v;
			break;
		default:
			field_put_key(out, o->type, o->len, pk, &x);
			break;
		}
		out += o->len;
	}
	return key_hash(key, c->key_len, K0(c), K1(c));
}

/*
 * A burst of packets hides memory latency: first the groups of all of
 * them are fetched, then the flows whose tags match, then the work.
 */
void
cache_prefetch_bucket(const struct cache *c, uint32_t h)
{
	if (c->groups != NULL)
		__builtin_prefetch(&c->groups[h & c->gmask]);
}

void
cache_prefetch_flow(const struct cache *c, uint32_t h)
{
	const struct hgroup *gp;
	unsigned m;

	if (c->groups == NULL)
		return;
	gp = &c->groups[h & c->gmask];
	for (m = tag_match(gp, tag_of(h)); m != 0; m &= m - 1) {
		const uint8_t *f;

		/* one cache line (a key of up to 37 bytes); else its first
		 * two lines and its last: all of it for keys up to 109 bytes */
		f = (const uint8_t *)F(c, gp->ref[__builtin_ctz(m)] - 1);
		__builtin_prefetch(f);
		if (c->esize > 64) {
			__builtin_prefetch(f + 64);
			__builtin_prefetch(f + c->esize - 1);
		}
	}
}

void
cache_packet(struct slot *s, struct binding *b, const struct pkt *pk,
    uint32_t now)
{
	uint8_t key[LAYOUT_MAX_ROW];

	cache_update(s, b, pk, now, key, cache_key(s, b, pk, key));
}

void
cache_update(struct slot *s, struct binding *b, const struct pkt *pk,
    uint32_t now, const uint8_t *key, uint32_t h)
{
	struct cache *c = b->cache;
	struct flow *f;
	uint32_t i;

	i = lookup(c, key, h);
	/* a packet past the flow's inactive or active time starts a new one */
	if (i != NIL && now - F(c, i)->last_ms >= s->inactive_ms) {
		expire(s, b, i, END_IDLE);
		i = NIL;
	} else if (i != NIL && now - F(c, i)->first_ms >= s->active_ms) {
		expire(s, b, i, END_ACTIVE);
		i = NIL;
	}
	if (i == NIL && (i = create(s, b, key, h, now)) == NIL)
		return;
	f = F(c, i);
	f->packets++;
	/* counted: a sampled that takes over after a crash goes on after
	 * this packet (resume.h) */
	s->counted.packets++;
	if (s->cur_applied != NULL)
		*s->cur_applied = s->cur_idx;
	f->bytes += pk->ip_len;
	f->last_ms = now;
	f->tcp_flags |= pk->tcp_flags;
	f->ext |= pk->ext_headers;
	/* FIN or RST ends a flow, unless it is the flow's first packet */
	if (pk->proto == 6 && (pk->tcp_flags & (TH_FIN | TH_RST)) &&
	    f->packets > 1)
		expire(s, b, i, END_FLOW);
	else if (f->bytes > BYTES_OVERFLOW)
		expire(s, b, i, END_FORCED);
}

/* The flows of one wheel bucket: due ones age, the others move on. */
static void
wheel_bucket(struct slot *s, struct binding *b, uint32_t bk, uint32_t now)
{
	struct cache *c = b->cache;
	uint32_t i, next;

	for (i = c->wheel[bk]; i != NIL; i = next) {
		struct flow *f = F(c, i);

		next = M(c, i)->whl_next;
		if (now - f->last_ms >= s->inactive_ms)
			expire(s, b, i, END_IDLE);
		else if ((up_ms(s, f->last_ms) + s->inactive_ms) /
		    WHEEL_TICK_MS % WHEEL_SIZE != bk) {
			whl_unlink(c, i);
			whl_insert(s, c, i);
		}
	}
}

/*
 * Ages what is due: the heads of the active list, and the wheel buckets
 * of the ticks that passed since the last call (a tick is processed once
 * it is over, so all its flows are due unless they were seen since).
 */
void
cache_age(struct slot *s, struct binding *b, uint64_t up)
{
	struct cache *c = b->cache;
	uint64_t done = up / WHEEL_TICK_MS, t;
	uint32_t now = (uint32_t)up; /* flow times are mod 2^32 */

	if (!c->wstarted) {
		c->wstarted = 1;
		c->wtick = done;
	}
	if (done > c->wtick + WHEEL_SIZE)
		c->wtick = done - WHEEL_SIZE; /* a jump: every bucket once */
	for (t = c->wtick; t < done; t++)
		wheel_bucket(s, b, (uint32_t)(t % WHEEL_SIZE), now);
	c->wtick = done > c->wtick ? done : c->wtick;
	while (c->age_head != NIL &&
	    now - F(c, c->age_head)->first_ms >= s->active_ms)
		expire(s, b, c->age_head, END_ACTIVE);
}

/*
 * Ages every flow (end of file, shutdown, plan change). The array is
 * walked in memory order, and the hash, the wheel and the lists are reset
 * at once: unlinking a million flows one by one would cost a cache miss
 * or two each, for lists that are all emptied anyway.
 */
void
cache_flush(struct slot *s, struct binding *b, int reason)
{
	struct cache *c = b->cache;
	uint32_t i;

	for (i = 0; i < c->hwm; i++) {
		if (!M(c, i)->used)
			continue;
		push_row(s, b, F(c, i), reason);
		M(c, i)->used = 0;
		c->aged[reason]++;
	}
	s->flows_total -= c->used;
	c->used = 0;
	if (c->groups != NULL)
		memset(c->groups, 0,
		    ((size_t)c->gmask + 1) * sizeof(struct hgroup));
	memset(c->wheel, 0xff, WHEEL_SIZE * sizeof(uint32_t));
	c->free_head = c->age_head = c->age_tail = NIL;
	c->hwm = 0; /* hand the (touched) entries out again from the start */
}

/* Entry i of the pool for a walk outside the hot path (query.c), or NULL. */
const struct flow *
cache_flow_at(const struct cache *c, uint32_t i)
{
	if (i >= c->hwm)
		return NULL;
	return M(c, i)->used ? F(c, i) : NULL;
}
