/*
 * ack.c: exportd's half of the acknowledged hand-over (lib/handover.c is
 * the sender's).
 *
 * Per slot, exportd takes the batches of the sender's epoch once each and
 * in seq order. Each (host, domain) remembers how far its rows were sent:
 * a mark (seq, rows of that seq, complete) set when the packet holding
 * them leaves (or fails, counted). The slot's ack is the last seq every
 * host of the slot has been sent completely; it goes out on the ack PUB,
 * so senders free what they hold.
 *
 * Marks, acks and the hosts' sequence counters also live in a file of the
 * run directory, mapped shared: a store there survives the process being
 * killed. A restarted exportd expects the batch after the slot's ack, and
 * of the batches pushed again skips, per host, the rows it had sent
 * before. What stays open: a kill between sendmmsg() returning and the
 * store of its marks (a few instructions) sends those packets again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "exportd.h"
#include "handover.h"
#include "log.h"
#include "stats.h"
#include "util.h"

#define STATE_MAGIC "NSXDST01"
#define ACK_BEAT_MS 200 /* every slot's ack, for senders that joined late */

/*
 * The acks PUB, an XPUB so that exportd hears senders join. It receives
 * their subscriptions and, on tcp://, their CURVE handshake: its limit
 * is HO_ACK_MAX, the senders' too, never the stats' (issue 25).
 */
void *
ack_socket(void *ctx)
{
	return xpub_socket(ctx, HO_ACK_MAX);
}

struct xd_pfile {
	char magic[8];
	uint32_t version, n_ents;
	struct xd_pent e[XD_STATE_ENTS];
};

uint64_t
mark_make(uint64_t seq, uint32_t rows, int complete)
{
	return seq << 24 | (uint64_t)rows << 1 | (complete ? 1 : 0);
}

/* The last seq a mark says is sent completely. */
static uint64_t
mark_acked(uint64_t m)
{
	uint64_t seq = MARK_SEQ(m);

	return (m & 1) ? seq : (seq ? seq - 1 : 0);
}

static struct xslot *xslot_get(struct exportd *, uint32_t);

/*
 * Every slot the last exportd acknowledged is acknowledged from the
 * start, asking for the batch after: a sender that has nothing new to
 * push (its capture ended, its batches died in flight) pushes nothing
 * that would make this exportd know the slot otherwise.
 */
static void
state_restore(struct exportd *xd)
{
	size_t i;

	for (i = 0; i < XD_STATE_ENTS; i++)
		if (xd->pf->e[i].kind == PENT_SLOT && xd->pf->e[i].epoch != 0)
			xslot_get(xd, xd->pf->e[i].slot);
}

