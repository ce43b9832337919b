/*
 * test_ack.c: exportd's half of the acknowledged hand-over (exportd/ack.c)
 * over the real export path: batches to a UDP socket of the test on
 * loopback, the state file in a temporary run directory, and a second
 * exportd state that takes up from the file as a restarted exportd does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include <cmocka.h>

#include "exportd.h"
#include "handover.h"
#include "util.h"

#define ROWS 10
#define ROW_LEN 8

struct fx {
	char dir[64];
	int udp;
	unsigned port;
	void *ctx;
	struct exportd xd;
	Netstream__Host host, *hostp[1];
	Netstream__TemplateField f[2], *fp[2];
	uint8_t rows[ROWS * ROW_LEN];
	char addr[16];
};

static void
xd_start(struct fx *x)
{
	memset(&x->xd, 0, sizeof(x->xd));
	bus_endpoints_init(&x->xd.ep, x->dir);
	x->xd.prm.mtu = 1400;
	x->xd.prm.tmpl_timeout_min = 30;
	x->xd.prm.opt_timeout_s = 60;
	x->xd.acks = zmq_socket(x->ctx, ZMQ_PUB);
	x->xd.instance = ho_random64();
	state_open(&x->xd);
}

static void
xd_stop(struct fx *x)
{
	dest_free_all(&x->xd);
	send_free_all(&x->xd);
	state_close(&x->xd);
	zmq_close(x->xd.acks);
}

static int
setup(void **state)
{
	struct fx *x = xcalloc(1, sizeof(*x));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	snprintf(x->dir, sizeof(x->dir), "/tmp/test_ack.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	x->udp = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(x->udp, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(x->udp, (struct sockaddr *)&a, &len);
	x->port = ntohs(a.sin_port);
	x->ctx = zmq_ctx_new();
	netstream__host__init(&x->host);
	strcpy(x->addr, "127.0.0.1");
	x->host.address = x->addr;
	x->host.port = x->port;
	x->hostp[0] = &x->host;
	netstream__template_field__init(&x->f[0]);
	x->f[0].type = 2; /* packets */
	x->f[0].len = 4;
	netstream__template_field__init(&x->f[1]);
	x->f[1].type = 1; /* bytes */
	x->f[1].len = 4;
	x->fp[0] = &x->f[0];
	x->fp[1] = &x->f[1];
	xd_start(x);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;
	char path[128];

	xd_stop(x);
	zmq_ctx_term(x->ctx);
	close(x->udp);
	snprintf(path, sizeof(path), "%s/exportd.state", x->dir);
	unlink(path);
	rmdir(x->dir);
	free(x);
	return 0;
}

static void
batch_in(struct fx *x, Netstream__FlowBatch *b, uint32_t slot,
    uint64_t epoch, uint64_t seq)
{
	size_t i;

	netstream__flow_batch__init(b);
	b->slot = slot;
	b->template_id = 258;
	b->n_fields = 2;
	b->fields = x->fp;
	b->n_hosts = 1;
	b->hosts = x->hostp;
	b->export_time_ms = 1700000000000LL;
	b->sys_boot_ms = b->export_time_ms - 1000;
	b->row_len = ROW_LEN;
	b->n_rows = ROWS;
	for (i = 0; i < ROWS * ROW_LEN; i++)
		x->rows[i] = (uint8_t)(seq * 16 + i / ROW_LEN);
	b->rows.data = x->rows;
	b->rows.len = sizeof(x->rows);
	b->epoch = epoch;
	b->seq = seq;
	assert_int_equal(batch_check(b), BAD_MAX);
}

/* Offers a batch of a slot as recv_batch() does: 1 when it was exported. */
static int
offer_in(struct fx *x, uint32_t slot, uint64_t epoch, uint64_t seq)
{
	Netstream__FlowBatch b;

	batch_in(x, &b, slot, epoch, seq);
	if (!batch_take(&x->xd, &b))
		return 0;
	dest_batch(&x->xd, &b);
	return 1;
}

/* The same, with the batch marked as its sender's last (final). */
static int
offer_final(struct fx *x, uint32_t slot, uint64_t epoch, uint64_t seq)
{
	Netstream__FlowBatch b;

	batch_in(x, &b, slot, epoch, seq);
	b.final = 1;
	if (!batch_take(&x->xd, &b))
		return 0;
	dest_batch(&x->xd, &b);
	return 1;
}

