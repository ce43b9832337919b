/*
 * handover.c: the sender's half of the acknowledged hand-over of flow
 * batches (sampled, and flowgen for the tests and benchmarks).
 *
 * Each batch gets the sender's epoch and the next seq, is packed once and
 * kept, in seq order, until a FlowAck from exportd covers it. Batches are
 * pushed in that order; one that cannot be pushed yet (a full queue, live)
 * stays held and goes first next time, so exportd never sees a gap it
 * would have to refuse. When the acks come from a new exportd instance
 * (it was restarted), everything held is pushed again: exportd takes each
 * seq once and skips the rows it had already sent before it died. When an
 * ack says exportd lacks a batch (resend_from: it was lost on the way, or
 * a restarted exportd expects it of a sender that never heard the one
 * before), the held batches are pushed again from it, at most once every
 * HO_RESEND_MS for the same batch: exportd and the sender agree again
 * within a beat of the acks, whatever was in flight, without a restart.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "handover.h"
#include "log.h"
#include "monitor.h"
#include "util.h"

uint64_t
ho_random64(void)
{
	uint64_t v = 0;
	struct timespec ts;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		v = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)getpid() << 16);
	}
	return v ? v : 1;
}

void
ho_open(struct handover *h, void *ctx, const struct bus_endpoints *ep,
    uint32_t slot, const volatile sig_atomic_t *quit)
{
	memset(h, 0, sizeof(*h));
	h->slot = slot;
	h->epoch = ho_random64();
	h->next_seq = 1;
	h->max_bytes = HO_MAX_BYTES;
	h->max_held = HO_MAX_HELD;
	h->quit = quit;
	h->push = bus_socket(ctx, ZMQ_PUSH, 0);
	bus_connect(h->push, ep->flows);
	h->acks = bus_socket(ctx, ZMQ_SUB, HO_ACK_MAX);
	zmq_setsockopt(h->acks, ZMQ_SUBSCRIBE, HO_ACK_TOPIC,
	    strlen(HO_ACK_TOPIC));
	bus_connect(h->acks, ep->acks);
}

static void
free_acked(struct handover *h)
{
	struct ho_batch *b;

	while ((b = h->head) != NULL && b->seq <= h->acked) {
		if (b == h->unsent)
			h->unsent = b->next;
		h->head = b->next;
		if (h->head == NULL)
			h->tail = NULL;
		h->held--;
		h->held_bytes -= b->len;
		free(b->buf);
		free(b);
	}
}

static int
stopping(const struct handover *h)
{
	return (h->quit && *h->quit) ||
	    (h->deadline != 0 && mono_ms() >= h->deadline);
}

/*
 * Pushes held batches not pushed yet, in order; 0 when none is left.
 * With wait, a full queue is waited on in steps of at most 100 ms, until
 * a signal or the stop deadline: never a zmq_send that blocks for good.
 */
static int
flush(struct handover *h, int wait)
{
	zmq_pollitem_t it = { h->push, 0, ZMQ_POLLOUT, 0 };
	int64_t step;

	while (h->unsent != NULL) {
		struct ho_batch *b = h->unsent;

		if (zmq_send(h->push, b->buf, b->len, ZMQ_DONTWAIT) == -1) {
			if (zmq_errno() != EAGAIN && zmq_errno() != EINTR)
				return -1;
			if (!wait || stopping(h))
				return -1;
			step = 100;
			if (h->deadline != 0 && h->deadline - mono_ms() < step)
				step = h->deadline - mono_ms();
			if (step > 0)
				zmq_poll(&it, 1, (long)step);
			monitor_retry(); /* as ho_poll */
			continue;
		}
		h->unsent = b->next;
	}
	return 0;
}

/* From now on, no hand-over waits past deadline (mono ms; 0: none). */
void
ho_set_deadline(struct handover *h, int64_t deadline)
{
	h->deadline = deadline;
}

