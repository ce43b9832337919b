/*
 * capture.c: the captures of a slot's interfaces: capture files through
 * libpcap (merged by time, as fast as possible or in real time) and live
 * devices (live.c: one socket for both directions), decoded and handed
 * to the caches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pcapfile.h"
#include "pcapng.h"
#include "sampled.h"
#include "util.h"

/* A capture file, through a 1 MiB stdio buffer of its own. */
static pcap_t *
open_file(struct capture *c, const char *path, char *ebuf)
{
	pcap_t *pc;

	c->iobuf = xmalloc(PCAPFILE_BUF);
	if ((pc = pcapfile_open(path, c->iobuf, PCAPFILE_BUF, ebuf)) == NULL) {
		free(c->iobuf);
		c->iobuf = NULL;
	}
	return pc;
}

int
capture_open(struct capture *c, const Netstream__Interface *pi, int dir,
    char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];

	memset(c, 0, sizeof(*c));
	c->bidx_dir[0] = c->bidx_dir[1] = -1;
	c->rs_idx = -1;
	ns_strlcpy(c->name, pi->name, sizeof(c->name));
	c->bidx = c->bidx_out = -1;
	if (!pi->file[0]) {
		c->dir = dir;
		c->buffer_kb = pi->buffer_kb;
		ns_strlcpy(c->source, pi->device, sizeof(c->source));
		if (live_open(c, pi->device, pi->buffer_kb, ebuf,
		    sizeof(ebuf)) == 0)
			return 0;
	} else {
		c->is_file = 1;
		c->realtime = pi->realtime;
		c->dir = (int)pi->file_direction;
		ns_strlcpy(c->source, pi->file, sizeof(c->source));
		if ((c->pc = open_file(c, pi->file, ebuf)) != NULL) {
			/* libpcap reads pcapng but not its packets' direction
			 * flags: they are read beside it */
			if (pcapng_is_pcapng(pi->file) &&
			    pcapng_flags_open(&c->ng, pi->file, ebuf,
			    sizeof(ebuf)) == -1) {
				pcap_close(c->pc);
				free(c->iobuf);
				c->pc = NULL;
				c->iobuf = NULL;
			} else {
				c->dlt = pcap_datalink(c->pc);
				c->ts32 = !pcapng_is_pcapng(pi->file);
				return 0;
			}
		}
	}
	snprintf(err, errlen, "%s (%s): %s", pi->name, c->source, ebuf);
	ns_strlcpy(c->why, ebuf, sizeof(c->why));
	return -1;
}

const char *
capture_state_name(Netstream__CaptureStateKind state)
{
	switch (state) {
	case NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_CAPTURING:
		return "capturing";
	case NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_WAITING:
		return "waiting";
	case NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_FAILED:
		return "failed";
	case NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_READING:
		return "reading";
	case NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_ENDED:
		return "ended";
	default:
		return "unknown";
	}
}

/*
 * c is in this state now, for this reason: since when is kept, and each
 * change is logged once (with workers, by the first: each has a socket of
 * its own on the device, and they change together).
 */
void
capture_state(struct slot *s, struct capture *c,
    Netstream__CaptureStateKind state, const char *why)
{
	/* a file's failures are logged where they happen */
	int quiet = c->is_file || (s->role == SLOT_WORKER && s->worker > 0);

	if (why == NULL)
		why = "";
	if (c->since != 0 && c->state == state && strcmp(c->why, why) == 0)
		return;
	c->state = state;
	if (c->why != why)
		ns_strlcpy(c->why, why, sizeof(c->why));
	c->since = now_ms();
	if (quiet)
		return;
	if (why[0])
		log_warnx("capture %s (%s): %s: %s", c->name, c->source,
		    capture_state_name(state), why);
	else
		log_info("capture %s (%s): %s", c->name, c->source,
		    capture_state_name(state));
}

/* What a capture of the plan before said of itself, on its successor. */
void
capture_carry(struct capture *to, const struct capture *from)
{
	to->state = from->state;
	ns_strlcpy(to->why, from->why, sizeof(to->why));
	to->since = from->since;
	to->starts = from->starts;
	to->stops = from->stops;
}

int
capture_is_open(const struct capture *c)
{
	return c->pc != NULL || c->lv != NULL;
}

void
capture_close(struct capture *c)
{
	/* a capture moved to a new plan has pc and lv NULL: its buffer and
	 * ring went along */
	if (c->pc != NULL) {
		pcap_close(c->pc); /* closes the FILE; then its buffer can go */
		free(c->iobuf);
		pcapng_flags_close(&c->ng);
	}
	live_close(c);
	c->pc = NULL;
	c->iobuf = NULL;
}

