/*
 * push.c: aged flows become rows in the data template layout, collected per
 * interface direction and handed over to exportd in FlowBatches, held
 * until exportd acknowledges them (lib/handover.c). In a replay the
 * hand-over waits for exportd (nothing is lost); live, batches beyond
 * what may be held are counted as lost, never dropped silently.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bus.h"
#include "fields.h"
#include "log.h"
#include "sampled.h"
#include "sampled_fields.h"
#include "util.h"

void
push_row(struct slot *s, struct binding *b, struct flow *f, int reason)
{
	struct cache *c = b->cache;
	struct batch *bt = &b->batch;
	struct flow_vals v = { f->packets, f->bytes, f->first_ms, f->last_ms,
		f->ext, f->tcp_flags, reason };
	struct fctx x = { .ifindex = b->pb->ifindex,
		.dir = (int)b->pb->direction,
		.export_as = (int)s->plan->export_as,
		.sampler_id = b->pb->sampler != NULL ? b->pb->sampler->id : 0 };
	unsigned k, off = c->key_len;
	uint8_t *row;

	if (bt->n == bt->cap) {
		bt->cap = bt->cap ? bt->cap * 2 : 64;
		bt->rows = xrealloc(bt->rows, (size_t)bt->cap * c->layout.rec_len);
	}
	if (bt->n == 0) {
		bt->first_ms = s->now_ms;
		bt->packets = 0;
	}
	bt->packets += f->packets;
	row = bt->rows + (size_t)bt->n * c->layout.rec_len;
	memcpy(row, f->key, c->key_len);
	/* route fields of the collect part follow the flow's addresses */
	if (c->off_src >= 0)
		x.rs = routes_lookup(&s->routes, f->key + c->off_src);
	if (c->off_dst >= 0)
		x.rd = routes_lookup(&s->routes, f->key + c->off_dst);
	if (c->off_proto >= 0 && c->off_dport >= 0 &&
	    f->key[c->off_proto] == IPPROTO_ICMPV6)
		x.icmp = (uint16_t)(f->key[c->off_dport] << 8 |
		    f->key[c->off_dport + 1]);
	for (k = b->rec->n_match; k < c->layout.n_fields; k++) {
		field_put_collect(row + off, c->layout.f[k].type,
		    c->layout.f[k].len, &v, &x);
		off += c->layout.f[k].len;
	}
	/* its route fields are 0: the routes file was refused */
	if (s->routes_refused && c->uses_routes)
		s->records_no_routes++;
	bt->n++;
	if (bt->n >= BATCH_ROWS)
		push_batch(s, b, 0);
}

/*
 * Stores in the resume state (resume.h) how far each capture is
 * accounted and what went where, before a batch can leave: a sampled that
 * takes over after a kill goes on after those packets, and counts as
 * lost what was counted but neither went out (through the seq exportd
 * took last) nor needed to. With seq, the batch about to be handed over
 * adds its rows and packets under it.
 */
static void
resume_commit(struct slot *s, uint64_t seq, uint64_t rows, uint64_t packets)
{
	struct rs_file *rs = s->rs;
	struct rs_ent *e;
	size_t i;

	if (rs == NULL) {
		/* a capture worker: its own counts, by its own thread */
		if (s->rs_wk != NULL) {
			s->rs_wk->counted = s->counted;
			s->rs_wk->settled = s->settled;
		}
		return;
	}
	for (i = 0; i < s->ncap; i++)
		if (s->cap[i].rs_idx >= 0)
			rs->cap[s->cap[i].rs_idx].applied = s->cap[i].applied;
	rs->counted = s->counted;
	rs->settled = s->settled;
	rs->acked = s->ho.acked;
	if (seq == 0)
		return;
	e = &rs->ring[seq % RS_RING];
	e->seq = 0; /* a kill in between leaves it unknown, never wrong */
	e->flows = s->pushed.flows + rows;
	e->packets = s->pushed.packets + packets;
	e->seq = seq;
}

/*
 * A live packet was counted into a cache: stored at once. A live
 * capture is not read again after a kill, so its packets are not
 * accounted when a batch leaves, as a file's are, but as they come:
 * the cache that dies with a sampled holds every one counted, and the
 * one that takes over counts them lost, no fewer.
 */
void
push_resume_counted(struct slot *s)
{
	if (s->rs != NULL) {
		s->rs->live = 1;
		resume_commit(s, 0, 0, 0);
	} else if (s->rs_wk != NULL)
		resume_commit(s, 0, 0, 0);
}

static void
settle(struct slot *s, uint64_t rows, uint64_t packets)
{
	s->settled.flows += rows;
	s->settled.packets += packets;
	resume_commit(s, 0, 0, 0);
}