static int
offer(struct fx *x, uint64_t epoch, uint64_t seq)
{
	return offer_in(x, 1, epoch, seq);
}

/* Closes what is open, sends it, and returns the data records received. */
static unsigned
flush_and_count(struct fx *x)
{
	uint8_t buf[2048];
	unsigned n = 0;
	ssize_t r;

	dest_close_all(&x->xd, -1);
	send_flush_all(&x->xd);
	ack_publish(&x->xd, mono_ms());
	while (poll(&(struct pollfd){ x->udp, POLLIN, 0 }, 1, 100) == 1 &&
	    (r = recv(x->udp, buf, sizeof(buf), 0)) > 0) {
		ssize_t off = 20; /* v9 header, then flowsets */

		while (off + 4 <= r) {
			unsigned id = buf[off] << 8 | buf[off + 1];
			unsigned len = buf[off + 2] << 8 | buf[off + 3];

			if (len < 4)
				break;
			if (id == 258)
				n += (len - 4) / ROW_LEN;
			off += len;
		}
	}
	return n;
}

static void
test_order(void **state)
{
	struct fx *x = *state;

	assert_int_equal(offer(x, 7, 1), 1);
	assert_int_equal(offer(x, 7, 1), 0); /* again: a duplicate */
	assert_int_equal(offer(x, 7, 3), 0); /* after a gap */
	assert_int_equal(offer(x, 7, 2), 1);
	assert_int_equal(offer(x, 7, 3), 1);
	assert_int_equal(x->xd.dup_batches, 1);
	assert_int_equal(x->xd.gap_batches, 1);
	assert_int_equal(offer(x, 0, 99), 1); /* untracked one-shot */
	assert_int_equal(flush_and_count(x), 4 * ROWS);
	assert_int_equal(xslot_find(&x->xd, 1)->acked, 3);
}

static void
test_new_sender(void **state)
{
	struct fx *x = *state;

	assert_int_equal(offer(x, 7, 1), 1);
	assert_int_equal(offer(x, 7, 2), 1);
	flush_and_count(x);
	/* as if restarted with its state: a new sender must start at 1 */
	x->xd.state_fresh = 0;
	assert_int_equal(offer(x, 8, 5), 0);
	assert_int_equal(offer(x, 8, 1), 1);
	assert_int_equal(flush_and_count(x), ROWS);
	assert_int_equal(xslot_find(&x->xd, 1)->epoch, 8);
	assert_int_equal(xslot_find(&x->xd, 1)->acked, 1);
}

/*
 * A tracked batch that fails its check is dropped and counted, but takes
 * its place in the order: the next one is exported, and the ack covers
 * both, so its sender stops pushing it. A seq out of range takes none.
 */
static void
test_bad_batch_takes_its_place(void **state)
{
	struct fx *x = *state;
	Netstream__FlowBatch b;

	assert_int_equal(offer(x, 7, 1), 1);
	batch_in(x, &b, 1, 7, 2);
	b.template_id = 5; /* under 256 */
	assert_int_equal(batch_take(&x->xd, &b), 0);
	assert_int_equal(x->xd.bad[BAD_TEMPLATE_ID], 1);
	batch_in(x, &b, 1, 7, 3);
	b.template_id = 5;
	b.seq = 0; /* and no seq: it fits nowhere */
	assert_int_equal(batch_take(&x->xd, &b), 0);
	assert_int_equal(x->xd.bad[BAD_TEMPLATE_ID], 2);
	/* a slot the config cannot have: refused, and no state for it */
	batch_in(x, &b, 1, 7, 3);
	b.slot = 256;
	assert_int_equal(batch_take(&x->xd, &b), 0);
	assert_int_equal(x->xd.bad[BAD_SLOT], 1);
	assert_null(xslot_find(&x->xd, 256));
	assert_int_equal(offer(x, 7, 3), 1);
	assert_int_equal(x->xd.gap_batches, 0);
	assert_int_equal(flush_and_count(x), 2 * ROWS);
	assert_int_equal(xslot_find(&x->xd, 1)->acked, 3);
}

/* A batch of sender epoch, seq, that fails batch_check (its template). */
static int
offer_bad(struct fx *x, uint64_t epoch, uint64_t seq)
{
	Netstream__FlowBatch b;

	batch_in(x, &b, 1, epoch, seq);
	b.template_id = 5; /* under 256 */
	return batch_take(&x->xd, &b);
}