/*
 * A capture that could not be opened, or not read to its end: logged,
 * and kept (once per source and error) for the stats, where nsctl run
 * sees it: its flows are not all there.
 */
void
capture_failed(struct slot *s, const char *source, const char *err)
{
	struct capfail *f;
	unsigned i;

	for (i = 0; i < s->n_capfail; i++)
		if (strcmp(s->capfail[i].source, source) == 0 &&
		    strcmp(s->capfail[i].err, err) == 0)
			return;
	s->capture_errors++;
	if (s->n_capfail == CAPFAIL_MAX)
		return;
	f = &s->capfail[s->n_capfail++];
	ns_strlcpy(f->source, source, sizeof(f->source));
	ns_strlcpy(f->err, err, sizeof(f->err));
}

static void
count_len(struct slot *s, uint32_t len)
{
	static const uint32_t edges[] = { 64, 128, 256, 512, 1024, 1500 };
	unsigned i;

	for (i = 0; i < 6 && len > edges[i]; i++)
		;
	s->lenhist[i]++;
}

/*
 * Extension headers or an L4 header that a live capture's snaplen cut
 * after a valid IPv6 header: the packet is counted by its IPv6 length,
 * with the addresses and the protocol it shows, no ports
 * (truncated_headers). The same cut in a frame captured whole is a
 * broken packet, and in a file one its snaplen made (the file's rule,
 * DESIGN.md): malformed.
 */
static int
cut_headers(struct slot *s, const struct capture *c, int r,
    const struct pcap_pkthdr *h)
{
	if ((r != DEC_MALFORMED_EXT_TRUNC && r != DEC_MALFORMED_L4_TRUNC) ||
	    h->caplen >= h->len || c->lv == NULL)
		return 0;
	s->truncated_headers++;
	return 1;
}

/*
 * Counts and decodes one packet of capture c, at t on the slot's
 * timeline (clock.c), and runs its sampler. The binding whose cache
 * takes it, or NULL.
 */
static struct binding *
classify(struct slot *s, struct capture *c, int bidx,
    const struct pcap_pkthdr *h, const u_char *data, struct pkt *pk,
    int64_t t)
{
	struct binding *b;
	int r;

	s->received++;
	c->received++;
	/* a pcapng packet that carries a direction flag uses it (DESIGN.md),
	 * in the interface counters too */
	if (c->pkt_dir != PCAPNG_DIR_NONE)
		bidx = c->bidx_dir[c->pkt_dir - PCAPNG_DIR_IN];
	if (bidx >= 0) {
		s->b[bidx].cnt.packets++;
		s->b[bidx].cnt.bytes += h->len;
	}
	r = decode_packet(c->dlt, data, h->caplen, pk);
	if (r == DEC_IPV4) {
		s->ipv4++;
		return NULL;
	}
	if (r == DEC_OTHER) {
		s->other++;
		return NULL;
	}
	if (r != DEC_IPV6 && !cut_headers(s, c, r, h)) {
		s->malformed[r]++;
		/* malformed after an IPv6 header was recognised */
		if (r >= DEC_MALFORMED_IP6_HDR)
			c->malformed++;
		return NULL;
	}
	s->ipv6++;
	c->ipv6++;
	count_len(s, pk->ip_len);
	if (bidx < 0) {
		s->unbound++;
		return NULL;
	}
	b = &s->b[bidx];
	b->cnt.ipv6++;
	if (b->cache == NULL || !sampler_take(&b->sampler, t))
		return NULL;
	b->cnt.sampled++;
	s->sampled_pkts++;
	return b;
}

static void age_all(struct slot *s);

/* The slot clock moves to ts; aging runs every 100 ms of it. */
static void
tick(struct slot *s, int64_t ts)
{
	if (ts > s->now_ms)
		s->now_ms = ts;
	if (s->now_ms >= s->next_age_ms)
		age_all(s);
}

static void live_queue(struct slot *s, struct binding *b,
    const struct pkt *pk, int64_t ts);

/*
 * A packet of a live device, into the binding of its direction: counted
 * and decoded now, into its cache with the burst it joins (live_queue).
 */
void
capture_live_packet(struct slot *s, struct capture *c,
    const struct pcap_pkthdr *h, const u_char *data, int outbound)
{
	struct binding *b;
	struct pkt pk;
	int64_t ts;

	ts = clock_live_packet(s, h);
	b = classify(s, c, outbound ? c->bidx_out : c->bidx, h, data, &pk,
	    ts);
	live_queue(s, b, &pk, ts);
}