/*
 * A batch of the workers about to be handed over (sent 0), and then
 * handed over (sent 1) or lost (-1): its rows go into the totals its seq
 * gets, as a batch of the main thread's does, so a sampled taking over
 * knows how far the workers' flows went, as the files'.
 */
void
push_resume_worker(struct slot *s, uint64_t rows, uint64_t packets, int sent)
{
	if (sent == 0)
		resume_commit(s, s->ho.next_seq, rows, packets);
	else if (sent > 0) {
		s->pushed.flows += rows;
		s->pushed.packets += packets;
	} else
		settle(s, rows, packets); /* counted: lost */
}

void
push_batch(struct slot *s, struct binding *b, int final)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;
	Netstream__FlowBatch fb = NETSTREAM__FLOW_BATCH__INIT;
	Netstream__TemplateField tf[TMPL_MAX_FIELDS], *tfp[TMPL_MAX_FIELDS];
	const struct tmpl *t = &b->cache->layout;
	unsigned i;

	if ((b->batch.n == 0 && (!final || s->role == SLOT_WORKER)) ||
	    b->pb->n_hosts == 0) {
		/* no host anywhere: counted as aged, nothing to send */
		if (b->batch.n > 0)
			settle(s, b->batch.n, b->batch.packets);
		b->batch.n = 0;
		return;
	}
	for (i = 0; i < t->n_fields; i++) {
		netstream__template_field__init(&tf[i]);
		tf[i].type = t->f[i].type;
		tf[i].len = t->f[i].len;
		tfp[i] = &tf[i];
	}
	fb.generation = s->plan->generation;
	fb.slot = s->id;
	fb.record = b->rec->name;
	fb.template_id = t->id;
	fb.n_fields = t->n_fields;
	fb.fields = tfp;
	fb.interface = b->pb->interface;
	fb.interface_description = b->pb->description;
	fb.direction = b->pb->direction;
	fb.ifindex = b->pb->ifindex;
	fb.n_hosts = b->pb->n_hosts;
	fb.hosts = b->pb->hosts;
	fb.sampler = b->pb->sampler;
	/* both on the wall clock as it is now (clock.c) */
	fb.export_time_ms = clock_wall(s, s->now_ms);
	fb.sys_boot_ms = clock_wall(s, s->boot_ms);
	fb.rows.data = b->batch.rows;
	fb.rows.len = (size_t)b->batch.n * t->rec_len;
	fb.row_len = t->rec_len;
	fb.n_rows = b->batch.n;
	fb.final = final;
	for (i = 0; i < s->plan->n_slots; i++)
		if (s->plan->slots[i]->id == s->id)
			fb.sequence_flow = s->plan->slots[i]->sequence_flow;
	env.msg_case = NETSTREAM__ENVELOPE__MSG_BATCH;
	env.batch = &fb;
	if (s->role == SLOT_WORKER) {
		/* the main thread hands it over (and counts it pushed) */
		fb.final = 0; /* the slot ends with the main thread's */
		if (s->no_export) {
			s->batches_pushed++;
			s->records_pushed += b->batch.n;
		} else if (wk_put(s->wk, &env, b->batch.n, b->batch.packets) ==
		    -1) {
			s->batches_lost++;
			s->records_lost += b->batch.n;
			settle(s, b->batch.n, b->batch.packets);
		}
		b->batch.n = 0;
		return;
	}
	resume_commit(s, s->ho.next_seq, b->batch.n, b->batch.packets);
	if (s->no_export || ho_send(&s->ho, &env, !s->live) == 0) {
		s->batches_pushed++;
		s->records_pushed += b->batch.n;
		s->pushed.flows += b->batch.n;
		s->pushed.packets += b->batch.packets;
	} else {
		s->batches_lost++;
		s->records_lost += b->batch.n;
		settle(s, b->batch.n, b->batch.packets); /* counted: lost */
	}
	b->batch.n = 0;
}

/*
 * Batches that hold a second of slot clock leave, so a replay exports
 * flows at the (pcap) time they aged, however fast it runs.
 */
void
push_due(struct slot *s)
{
	size_t i;

	for (i = 0; i < s->nb; i++)
		if (s->b[i].cache != NULL && s->b[i].batch.n > 0 &&
		    s->now_ms - s->b[i].batch.first_ms >= 1000)
			push_batch(s, &s->b[i], 0);
}

void
push_all(struct slot *s, int final)
{
	size_t i;

	for (i = 0; i < s->nb; i++)
		if (s->b[i].cache != NULL)
			push_batch(s, &s->b[i], final);
}