/*
 * The refusals an ack of this sender's epoch says, cumulative for its
 * exportd instance: what is new since the last ack is added. A reason
 * past HO_REFUSAL_REASONS counts under the last one.
 */
static void
take_refusals(struct handover *h, const Netstream__FlowAck *a)
{
	size_t i, k;

	if (a->instance != h->ref_instance) {
		for (k = 0; k < h->n_refused; k++)
			h->refused[k].seen_batches = h->refused[k].seen_rows = 0;
		h->ref_instance = a->instance;
	}
	for (i = 0; i < a->n_refused; i++) {
		const Netstream__Refusal *r = a->refused[i];
		struct ho_refusal *e;

		for (k = 0; k < h->n_refused; k++)
			if (strcmp(h->refused[k].reason, r->reason) == 0)
				break;
		if (k == h->n_refused && h->n_refused < HO_REFUSAL_REASONS) {
			e = &h->refused[h->n_refused++];
			memset(e, 0, sizeof(*e));
			ns_strlcpy(e->reason, r->reason, sizeof(e->reason));
		} else if (k == h->n_refused)
			k--;
		e = &h->refused[k];
		if (r->batches > e->seen_batches) {
			e->batches += r->batches - e->seen_batches;
			e->seen_batches = r->batches;
		}
		if (r->rows > e->seen_rows) {
			e->rows += r->rows - e->seen_rows;
			e->seen_rows = r->rows;
		}
	}
}

/* The records exportd refused, in all reasons. */
uint64_t
ho_refused_records(const struct handover *h)
{
	uint64_t n = 0;
	size_t k;

	for (k = 0; k < h->n_refused; k++)
		n += h->refused[k].rows;
	return n;
}

/*
 * exportd lacks batch seq: the held batches are pushed again from it, if
 * it was pushed already (one not pushed yet goes in its turn), and not
 * just now for the same reason (it may be on its way).
 */
static void
rewind_to(struct handover *h, uint64_t seq)
{
	struct ho_batch *b;
	size_t n = 0;
	int64_t now = mono_ms();

	for (b = h->head; b != NULL && b->seq != seq; b = b->next)
		if (b == h->unsent)
			return; /* not pushed yet */
	if (b == NULL || b == h->unsent)
		return;
	if (seq == h->rewind_seq && now - h->rewind_ms < HO_RESEND_MS)
		return;
	if (seq != h->rewind_seq)
		log_info("exportd lacks batch %llu: pushing again from it",
		    (unsigned long long)seq);
	h->rewind_seq = seq;
	h->rewind_ms = now;
	h->unsent = b;
	for (; b != NULL; b = b->next)
		n++;
	h->resent_batches += n; /* resends: exportd restarts only */
}

/* An ack that was checked by bus_recv() (and the fuzz target). */
void
ho_ack(struct handover *h, const Netstream__FlowAck *a)
{
	if (a->slot == h->slot && h->prev_epoch != 0 &&
	    a->epoch == h->prev_epoch) {
		/* the sender before this one: what exportd took of it */
		if (!h->prev_heard || a->acked_seq > h->prev_acked) {
			h->prev_acked = a->acked_seq;
			h->prev_changed = mono_ms();
		}
		h->prev_heard = 1;
		return;
	}
	if (a->slot != h->slot || a->epoch != h->epoch)
		return; /* another sender's, or a previous life's */
	h->acks_in++;
	if (a->acked_seq >= h->next_seq) {
		h->bad_acks++; /* acknowledges what was never sent */
		return;
	}
	take_refusals(h, a);
	if (a->acked_seq > h->acked)
		h->acked = a->acked_seq;
	free_acked(h);
	if (a->instance != h->instance) {
		if (h->instance != 0 && h->head != NULL) {
			log_info("exportd restarted: pushing again %zu batches "
			    "from seq %llu", h->held,
			    (unsigned long long)h->head->seq);
			h->resends++;
			h->resent_batches += h->held;
			h->unsent = h->head;
			/* what the new exportd lacks is pushed again now: its
			 * next acks asking for it again wait HO_RESEND_MS */
			h->rewind_seq = h->head->seq;
			h->rewind_ms = mono_ms();
		}
		h->instance = a->instance;
	}
	if (a->resend_from > h->acked && a->resend_from < h->next_seq)
		rewind_to(h, a->resend_from);
}