void
state_open(struct exportd *xd)
{
	char path[512];
	struct stat st;
	int fd, fresh = 0;
	void *p;

	snprintf(path, sizeof(path), "%s/exportd.state", xd->ep.run_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    fstat(fd, &st) == -1) {
		log_warn("%s: acknowledged hand-over without memory of "
		    "earlier runs", path);
		if (fd != -1)
			close(fd);
		xd->pf = xcalloc(1, sizeof(*xd->pf));
		xd->pf_mapped = 0;
		xd->state_fresh = 1;
		return;
	}
	if ((size_t)st.st_size != sizeof(*xd->pf)) {
		fresh = 1;
		if (ftruncate(fd, 0) == -1)
			fatal("%s", path);
	}
	/*
	 * Its blocks are reserved now, also those of a sparse file an
	 * older exportd left: a store into a mapping the filesystem has
	 * no room for is a SIGBUS, in the middle of an export.
	 */
	if ((errno = posix_fallocate(fd, 0, (off_t)sizeof(*xd->pf))) != 0)
		fatal("%s: cannot reserve the %zu bytes of the hand-over "
		    "state (make room in %s)", path, sizeof(*xd->pf),
		    xd->ep.run_dir);
	p = mmap(NULL, sizeof(*xd->pf), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		fatal("mmap %s", path);
	xd->pf = p;
	xd->pf_mapped = 1;
	if (fresh || memcmp(xd->pf->magic, STATE_MAGIC, 8) != 0 ||
	    xd->pf->version != 1 || xd->pf->n_ents != XD_STATE_ENTS) {
		memset(xd->pf, 0, sizeof(*xd->pf));
		xd->pf->version = 1;
		xd->pf->n_ents = XD_STATE_ENTS;
		memcpy(xd->pf->magic, STATE_MAGIC, 8);
		fresh = 1;
	}
	xd->state_fresh = fresh;
	log_info("hand-over state in %s%s", path,
	    fresh ? " (new)" : ": taking up where the last exportd stopped");
	state_restore(xd);
}

void
state_close(struct exportd *xd)
{
	if (xd->pf_mapped)
		munmap(xd->pf, sizeof(*xd->pf));
	else
		free(xd->pf);
	xd->pf = NULL;
	while (xd->n_xslots > 0)
		free(xd->xslots[--xd->n_xslots]);
	free(xd->xslots);
	xd->xslots = NULL;
}

static struct xd_pent *
pent_find(struct exportd *xd, uint32_t kind, uint32_t slot, const char *host)
{
	size_t i;

	for (i = 0; i < XD_STATE_ENTS; i++) {
		struct xd_pent *e = &xd->pf->e[i];

		if (e->kind == kind && e->slot == slot &&
		    (host == NULL || strcmp(e->host, host) == 0))
			return e;
	}
	return NULL;
}

/* A new entry; the one of a forgotten slot when the file is full. */
static struct xd_pent *
pent_new(struct exportd *xd, uint32_t kind, uint32_t slot, const char *host)
{
	struct xd_pent *e = NULL;
	size_t i;

	for (i = 0; i < XD_STATE_ENTS && e == NULL; i++)
		if (xd->pf->e[i].kind == 0)
			e = &xd->pf->e[i];
	for (i = 0; i < XD_STATE_ENTS && e == NULL; i++)
		if (xd->pf->e[i].kind == PENT_DEST &&
		    xslot_find(xd, xd->pf->e[i].slot) == NULL)
			e = &xd->pf->e[i];
	if (e == NULL)
		return NULL; /* then this one is not remembered */
	e->kind = 0;
	e->slot = slot;
	e->epoch = 0;
	e->mark = 0;
	e->packets = e->flows = e->records = 0;
	ns_strlcpy(e->host, host ? host : "", sizeof(e->host));
	e->kind = kind; /* last: a kill before leaves the entry free */
	return e;
}

struct xslot *
xslot_find(struct exportd *xd, uint32_t slot)
{
	size_t i;

	for (i = 0; i < xd->n_xslots; i++)
		if (xd->xslots[i]->slot == slot)
			return xd->xslots[i];
	return NULL;
}

static struct xslot *
xslot_get(struct exportd *xd, uint32_t slot)
{
	struct xslot *x = xslot_find(xd, slot);
	struct xd_pent *e;

	if (x != NULL)
		return x;
	/* each on its own: dests keep a pointer to theirs */
	x = xcalloc(1, sizeof(*x));
	xd->xslots = xrealloc(xd->xslots,
	    (xd->n_xslots + 1) * sizeof(*xd->xslots));
	xd->xslots[xd->n_xslots++] = x;
	x->slot = slot;
	if ((e = pent_find(xd, PENT_SLOT, slot, NULL)) != NULL && e->epoch) {
		/* what the last exportd acknowledged: go on after it */
		x->epoch = e->epoch;
		x->expect = e->mark + 1;
		x->acked = e->mark;
		x->known = 1;
		/* the sender may not know this exportd restarted (it heard
		 * no ack of the last one): it is asked for what comes next */
		x->resend_from = x->expect;
		log_info("slot %u: expecting batch %llu of sender %016llx",
		    slot, (unsigned long long)x->expect,
		    (unsigned long long)x->epoch);
	}
	x->pent = e;
	return x;
}

/* The sender of the slot changed: marks of the old one mean nothing. */
static void
xslot_new_epoch(struct exportd *xd, struct xslot *x, uint64_t epoch)
{
	size_t i, j;

	for (i = 0; i < xd->n_hosts; i++)
		for (j = 0; j < xd->hosts[i]->n_dests; j++) {
			struct dest *d = xd->hosts[i]->dests[j];

			if (d->domain != x->slot)
				continue;
			d->added = d->done = d->skip = 0;
			if (d->pent != NULL) {
				d->pent->mark = 0;
				d->pent->epoch = epoch;
			}
		}
	if (x->pent == NULL)
		x->pent = pent_new(xd, PENT_SLOT, x->slot, NULL);
	if (x->pent != NULL) {
		x->pent->mark = 0;
		x->pent->epoch = epoch; /* last: the marks are reset before */
	}
	x->epoch = epoch;
	x->acked = 0;
	x->known = 1;
	x->resend_from = 0;
	x->published = UINT64_MAX;
	memset(x->ref_batches, 0, sizeof(x->ref_batches));
	memset(x->ref_rows, 0, sizeof(x->ref_rows));
}

static void publish_as(struct exportd *, const struct xslot *, uint64_t,
    uint64_t, uint64_t, const uint64_t *, const uint64_t *);

/*
 * A batch refused by batch_check(), acknowledged all the same with the
 * reason: one ack_accept() took in its sender's order counts in the
 * slot's acks; the first batches of a new sender (ack_accept noted it,
 * epoch_starts) are answered apart, in an ack of their own epoch, so
 * that sender does not wait for ever either. taken: ack_accept's answer.
 */
void
ack_refused(struct exportd *xd, const Netstream__FlowBatch *b,
    enum xd_bad why, int taken)
{
	struct xslot *x = xslot_find(xd, b->slot);

	if (x == NULL || (unsigned)why >= BAD_MAX)
		return;
	if (taken) {
		x->ref_batches[why]++;
		x->ref_rows[why] += b->n_rows;
		x->published = UINT64_MAX; /* said at once */
	} else if (x->cand_noted) {
		x->cand_noted = 0;
		x->cand_batches[why]++;
		x->cand_rows[why] += b->n_rows;
		publish_as(xd, x, x->cand_epoch, b->seq, 0, x->cand_batches,
		    x->cand_rows);
	} else
		return; /* a duplicate, or after a gap: not taken */
	log_warnx("slot %u: batch %llu (%u records) refused: %s", b->slot,
	    (unsigned long long)b->seq, b->n_rows, bad_name(why));
}

/*
 * A batch of another epoch than the slot's sender. One that fails
 * batch_check() never starts an epoch: anyone could push it, and taking
 * it would refuse the real sender's next batches as coming after a gap.
 * It is only noted (and answered apart, ack_refused): a new sender whose
 * first batches fail goes on with a good one in its order, and that one
 * starts its epoch. 1 when b starts a new epoch.
 */
static int
epoch_starts(struct exportd *xd, struct xslot *x,
    const Netstream__FlowBatch *b)
{
	/* a new sender starts at 1; a slot this exportd never knew (no
	 * state file) takes the first batch it sees */
	int first = !x->known || b->seq == 1 || xd->state_fresh ||
	    (b->epoch == x->cand_epoch && b->seq == x->cand_next);

	if (batch_check(b) != BAD_MAX) {
		if (b->epoch == x->cand_epoch && b->seq < x->cand_next) {
			xd->dup_batches++; /* noted already */
			return 0;
		}
		if (first) {
			x->cand_noted = 1;
			if (b->epoch != x->cand_epoch) {
				memset(x->cand_batches, 0,
				    sizeof(x->cand_batches));
				memset(x->cand_rows, 0, sizeof(x->cand_rows));
			}
			x->cand_epoch = b->epoch;
			x->cand_next = b->seq + 1;
		}
		return 0;
	}
	if (!first) {
		xd->gap_batches++;
		return 0;
	}
	return 1;
}

/*
 * Whether a batch is exported: 1 yes, 0 when it is a duplicate or comes
 * after a gap (the sender pushes again what exportd missed). A batch that
 * failed batch_check() comes here too: in its sender's epoch it takes its
 * place in the order (its ack lets the sender go on), but it is never
 * exported, and it never makes a new epoch (epoch_starts).
 */
int
ack_accept(struct exportd *xd, const Netstream__FlowBatch *b)
{
	struct xslot *x;

	if (b->epoch == 0) {
		xd->untracked = 1;
		return 1; /* an untracked one-shot batch */
	}
	x = xslot_get(xd, b->slot);
	if (!x->known || b->epoch != x->epoch) {
		if (!epoch_starts(xd, x, b))
			return 0;
		if (x->known)
			log_info("slot %u: a new sender (%016llx)", x->slot,
			    (unsigned long long)b->epoch);
		xslot_new_epoch(xd, x, b->epoch);
		if (b->epoch == x->cand_epoch) {
			/* what its acks said it refused goes on counting */
			memcpy(x->ref_batches, x->cand_batches,
			    sizeof(x->ref_batches));
			memcpy(x->ref_rows, x->cand_rows, sizeof(x->ref_rows));
		}
		x->cand_epoch = 0;
		x->expect = b->seq;
		x->acked = b->seq - 1;
	}
	if (b->seq < x->expect) {
		xd->dup_batches++;
		return 0;
	}
	if (b->seq > x->expect) {
		/* the one expected was lost on the way (a connection that
		 * broke, an exportd killed while it was in flight): the
		 * sender is asked for it again at once, not left waiting */
		xd->gap_batches++;
		if (x->resend_from != x->expect) {
			x->resend_from = x->expect;
			x->published = UINT64_MAX;
		}
		return 0;
	}
	if (x->resend_from != 0 && b->seq >= x->resend_from)
		x->resend_from = 0;
	x->expect++;
	x->ended = b->final;
	return 1;
}

/*
 * Every sender this exportd heard from has handed over its final batch
 * (captures ended, or it stopped): nothing more comes, so a stopping
 * exportd need not wait for the PULL to stay quiet. Batches without an
 * epoch say nothing of their sender: then it waits.
 */
int
ack_senders_ended(const struct exportd *xd)
{
	size_t i;

	if (xd->untracked || xd->n_xslots == 0)
		return 0;
	for (i = 0; i < xd->n_xslots; i++)
		if (xd->xslots[i]->known && !xd->xslots[i]->ended)
			return 0;
	return 1;
}

/* The persisted marks of a new (host, domain), from an earlier run. */
void
ack_dest_init(struct exportd *xd, struct dest *d)
{
	struct xslot *x = xslot_get(xd, d->domain);
	char key[sizeof(((struct xd_pent *)0)->host)];
	struct xd_pent *e;

	snprintf(key, sizeof(key), "%s/%s", d->host->label,
	    d->host->ipfix ? "ipfix" : "v9");
	e = pent_find(xd, PENT_DEST, d->domain, key);
	if (e != NULL && x->known && e->epoch == x->epoch)
		d->skip = d->done = d->added = e->mark;
	else {
		if (e == NULL)
			e = pent_new(xd, PENT_DEST, d->domain, key);
		if (e != NULL) {
			e->mark = 0;
			e->epoch = x->epoch;
		}
	}
	/* the marks are the sender's; the sequence of (host, domain) goes
	 * on whoever sends (RFC 3954 5.1, RFC 7011 3.1) */
	if (e != NULL) {
		d->packets = e->packets;
		d->flows = e->flows;
		d->records = e->records;
	}
	d->pent = e;
	d->xs = x;
}

/* A packet with rows of d left (or failed): its rows are done. */
void
ack_out_done(struct exportd *xd, struct out *o)
{
	struct dest *d = o->dest;

	(void)xd;
	if (d == NULL)
		return;
	d->inflight--;
	if (o->epoch != d->xs->epoch || o->mark < d->done)
		return;
	d->done = o->mark;
	if (d->pent != NULL) {
		d->pent->mark = o->mark;
		d->pent->packets = o->seq_packets;
		d->pent->flows = o->seq_flows;
		d->pent->records = o->seq_records;
	}
}

/* The last seq of x sent to every host. */
static uint64_t
slot_acked(struct exportd *xd, const struct xslot *x)
{
	uint64_t a = x->expect ? x->expect - 1 : 0, m;
	size_t i, j;

	for (i = 0; i < xd->n_hosts; i++)
		for (j = 0; j < xd->hosts[i]->n_dests; j++) {
			const struct dest *d = xd->hosts[i]->dests[j];

			if (d->domain != x->slot ||
			    (d->inflight == 0 && d->n_flows == 0))
				continue; /* nothing of it waits */
			m = mark_acked(d->done);
			if (m < a)
				a = m;
		}
	return a;
}

/*
 * An ack of (x's slot, epoch) up to seq, with the refusals it counts and
 * the batch to push again from (0: none).
 */
static void
publish_as(struct exportd *xd, const struct xslot *x, uint64_t epoch,
    uint64_t seq, uint64_t resend_from, const uint64_t *ref_batches,
    const uint64_t *ref_rows)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;
	Netstream__FlowAck a = NETSTREAM__FLOW_ACK__INIT;
	Netstream__Refusal r[BAD_MAX], *rp[BAD_MAX];
	unsigned i;

	a.slot = x->slot;
	a.epoch = epoch;
	a.acked_seq = seq;
	a.instance = xd->instance;
	a.resend_from = resend_from;
	a.refused = rp;
	for (i = 0; i < BAD_MAX; i++) {
		if (ref_batches[i] == 0)
			continue;
		netstream__refusal__init(&r[a.n_refused]);
		r[a.n_refused].reason = (char *)bad_name((enum xd_bad)i);
		r[a.n_refused].batches = ref_batches[i];
		r[a.n_refused].rows = ref_rows[i];
		rp[a.n_refused] = &r[a.n_refused];
		a.n_refused++;
	}
	env.msg_case = NETSTREAM__ENVELOPE__MSG_ACK;
	env.ack = &a;
	bus_send(xd->acks, HO_ACK_TOPIC, &env, ZMQ_DONTWAIT);
}

static void
publish(struct exportd *xd, const struct xslot *x)
{
	publish_as(xd, x, x->epoch, x->acked, x->resend_from, x->ref_batches,
	    x->ref_rows);
}

/* Acks that moved, and every slot's every ACK_BEAT_MS. */
void
ack_publish(struct exportd *xd, int64_t now)
{
	int beat = now >= xd->next_beat;
	size_t i;

	for (i = 0; i < xd->n_xslots; i++) {
		struct xslot *x = xd->xslots[i];
		uint64_t a;

		/* a new sender refused so far, for one that missed it */
		if (beat && x->cand_epoch != 0 && x->cand_next > 1)
			publish_as(xd, x, x->cand_epoch, x->cand_next - 1, 0,
			    x->cand_batches, x->cand_rows);
		if (!x->known)
			continue;
		a = slot_acked(xd, x);
		if (a > x->acked) {
			x->acked = a;
			if (x->pent != NULL)
				x->pent->mark = a;
		}
		if (beat || x->published != x->acked) {
			publish(xd, x);
			x->published = x->acked;
		}
	}
	if (beat)
		xd->next_beat = now + ACK_BEAT_MS;
}
