/*
 * fuzz_envelope.c: bytes as a bus message, through the checks every process
 * runs on receipt (bus_check, the body of bus_recv), then what the receiver
 * checks next. A FlowBatch goes through exportd's batch_check(); one it
 * accepts must then encode (v9 and IPFIX, as dest.c packs it) and decode
 * back to the same rows with cdecode, and goes through exportd's order
 * rule (ack_accept). A FlowAck goes to a sender holding batches 1..8,
 * whose list must stay consistent. A ControlRequest is only decoded
 * here: the config text it carries is fuzz_config's job.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cdecode.h"
#include "exportd.h"
#include "handover.h"
#include "util.h"
#include "xpkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MTU 1500
#define FUZZ_MAX_ROWS 64 /* rows encoded per format: enough to fill a packet */

/* what the decoder gave back, compared with the rows put in */
struct back {
	const Netstream__FlowBatch *b;
	uint16_t tmpl_id;
	unsigned n;
};

static void
on_record(const struct cdecode_rec *rec, void *arg)
{
	struct back *bk = arg;
	const uint8_t *row;
	size_t off = 0;

	if (rec->options || rec->tmpl_id != bk->tmpl_id ||
	    rec->n_fields != bk->b->n_fields || bk->n >= bk->b->n_rows)
		abort();
	row = bk->b->rows.data + (size_t)bk->n * bk->b->row_len;
	for (unsigned i = 0; i < rec->n_fields; i++) {
		if (rec->f[i].type != bk->b->fields[i]->type ||
		    rec->f[i].len != bk->b->fields[i]->len ||
		    memcmp(rec->f[i].val, row + off, rec->f[i].len) != 0)
			abort();
		off += rec->f[i].len;
	}
	bk->n++;
}

/* packs as many rows as one packet takes, then decodes the packet */
static void
round_trip(const Netstream__FlowBatch *b, const struct tmpl *t, int format)
{
	static uint8_t buf[FUZZ_MTU];
	struct back bk = { .b = b, .tmpl_id = t->id };
	struct cdecode cd;
	struct xpkt x;
	unsigned rows = 0;
	size_t len;

	xpkt_begin(&x, format, buf, sizeof(buf), 1000, 2000, 1, b->slot);
	if (xpkt_add_template(&x, t) != 0)
		abort(); /* at most 48 fields: a template always fits */
	while (rows < b->n_rows && rows < FUZZ_MAX_ROWS &&
	    xpkt_add_data(&x, t, b->rows.data + (size_t)rows * b->row_len) ==
	    0)
		rows++;
	len = xpkt_finish(&x);
	cdecode_init(&cd, 0);
	if (cdecode_packet(&cd, NULL, buf, len, on_record, &bk) != CD_OK ||
	    bk.n != rows)
		abort();
	cdecode_free(&cd);
}

/* exportd's order rule, on state kept across inputs (never exported) */
static void
order(const Netstream__FlowBatch *b)
{
	static struct exportd xd;
	struct xslot *x;
	uint64_t before;
	int taken;

	if (xd.pf == NULL) {
		/* no run directory: the state lives in memory only */
		bus_endpoints_init(&xd.ep, "/nonexistent/fuzz");
		state_open(&xd);
	}
	taken = ack_accept(&xd, b);
	if (b->epoch == 0) {
		if (!taken)
			abort(); /* untracked: always taken */
		return;
	}
	if ((x = xslot_find(&xd, b->slot)) == NULL)
		abort();
	if (taken && x->expect != b->seq + 1)
		abort(); /* taken: the next one expected is the one after */
	before = x->expect;
	if (ack_accept(&xd, b) || x->expect != before)
		abort(); /* the same batch again is a duplicate: no change */
}

/* A sender holding batches 1..8 of epoch 1, slot 1, gets the ack. */
static void
ack(const Netstream__FlowAck *a)
{
	struct handover h;
	struct ho_batch *b;
	uint64_t seq, n = 0;
	int unsent_held = 0;

	memset(&h, 0, sizeof(h));
	h.slot = 1;
	h.epoch = 1;
	h.instance = 5;
	for (seq = 1; seq <= 8; seq++) {
		b = xcalloc(1, sizeof(*b));
		b->seq = seq;
		b->len = 10;
		b->buf = xmalloc(b->len);
		if (h.tail != NULL)
			h.tail->next = b;
		else
			h.head = b;
		h.tail = b;
		h.held++;
		h.held_bytes += b->len;
	}
	h.next_seq = 9;
	ho_ack(&h, a);
	for (b = h.head; b != NULL; b = b->next, n++) {
		if (b->seq <= h.acked || (b->next == NULL && b != h.tail))
			abort();
		unsent_held |= b == h.unsent;
	}
	/* what goes next is one of the held batches: the head after a
	 * restart, or the batch exportd lacks (resend_from), which may come
	 * after batches it took but has not yet acknowledged as sent */
	if (n != h.held || h.held_bytes != n * 10 || h.acked >= h.next_seq ||
	    (h.unsent != NULL && !unsent_held))
		abort();
	while ((b = h.head) != NULL) {
		h.head = b->next;
		free(b->buf);
		free(b);
	}
}

static void
batch(const Netstream__FlowBatch *b)
{
	struct tmpl t;
	size_t i;

	if (batch_check(b) != BAD_MAX)
		return;
	/* accepted: what dest.c's batch_tmpl() builds must be exportable */
	memset(&t, 0, sizeof(t));
	t.id = (uint16_t)b->template_id;
	for (i = 0; i < b->n_fields; i++)
		if (tmpl_add_field(&t, (uint16_t)b->fields[i]->type,
		    (uint16_t)b->fields[i]->len) != 0)
			abort();
	if (tmpl_check(&t) != 0)
		abort();
	round_trip(b, &t, XPKT_V9);
	round_trip(b, &t, XPKT_IPFIX);
	order(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Netstream__Envelope *env;
	enum bus_err e;

	e = bus_check(data, size, BUS_MAX_FLOWS, &env);
	(void)bus_err_name(e);
	if (e != BUS_OK) {
		if (env != NULL)
			abort();
		return 0;
	}
	if (env->proto_version != PROTO_VERSION ||
	    env->msg_case == NETSTREAM__ENVELOPE__MSG__NOT_SET)
		abort();
	if (env->msg_case == NETSTREAM__ENVELOPE__MSG_BATCH)
		batch(env->batch);
	if (env->msg_case == NETSTREAM__ENVELOPE__MSG_ACK)
		ack(env->ack);
	bus_free(env);
	return 0;
}