static void
age_all(struct slot *s)
{
	uint64_t up = (uint64_t)(s->now_ms - s->boot_ms);
	size_t i;

	for (i = 0; i < s->nb; i++)
		if (s->b[i].cache != NULL)
			cache_age(s, &s->b[i], up);
	push_due(s);
	s->next_age_ms = s->now_ms + 100;
}

/* Reads the next packet of file capture c into its lookahead. */
static void
fill(struct slot *s, struct capture *c)
{
	char err[256];
	int rc;

	if (c->pending || c->eof)
		return;
	/* what the sampled before this one accounted is not read again */
	while (c->skip > 0 &&
	    (rc = pcap_next_ex(c->pc, &c->hdr, &c->data)) == 1) {
		pcapng_flags_next(&c->ng);
		c->skip--;
		c->nread++;
		s->resume_skipped++;
	}
	c->skip = 0;
	rc = pcap_next_ex(c->pc, &c->hdr, &c->data);
	if (rc == 1) {
		c->pending = 1;
		c->nread++;
		c->pkt_dir = pcapng_flags_next(&c->ng);
	} else {
		if (rc == PCAP_ERROR) {
			snprintf(err, sizeof(err), "read error after %llu "
			    "packets: %s", (unsigned long long)c->received,
			    pcap_geterr(c->pc));
			log_warnx("%s: %s: %s", c->name, c->source, err);
			capture_failed(s, c->source, err);
			capture_state(s, c,
			    NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_FAILED, err);
		} else
			capture_state(s, c,
			    NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_ENDED, NULL);
		c->eof = 1;
		s->cap_ended = 1; /* its flows end with it: settle() */
	}
}

/*
 * The captures that ended since the last call: the flows of their
 * interfaces end now, forced (4), on the clock of their last packet, and
 * are handed over at once; the other captures' flows age on as their
 * timers say. Each interface has caches of its own, so a flow key seen in
 * several captures is a flow in each, ending with its own capture. When
 * the last one ends in a slot with no live device, at_eof (sampled.c)
 * ends them all, as it would.
 */
static void
settle(struct slot *s)
{
	size_t i;
	int k, j;

	s->cap_ended = 0;
	for (i = 0; i < s->ncap && s->cap[i].is_file &&
	    (s->cap[i].eof || s->cap[i].pc == NULL); i++)
		;
	if (i == s->ncap && !s->live)
		return;
	for (i = 0; i < s->ncap; i++) {
		struct capture *c = &s->cap[i];
		int bx[3] = { c->bidx, c->bidx_dir[0], c->bidx_dir[1] };

		if (!c->eof || c->settled)
			continue;
		c->settled = 1;
		for (k = 0; k < 3; k++) {
			for (j = 0; j < k && bx[j] != bx[k]; j++)
				;
			if (j < k || bx[k] < 0 || (size_t)bx[k] >= s->nb ||
			    s->b[bx[k]].cache == NULL)
				continue;
			cache_flush(s, &s->b[bx[k]], END_FORCED);
		}
	}
	push_all(s, 0);
}

static struct capture *
earliest(struct slot *s)
{
	struct capture *best = NULL;
	size_t i;

	for (i = 0; i < s->ncap; i++) {
		struct capture *c = &s->cap[i];

		if (!c->is_file || c->pc == NULL)
			continue;
		fill(s, c);
		if (!c->pending)
			continue;
		if (best == NULL || clock_capture_ms(c, c->hdr) <
		    clock_capture_ms(best, best->hdr))
			best = c;
	}
	return best;
}

/* In real time, waits until the packet's offset in the capture is due. */
static int
realtime_wait(struct slot *s, struct capture *c)
{
	int64_t ts = clock_capture_ms(c, c->hdr);
	int64_t due;

	/* the replay's start: its first packet is due now */
	if (s->rt_wall0 == 0) {
		s->rt_wall0 = mono_ms();
		s->rt_pcap0 = ts;
	}
	due = s->rt_wall0 + (ts - s->rt_pcap0);
	return due > mono_ms() ? (int)(due - mono_ms()) : 0;
}

/*
 * Before a capture packet at pt that steps the slot clock (clock.c): the
 * flows so far are settled and their batches leave on the clock their
 * packets came on. A step back forces them out (4); a gap past every
 * timer ages them all, as the timers say.
 */