/*
 * A batch that fails its check never starts a new epoch: after a restart
 * (the state says sender 7, batch 3 next), a forged batch of another
 * epoch with seq 1 leaves the slot to sender 7, whose batches go on
 * being taken and acknowledged. A real new sender whose first batch is
 * bad takes the slot with its next good one, in its order.
 */
static void
test_bad_batch_no_new_epoch(void **state)
{
	struct fx *x = *state;

	assert_int_equal(offer(x, 7, 1), 1);
	assert_int_equal(offer(x, 7, 2), 1);
	assert_int_equal(flush_and_count(x), 2 * ROWS);
	xd_stop(x);
	xd_start(x);
	assert_int_equal(x->xd.state_fresh, 0);
	assert_int_equal(offer_bad(x, 99, 1), 0);
	assert_int_equal(x->xd.bad[BAD_TEMPLATE_ID], 1);
	assert_int_equal(xslot_find(&x->xd, 1)->epoch, 7);
	assert_int_equal(offer(x, 7, 3), 1);
	assert_int_equal(offer_bad(x, 98, 1), 0); /* running, not restarted */
	assert_int_equal(offer(x, 7, 4), 1);
	assert_int_equal(x->xd.gap_batches, 0);
	assert_int_equal(flush_and_count(x), 2 * ROWS);
	assert_int_equal(xslot_find(&x->xd, 1)->epoch, 7);
	assert_int_equal(xslot_find(&x->xd, 1)->acked, 4);
	/* sender 8 (sampled restarted): its batch 1 is bad, 2 is good */
	assert_int_equal(offer_bad(x, 8, 1), 0);
	assert_int_equal(xslot_find(&x->xd, 1)->epoch, 7);
	assert_int_equal(offer(x, 8, 2), 1);
	assert_int_equal(offer(x, 8, 3), 1);
	assert_int_equal(flush_and_count(x), 2 * ROWS);
	assert_int_equal(xslot_find(&x->xd, 1)->epoch, 8);
	assert_int_equal(xslot_find(&x->xd, 1)->acked, 3);
	/* but a good batch of a stranger that is not its first is not */
	assert_int_equal(offer(x, 97, 2), 0);
	assert_int_equal(xslot_find(&x->xd, 1)->epoch, 8);
}

/*
 * A batch refused by the checks is still answered, with the reason (a
 * negative ack): in the slot's epoch it counts in the slot's acks; the
 * first batches of a new sender that fail count apart (it is not the
 * slot's sender yet), and carry over once its first good batch makes it
 * the slot's sender.
 */
static void
test_refused_are_counted(void **state)
{
	struct fx *x = *state;
	struct xslot *xs;

	assert_int_equal(offer(x, 7, 1), 1);
	assert_int_equal(offer_bad(x, 7, 2), 0);
	xs = xslot_find(&x->xd, 1);
	assert_int_equal(xs->ref_batches[BAD_TEMPLATE_ID], 1);
	assert_int_equal(xs->ref_rows[BAD_TEMPLATE_ID], ROWS);
	assert_int_equal(offer(x, 7, 3), 1);
	assert_int_equal(flush_and_count(x), 2 * ROWS);
	assert_int_equal(xs->acked, 3); /* the refused one is answered */
	/* sender 8: its batches 1 and 2 fail, 3 does not */
	assert_int_equal(offer_bad(x, 8, 1), 0);
	assert_int_equal(offer_bad(x, 8, 2), 0);
	assert_int_equal(xs->epoch, 7);
	assert_int_equal(xs->cand_epoch, 8);
	assert_int_equal(xs->cand_batches[BAD_TEMPLATE_ID], 2);
	assert_int_equal(xs->cand_rows[BAD_TEMPLATE_ID], 2 * ROWS);
	assert_int_equal(offer_bad(x, 8, 2), 0); /* again: not twice */
	assert_int_equal(xs->cand_batches[BAD_TEMPLATE_ID], 2);
	assert_int_equal(offer(x, 8, 3), 1);
	assert_int_equal(xs->epoch, 8);
	assert_int_equal(xs->ref_batches[BAD_TEMPLATE_ID], 2);
	assert_int_equal(flush_and_count(x), ROWS);
	assert_int_equal(xs->acked, 3);
}

/*
 * The sender's side: refusals are cumulative per exportd instance, so a
 * missed ack loses nothing and one seen twice counts once; a new
 * instance counts from 0 again.
 */
