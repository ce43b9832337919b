/*
 * fuzz_envelope.c: bytes as a bus message, through the checks every process
 * runs on receipt (bus_check, the body of bus_recv), then what the receiver
 * checks next. A FlowBatch goes through exportd's batch_check(); one it
 * accepts must then encode (v9 and IPFIX, as dest.c packs it) and decode
 * back to the same rows with cdecode. A ControlRequest is only decoded
 * here: the config text it carries is fuzz_config's job.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cdecode.h"
#include "exportd.h"
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
	bus_free(env);
	return 0;
}