static void
jump(struct slot *s, int64_t pt)
{
	size_t i;

	if (pt < s->cap_last) {
		for (i = 0; i < s->nb; i++)
			if (s->b[i].cache != NULL)
				cache_flush(s, &s->b[i], END_FORCED);
	} else
		tick(s, s->clock_ms + CAPTURE_GAP_MS);
	push_all(s, 0);
}

struct burst_item {
	struct binding *b;
	struct capture *c;
	uint64_t idx; /* its packet in c */
	struct pkt pk;
	int64_t ts;
	uint32_t hash;
	uint8_t key[BURST_KEY_MAX];
};

/*
 * Up to BURST packets of the capture files, in time order: decoded and
 * hashed first, their buckets and flows prefetched, then counted into the
 * caches one by one in order. Returns the packets taken; *wait > 0 when a
 * real-time replay must wait.
 */
static int
burst(struct slot *s, int *wait)
{
	static struct burst_item it[BURST];
	struct capture *c;
	int n = 0, k;

	while (n < BURST && (c = earliest(s)) != NULL) {
		struct burst_item *x = &it[n];
		int64_t pt;

		if (s->cap_ended) {
			if (n > 0)
				break; /* the burst so far first */
			settle(s);
		}
		pt = clock_capture_ms(c, c->hdr);

		if (c->realtime && (*wait = realtime_wait(s, c)) > 0) {
			if (*wait > 50)
				*wait = 50;
			break;
		}
		if (clock_replay_jump(s, pt)) {
			if (n > 0)
				break; /* the burst so far first */
			jump(s, pt);
		}
		x->ts = clock_replay(s, pt);
		x->b = classify(s, c, c->bidx, c->hdr, c->data, &x->pk,
		    x->ts);
		x->c = c;
		x->idx = c->nread;
		c->pending = 0;
		if (x->b != NULL && x->b->cache->key_len <= BURST_KEY_MAX) {
			x->hash = cache_key(s, x->b, &x->pk, x->key);
			cache_prefetch_bucket(x->b->cache, x->hash);
		} else if (x->b != NULL) {
			s->cur_applied = &c->applied;
			s->cur_idx = x->idx;
			cache_packet(s, x->b, &x->pk,
			    (uint32_t)(x->ts - s->boot_ms));
			s->cur_applied = NULL;
			x->b = NULL;
		}
		n++;
	}
	/* flows a few packets ahead, so each is in cache when its turn comes */
	for (k = 0; k < n && k < PREFETCH_AHEAD; k++)
		if (it[k].b != NULL)
			cache_prefetch_flow(it[k].b->cache, it[k].hash);
	for (k = 0; k < n; k++) {
		if (k + PREFETCH_AHEAD < n && it[k + PREFETCH_AHEAD].b != NULL)
			cache_prefetch_flow(it[k + PREFETCH_AHEAD].b->cache,
			    it[k + PREFETCH_AHEAD].hash);
		if (it[k].b != NULL) {
			s->cur_applied = &it[k].c->applied;
			s->cur_idx = it[k].idx;
			cache_update(s, it[k].b, &it[k].pk,
			    (uint32_t)(it[k].ts - s->boot_ms), it[k].key,
			    it[k].hash);
			s->cur_applied = NULL;
		}
		tick(s, it[k].ts);
	}
	if (s->cap_ended)
		settle(s);
	return n;
}

/*
 * Live packets wait here for the cache work in a pipeline, as a replay's
 * do in burst(), but without its stops: a packet's group is fetched when
 * it is queued (keyed and hashed), its flow LQ_FLOW packets later (the
 * group has come by then), and it is counted into its cache LQ_UPDATE
 * packets after it came (the flow has come). A burst that fetched its
 * flows only at its end waited for the first of them, and for groups
 * queued just before. The misses of 100k flows overlap instead of coming
 * one after the other. A capture thread reads one slot; its queue is its
 * own. Each packet is counted into its cache and stored in the resume
 * state (push.c) in the order it came, its tick after it, before
 * live_read returns (capture_live_flush).
 */
/* a packet's flow fetched PREFETCH_AHEAD packets later, as in burst(),
 * and it is counted as many again later: the same distances */
#define LQ_FLOW PREFETCH_AHEAD
#define LQ_UPDATE (2 * PREFETCH_AHEAD)
#define LQ_SIZE BURST
_Static_assert((LQ_SIZE & (LQ_SIZE - 1)) == 0 && LQ_UPDATE < LQ_SIZE,
    "the live queue: a power of 2, longer than the pipeline");