static void
test_sender_counts_refusals(void **state)
{
	Netstream__FlowAck a = NETSTREAM__FLOW_ACK__INIT;
	Netstream__Refusal r = NETSTREAM__REFUSAL__INIT, *rp = &r;
	struct handover h;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.slot = 1;
	h.epoch = 7;
	h.next_seq = 10;
	a.slot = 1;
	a.epoch = 7;
	a.instance = 100;
	a.n_refused = 1;
	a.refused = &rp;
	r.reason = "clock";
	r.batches = 2;
	r.rows = 50;
	a.acked_seq = 3;
	ho_ack(&h, &a);
	ho_ack(&h, &a); /* the same ack again */
	assert_int_equal(ho_refused_records(&h), 50);
	r.batches = 3;
	r.rows = 70;
	a.acked_seq = 5;
	ho_ack(&h, &a);
	assert_int_equal(ho_refused_records(&h), 70);
	a.instance = 200; /* exportd restarted: its count starts again */
	r.batches = 1;
	r.rows = 5;
	a.acked_seq = 6;
	ho_ack(&h, &a);
	assert_int_equal(ho_refused_records(&h), 75);
	assert_int_equal(h.n_refused, 1);
	assert_int_equal(h.refused[0].batches, 4);
	a.epoch = 8; /* another sender's: not ours */
	r.rows = 500;
	ho_ack(&h, &a);
	assert_int_equal(ho_refused_records(&h), 75);
}

/* An ack covers only what left: rows in an open packet hold it back. */
static void
test_ack_waits_for_send(void **state)
{
	struct fx *x = *state;

	assert_int_equal(offer(x, 7, 1), 1);
	ack_publish(&x->xd, mono_ms());
	assert_int_equal(xslot_find(&x->xd, 1)->acked, 0);
	assert_int_equal(flush_and_count(x), ROWS);
	assert_int_equal(xslot_find(&x->xd, 1)->acked, 1);
}

/* Slots come and go while packets of others wait (SAN: no stale state). */
static void
test_many_slots(void **state)
{
	struct fx *x = *state;
	uint32_t slot;

	for (slot = 1; slot <= 9; slot++)
		assert_int_equal(offer_in(x, slot, 100 + slot, 1), 1);
	assert_int_equal(flush_and_count(x), 9 * ROWS);
	for (slot = 1; slot <= 9; slot++)
		assert_int_equal(xslot_find(&x->xd, slot)->acked, 1);
}

/*
 * A restarted exportd expects the batch after the last ack, and of a
 * batch pushed again sends only the rows not sent before.
 */
/*
 * A stopping exportd waits for its PULL to stay quiet only while some
 * sender may still push: not once every slot's last batch taken was its
 * final one. Refused batches say nothing; an untracked batch (no epoch)
 * names no sender, so then it always waits.
 */
static void
test_senders_ended(void **state)
{
	struct fx *x = *state;

	assert_int_equal(ack_senders_ended(&x->xd), 0); /* none heard yet */
	assert_int_equal(offer_in(x, 1, 7, 1), 1);
	assert_int_equal(ack_senders_ended(&x->xd), 0);
	assert_int_equal(offer_final(x, 2, 9, 1), 1);
	assert_int_equal(ack_senders_ended(&x->xd), 0); /* slot 1 goes on */
	assert_int_equal(offer_final(x, 1, 7, 3), 0);	/* after a gap */
	assert_int_equal(ack_senders_ended(&x->xd), 0);
	assert_int_equal(offer_final(x, 1, 7, 2), 1);
	assert_int_equal(ack_senders_ended(&x->xd), 1);
	assert_int_equal(offer_in(x, 1, 7, 1), 0); /* a duplicate */
	assert_int_equal(ack_senders_ended(&x->xd), 1);
	/* a slot that goes on after its final batch (a commit names a new
	 * capture file) may push more */
	assert_int_equal(offer_in(x, 2, 9, 2), 1);
	assert_int_equal(ack_senders_ended(&x->xd), 0);
	assert_int_equal(offer_final(x, 2, 9, 3), 1);
	assert_int_equal(ack_senders_ended(&x->xd), 1);
	assert_int_equal(offer_in(x, 3, 0, 1), 1); /* untracked */
	assert_int_equal(ack_senders_ended(&x->xd), 0);
}