/*
 * What ho_poll does but read the acks: the pushes held back and the
 * resends come due (a loop that reads the acks only when their
 * descriptor stirs calls this on the other rounds).
 */
void
ho_timers(struct handover *h)
{
	monitor_retry();
	flush(h, 0);
}

/* Reads the acks that wait (up to timeout_ms for the first one). */
void
ho_poll(struct handover *h, int timeout_ms)
{
	zmq_pollitem_t it = { h->acks, 0, ZMQ_POLLIN, 0 };
	Netstream__Envelope *env;
	enum bus_err e;

	/* a sender that waits here must still connect again the sockets
	 * a server refused, or it waits for good (lib/monitor.c) */
	monitor_retry();
	if (timeout_ms > 0 && zmq_poll(&it, 1, timeout_ms) <= 0)
		return;
	for (;;) {
		e = bus_recv(h->acks, HO_ACK_MAX, 1, ZMQ_DONTWAIT, &env);
		if (e == BUS_AGAIN)
			break;
		if (e != BUS_OK || env->msg_case != NETSTREAM__ENVELOPE__MSG_ACK)
			h->bad_acks++;
		else
			ho_ack(h, env->ack);
		bus_free(env);
	}
	flush(h, 0);
}

/*
 * Hands a FlowBatch envelope over: 0 when it is held (pushed, or to be
 * pushed as soon as the queue takes it), -1 when it was not taken (no
 * wait and HO_MAX_BYTES already held): the caller counts it as lost.
 * With wait, a full window waits for acks instead.
 */
int
ho_send(struct handover *h, Netstream__Envelope *env, int wait)
{
	struct ho_batch *b;

	ho_poll(h, 0);
	while (h->held_bytes >= h->max_bytes ||
	    (h->max_held != 0 && h->held >= h->max_held)) {
		if (!wait || stopping(h))
			return -1;
		ho_poll(h, 100);
	}
	b = xcalloc(1, sizeof(*b));
	b->seq = h->next_seq++;
	b->n_rows = env->batch->n_rows;
	env->batch->epoch = h->epoch;
	env->batch->seq = b->seq;
	b->buf = bus_pack(env, &b->len);
	if (h->tail != NULL)
		h->tail->next = b;
	else
		h->head = b;
	h->tail = b;
	if (h->unsent == NULL)
		h->unsent = b;
	h->held++;
	h->held_bytes += b->len;
	flush(h, wait);
	return 0;
}

/* Waits until exportd acknowledged everything: 0, or -1 on timeout. */
int
ho_drain(struct handover *h, int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;

	while (h->head != NULL && mono_ms() < end &&
	    !(h->quit && *h->quit)) {
		if (flush(h, 0) == -1)
			poll(NULL, 0, 10);
		ho_poll(h, 50);
	}
	return h->head == NULL ? 0 : -1;
}

uint64_t
ho_held_records(const struct handover *h)
{
	const struct ho_batch *b;
	uint64_t n = 0;

	for (b = h->head; b != NULL; b = b->next)
		n += b->n_rows;
	return n;
}

void
ho_close(struct handover *h)
{
	struct ho_batch *b, *next;

	for (b = h->head; b != NULL; b = next) {
		next = b->next;
		free(b->buf);
		free(b);
	}
	h->head = h->tail = h->unsent = NULL;
	h->held = h->held_bytes = 0;
	/* what is still queued was never acknowledged, and counted so (the
	 * caller's ho_drain): it must not hold the context's end */
	zmq_setsockopt(h->push, ZMQ_LINGER, &(int){ 0 }, sizeof(int));
	zmq_close(h->push);
	zmq_close(h->acks);
}