static _Thread_local struct burst_item lq[LQ_SIZE];
static _Thread_local unsigned lq_head, lq_tail; /* counted, queued */
static _Thread_local struct slot *lq_slot;	/* whose packets they are */

static inline void
lq_fetch(unsigned i)
{
	const struct burst_item *x = &lq[i % LQ_SIZE];

	if (x->b != NULL)
		cache_prefetch_flow(x->b->cache, x->hash);
}

/* Counts the oldest queued packet into its cache. */
static inline void
lq_count(struct slot *s)
{
	struct burst_item *x = &lq[lq_head++ % LQ_SIZE];

	if (x->b != NULL) {
		cache_update(s, x->b, &x->pk, (uint32_t)(x->ts - s->boot_ms),
		    x->key, x->hash);
		push_resume_counted(s); /* at once (push.c) */
	}
	tick(s, x->ts);
}

void
capture_live_flush(struct slot *s)
{
	unsigned i, n = lq_tail - lq_head;

	/* the flows not fetched yet: the last LQ_FLOW queued */
	for (i = lq_tail - (n < LQ_FLOW ? n : LQ_FLOW); i != lq_tail; i++)
		lq_fetch(i);
	while (lq_head != lq_tail)
		lq_count(s);
}

static void
live_queue(struct slot *s, struct binding *b, const struct pkt *pk,
    int64_t ts)
{
	struct burst_item *x;

	if (lq_head != lq_tail && lq_slot != s)
		capture_live_flush(lq_slot);
	lq_slot = s;
	if (b != NULL && b->cache->key_len > BURST_KEY_MAX) {
		capture_live_flush(s);
		cache_packet(s, b, pk, (uint32_t)(ts - s->boot_ms));
		push_resume_counted(s);
		tick(s, ts);
		return;
	}
	x = &lq[lq_tail % LQ_SIZE];
	x->b = b;
	x->ts = ts;
	if (b != NULL) {
		x->pk = *pk;
		x->hash = cache_key(s, b, pk, x->key);
		cache_prefetch_bucket(b->cache, x->hash);
	}
	lq_tail++;
	if (lq_tail - lq_head > LQ_FLOW)
		lq_fetch(lq_tail - 1 - LQ_FLOW);
	if (lq_tail - lq_head > LQ_UPDATE)
		lq_count(s);
}

/* The descriptors of the live captures, to poll beside the bus. */
size_t
capture_fds(struct slot *s, int *fds, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < s->ncap && n < max; i++)
		if (s->cap[i].lv != NULL)
			fds[n++] = live_fd(&s->cap[i]);
	return n;
}

/*
 * Nothing for the aging ticks to do: no flow in the caches, no row
 * batched, no worker (each ages its own).
 */
static int
capture_quiet(const struct slot *s)
{
	size_t i;

	if (s->flows_total != 0 || s->wk != NULL)
		return 0;
	for (i = 0; i < s->nb; i++)
		if (s->b[i].cache != NULL && s->b[i].batch.n > 0)
			return 0;
	return 1;
}

/*
 * Processes up to budget packets. Returns the ms the caller may sleep
 * (0: more work is ready; live, until the next aging tick, or
 * LIVE_QUIET_MS when the ticks have nothing to do: the caller polls the
 * live descriptors meanwhile), -1 when every capture file has ended.
 */
int
capture_run(struct slot *s, int budget)
{
	struct capture *c;
	size_t i;
	int n = 0, live = 0, wait = 0;

	/* a live slot whose devices are missing goes on too */
	for (i = 0, live = s->live; i < s->ncap && !live; i++)
		live = s->cap[i].lv != NULL;
	if (live)
		clock_live(s); /* it moves even without packets */
	for (i = 0; i < s->ncap; i++) {
		c = &s->cap[i];
		if (c->lv != NULL)
			n += live_read(s, c, budget);
	}
	while (n < budget) {
		int got = burst(s, &wait);

		if (got == 0)
			break;
		n += got;
	}
	if (wait > 0)
		return wait;
	if (s->now_ms >= s->next_age_ms)
		age_all(s);
	if (n < budget) {
		for (i = 0; i < s->ncap; i++)
			if (s->cap[i].is_file && !s->cap[i].eof)
				return 0;
		if (!live)
			return -1;
		if (capture_quiet(s))
			return LIVE_QUIET_MS;
		return s->next_age_ms > s->now_ms ?
		    (int)(s->next_age_ms - s->now_ms) : 1;
	}
	return 0;
}