static void
test_restart(void **state)
{
	struct fx *x = *state;
	struct dest *d;

	assert_int_equal(offer(x, 7, 1), 1);
	assert_int_equal(flush_and_count(x), ROWS);
	assert_int_equal(offer(x, 7, 2), 1);
	/* batch 2's first 4 rows left, in a second packet, before the
	 * "kill" (what ack_out_done() stores when that packet is sent) */
	d = x->xd.hosts[0]->dests[0];
	assert_int_equal(d->pent->packets, 1);
	d->pent->mark = mark_make(2, 4, 0);
	d->pent->packets = 2;
	xd_stop(x); /* like a kill: nothing is flushed */
	xd_start(x);
	assert_int_equal(x->xd.state_fresh, 0);
	assert_int_equal(offer(x, 7, 1), 0);
	assert_int_equal(offer(x, 7, 3), 0);
	assert_int_equal(offer(x, 7, 2), 1);
	assert_int_equal(flush_and_count(x), ROWS - 4);
	assert_int_equal(x->xd.rows_skipped, 4);
	assert_int_equal(xslot_find(&x->xd, 1)->acked, 2);
	/* the v9 sequence goes on from what the file says was sent */
	assert_int_equal(x->xd.hosts[0]->dests[0]->packets, 3);
}

/*
 * A restarted exportd whose slot gets a new sender (its sampled was
 * restarted too) goes on with the v9 sequence of each (host, domain):
 * RFC 3954 counts export packets per domain whoever the sender is, and a
 * collector takes a sequence back at 0 for lost packets.
 */
static void
test_restart_new_sender_keeps_sequence(void **state)
{
	struct fx *x = *state;

	assert_int_equal(offer(x, 7, 1), 1);
	assert_int_equal(flush_and_count(x), ROWS);
	assert_int_equal(x->xd.hosts[0]->dests[0]->packets, 1);
	xd_stop(x);
	xd_start(x);
	assert_int_equal(offer(x, 9, 1), 1); /* a new sampled of the slot */
	assert_int_equal(flush_and_count(x), ROWS);
	assert_int_equal(x->xd.hosts[0]->dests[0]->packets, 2);
}

/*
 * A restarted exportd asks for the batch it expects in every ack until
 * it comes (its sender may never have heard the exportd before, so no
 * new instance tells it to push again), and so does one that sees a gap.
 */
static void
test_asks_for_what_it_lacks(void **state)
{
	struct fx *x = *state;

	assert_int_equal(offer(x, 7, 1), 1);
	assert_int_equal(flush_and_count(x), ROWS);
	assert_int_equal(xslot_find(&x->xd, 1)->resend_from, 0);
	xd_stop(x);
	xd_start(x);
	ack_publish(&x->xd, mono_ms());
	assert_int_equal(xslot_find(&x->xd, 1)->resend_from, 2);
	assert_int_equal(offer(x, 7, 3), 0); /* in flight past the lost 2 */
	assert_int_equal(xslot_find(&x->xd, 1)->resend_from, 2);
	assert_int_equal(offer(x, 7, 2), 1);
	assert_int_equal(xslot_find(&x->xd, 1)->resend_from, 0);
	assert_int_equal(offer(x, 7, 3), 1);
	/* the same exportd: 4 lost on a connection that broke, 5 came */
	assert_int_equal(offer(x, 7, 5), 0);
	assert_int_equal(xslot_find(&x->xd, 1)->resend_from, 4);
	assert_int_equal(offer(x, 7, 4), 1);
	assert_int_equal(xslot_find(&x->xd, 1)->resend_from, 0);
	assert_int_equal(flush_and_count(x), 3 * ROWS);
	/* a new sender starts afresh */
	assert_int_equal(offer(x, 9, 2), 0);
	assert_int_equal(offer(x, 9, 1), 1);
	assert_int_equal(xslot_find(&x->xd, 1)->resend_from, 0);
}

/* The seqs a PULL receives now, as a number: 345 for 3, 4, 5. */
static unsigned long
pulled(void *pull)
{
	Netstream__Envelope *env;
	unsigned long n = 0;

	while (zmq_poll(&(zmq_pollitem_t){ pull, 0, ZMQ_POLLIN, 0 }, 1,
	    100) == 1 &&
	    bus_recv(pull, BUS_MAX_FLOWS, 0, ZMQ_DONTWAIT, &env) == BUS_OK) {
		n = n * 10 + env->batch->seq;
		bus_free(env);
	}
	return n;
}

/*
 * The sender's side: an ack's resend_from pushes the held batches again
 * from it, also from the first exportd the sender hears (it never heard
 * the one before that died with its batches in flight), at most once per
 * HO_RESEND_MS for the same batch; never one not pushed yet or acked.
 */
static void
test_sender_pushes_again(void **state)
{
	struct fx *x = *state;
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;
	Netstream__FlowBatch fb = NETSTREAM__FLOW_BATCH__INIT;
	Netstream__FlowAck a = NETSTREAM__FLOW_ACK__INIT;
	struct bus_endpoints ep;
	struct handover h;
	void *pull = zmq_socket(x->ctx, ZMQ_PULL);
	int i;

	memset(&ep, 0, sizeof(ep));
	strcpy(ep.flows, "inproc://test-flows");
	strcpy(ep.acks, "inproc://test-acks");
	assert_int_equal(zmq_bind(pull, ep.flows), 0);
	ho_open(&h, x->ctx, &ep, 1, NULL);
	env.msg_case = NETSTREAM__ENVELOPE__MSG_BATCH;
	env.batch = &fb;
	fb.slot = 1;
	for (i = 0; i < 5; i++)
		assert_int_equal(ho_send(&h, &env, 0), 0);
	assert_int_equal(pulled(pull), 12345);
	a.slot = 1;
	a.epoch = h.epoch;
	a.instance = 100; /* the first exportd this sender hears */
	a.acked_seq = 1;
	a.resend_from = 3;
	ho_ack(&h, &a);
	ho_poll(&h, 0);
	assert_int_equal(pulled(pull), 345);
	assert_int_equal(h.resent_batches, 3);
	ho_ack(&h, &a); /* the next beat: 3 may be on its way */
	ho_poll(&h, 0);
	assert_int_equal(pulled(pull), 0);
	h.rewind_ms -= HO_RESEND_MS; /* it was not: asked again later */
	ho_ack(&h, &a);
	ho_poll(&h, 0);
	assert_int_equal(pulled(pull), 345);
	a.acked_seq = 3;
	a.resend_from = 3; /* acked already: nothing */
	h.rewind_ms -= HO_RESEND_MS;
	ho_ack(&h, &a);
	ho_poll(&h, 0);
	assert_int_equal(pulled(pull), 0);
	a.resend_from = 6; /* never sent: nothing */
	ho_ack(&h, &a);
	ho_poll(&h, 0);
	assert_int_equal(pulled(pull), 0);
	assert_int_equal(h.held, 2);
	/* a restarted exportd: everything held goes again, once, even when
	 * its ack also names the batch it lacks */
	a.instance = 200;
	a.resend_from = 4;
	ho_ack(&h, &a);
	ho_poll(&h, 0);
	ho_ack(&h, &a);
	ho_poll(&h, 0);
	assert_int_equal(pulled(pull), 45);
	assert_int_equal(h.resends, 1); /* restarts, not asks */
	ho_close(&h);
	zmq_close(pull);
}

/*
 * The acks sockets' limit holds the largest ack, with its topic: every
 * refusal reason, every number at its widest.
 */
static void
test_largest_ack_fits(void **state)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;
	Netstream__FlowAck a = NETSTREAM__FLOW_ACK__INIT;
	Netstream__Refusal r[BAD_MAX], *rp[BAD_MAX];
	uint8_t *buf;
	size_t len;
	unsigned i;

	(void)state;
	a.slot = UINT32_MAX;
	a.epoch = a.acked_seq = a.instance = a.resend_from = UINT64_MAX;
	for (i = 0; i < BAD_MAX; i++) {
		netstream__refusal__init(&r[i]);
		r[i].reason = (char *)bad_name((enum xd_bad)i);
		r[i].batches = r[i].rows = UINT64_MAX;
		rp[i] = &r[i];
	}
	a.n_refused = BAD_MAX;
	a.refused = rp;
	env.msg_case = NETSTREAM__ENVELOPE__MSG_ACK;
	env.ack = &a;
	buf = bus_pack(&env, &len);
	free(buf);
	assert_true(len + sizeof(HO_ACK_TOPIC) <= HO_ACK_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_sender, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_batch_takes_its_place,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_batch_no_new_epoch,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_are_counted,
		    setup, teardown),
		cmocka_unit_test(test_sender_counts_refusals),
		cmocka_unit_test_setup_teardown(test_ack_waits_for_send, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_slots, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_senders_ended, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_new_sender_keeps_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_asks_for_what_it_lacks,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_pushes_again,
		    setup, teardown),
		cmocka_unit_test(test_largest_ack_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
