/*
 * display_cache.c: `nsctl display cache slot N`: the biggest live flows of
 * a slot's caches, asked of that slot's sampled on its query socket.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "display.h"
#include "fields.h"
#include "plan.h"
#include "util.h"

static void
value_text(unsigned type, const uint8_t *v, unsigned len, char *buf,
    size_t size)
{
	uint64_t x = 0;
	unsigned i;

	if ((type == F_SRC_ADDR || type == F_DST_ADDR || type == F_NEXT_HOP ||
	    type == F_BGP_NEXT_HOP) && len == 16 &&
	    inet_ntop(AF_INET6, v, buf, (socklen_t)size) != NULL)
		return;
	if (len >= 1 && len <= 8) {
		for (i = 0; i < len; i++)
			x = x << 8 | v[i];
		snprintf(buf, size, "%llu", ull(x));
		return;
	}
	for (i = 0; i < len && 2 * i + 3 < size; i++)
		snprintf(buf + 2 * i, size - 2 * i, "%02x", v[i]);
}

/*
 * One request to the sampled of slot rq->slot, one reply, with a
 * timeout; the reply is a CacheReply (its status not looked at yet).
 */
int
slot_ask(struct nsctl *n, Netstream__CacheRequest *rq,
    Netstream__Envelope **reply)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;
	char ep[BUS_ENDPOINT_MAX];
	struct stat st;
	enum bus_err e;
	void *ctx, *s;
	int rc;

	*reply = NULL;
	bus_slot_endpoint(&n->ep, rq->slot, ep, sizeof(ep));
	if (strncmp(ep, "ipc://", 6) == 0 && stat(ep + 6, &st) == -1) {
		/* no group at all is said as every verb says it */
		if ((rc = nsctl_ping(n)) != 0)
			return rc;
		fprintf(stderr, "nsctl: no sampled for slot %u at %s (is the "
		    "slot in the running plan?)\n", rq->slot, ep);
		slot_liveness_note(n, rq->slot);
		return EXIT_INVALID;
	}
	env.msg_case = NETSTREAM__ENVELOPE__MSG_CACHE_REQUEST;
	env.cache_request = rq;
	ctx = zmq_ctx_new();
	s = bus_socket(ctx, ZMQ_REQ, BUS_MAX_CONTROL);
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &n->timeout_ms, sizeof(int));
	zmq_setsockopt(s, ZMQ_SNDTIMEO, &n->timeout_ms, sizeof(int));
	e = BUS_AGAIN;
	if (bus_connect_slot(s, ep, rq->slot) == 0 &&
	    bus_send(s, NULL, &env, 0) == 0)
		e = bus_recv(s, BUS_MAX_CONTROL, 0, 0, reply);
	zmq_close(s);
	zmq_ctx_term(ctx);
	if (e == BUS_OK &&
	    (*reply)->msg_case == NETSTREAM__ENVELOPE__MSG_CACHE_REPLY)
		return 0;
	bus_free(*reply);
	*reply = NULL;
	if ((rc = nsctl_ping(n)) != 0)
		return rc;
	fprintf(stderr, "nsctl: %s from sampled slot %u at %s\n",
	    e == BUS_AGAIN ? "no answer" : "bad reply", rq->slot, ep);
	/* a slot on another host: is it there at all? cfgd knows */
	slot_liveness_note(n, rq->slot);
	return EXIT_INVALID;
}

/* A flow's key matches its binding's layout; else it is not shown. */
static int
flow_ok(const Netstream__CacheReply *r, const Netstream__CacheFlow *f)
{
	const Netstream__CacheBinding *b;
	size_t i, len = 0;

	if (f->binding >= r->n_bindings)
		return 0;
	b = r->bindings[f->binding];
	for (i = 0; i < b->n_match; i++)
		len += b->match[i]->len;
	return len == f->key.len;
}

static double
ago_s(const Netstream__CacheReply *r, uint32_t ms)
{
	int64_t d = r->now_ms - (r->boot_ms + (int64_t)ms);

	return d > 0 ? (double)d / 1000.0 : 0.0;
}

static void
cache_flow_json(const Netstream__CacheReply *r, const Netstream__CacheFlow *f,
    int first)
{
	const Netstream__CacheBinding *b = r->bindings[f->binding];
	char v[80];
	size_t i, off = 0;

	printf("%s{\"interface\":", first ? "" : ",");
	json_string(b->interface);
	printf(",\"direction\":\"%s\",\"record\":",
	    direction_name(b->direction));
	json_string(b->record);
	printf(",\"template\":%u,\"match\":{", b->template_id);
	for (i = 0; i < b->n_match; i++) {
		value_text(b->match[i]->type, f->key.data + off,
		    b->match[i]->len, v, sizeof(v));
		off += b->match[i]->len;
		printf("%s\"%s\":", i ? "," : "",
		    display_field_name(b->match[i]->type));
		json_string(v);
	}
	printf("},\"packets\":%llu,\"bytes\":%llu,\"first_ms\":%u,"
	    "\"last_ms\":%u}", ull(f->packets), ull(f->bytes), f->first_ms,
	    f->last_ms);
}

/* One cache's flows of the reply, biggest first, as a table. */
static void
cache_binding_table(const Netstream__CacheReply *r, uint32_t k)
{
	const Netstream__CacheBinding *b = r->bindings[k];
	struct table t;
	char v[80];
	size_t i, j, off, nm = b->n_match < TBL_MAX_COLS - 4 ? b->n_match :
	    TBL_MAX_COLS - 4;
	unsigned left = 0;

	printf("%s %s, record %s (template %u)%s%s: %llu flows\n",
	    b->interface, direction_name(b->direction), b->record,
	    b->template_id, b->monitor[0] ? ", monitor " : "", b->monitor,
	    ull(b->flows));
	for (j = 0; j < nm; j++) /* addresses read best from the left */
		if (b->match[j]->len == 16)
			left |= 1u << j;
	tbl_init(&t, nm + 4, left);
	for (j = 0; j < nm; j++)
		tbl_cell(&t, "%s", display_field_name(b->match[j]->type));
	tbl_cell(&t, "Packets");
	tbl_cell(&t, "Bytes");
	tbl_cell(&t, "Age(s)");
	tbl_cell(&t, "Idle(s)");
	for (i = 0; i < r->n_flows; i++) {
		const Netstream__CacheFlow *f = r->flows[i];

		if (f->binding != k || !flow_ok(r, f))
			continue;
		for (j = off = 0; j < nm; j++) {
			value_text(b->match[j]->type, f->key.data + off,
			    b->match[j]->len, v, sizeof(v));
			off += b->match[j]->len;
			tbl_cell(&t, "%s", v);
		}
		tbl_cell(&t, "%llu", ull(f->packets));
		tbl_cell(&t, "%llu", ull(f->bytes));
		tbl_cell(&t, "%.1f", ago_s(r, f->first_ms));
		tbl_cell(&t, "%.1f", ago_s(r, f->last_ms));
	}
	tbl_print(&t, "   ");
	printf("\n");
}

static void
cache_print(const Netstream__CacheReply *r, const struct dopts *o)
{
	size_t i, j, shown = 0;

	if (o->json) {
		printf("{\"slot\":%u,\"generation\":%llu,\"flows_total\":%llu,"
		    "\"now_ms\":%lld,\"boot_ms\":%lld,\"flows\":[", r->slot,
		    ull(r->generation), ull(r->flows_total),
		    (long long)r->now_ms, (long long)r->boot_ms);
		for (i = 0; i < r->n_flows; i++)
			if (flow_ok(r, r->flows[i]))
				cache_flow_json(r, r->flows[i], shown++ == 0);
		printf("]}\n");
		return;
	}
	printf("Slot %u: %llu flows in %zu cache%s%s%s; the %zu biggest by "
	       "bytes\n\n", r->slot, ull(r->flows_total), r->n_bindings,
	    r->n_bindings == 1 ? "" : "s", o->record[0] ? " of record " : "",
	    o->record, r->n_flows);
	/* caches in the order of their biggest flow, then the empty ones */
	for (i = 0; i < r->n_flows; i++) {
		for (j = 0; j < i && r->flows[j]->binding !=
		    r->flows[i]->binding; j++)
			;
		if (j == i && r->flows[i]->binding < r->n_bindings)
			cache_binding_table(r, r->flows[i]->binding);
	}
	for (i = 0; i < r->n_bindings; i++) {
		for (j = 0; j < r->n_flows && r->flows[j]->binding != i; j++)
			;
		if (j == r->n_flows)
			printf("%s %s, record %s (template %u): %llu flows\n",
			    r->bindings[i]->interface,
			    direction_name(r->bindings[i]->direction),
			    r->bindings[i]->record,
			    r->bindings[i]->template_id,
			    ull(r->bindings[i]->flows));
	}
}

int
display_cache(struct nsctl *n, const struct dopts *o)
{
	Netstream__CacheRequest rq = NETSTREAM__CACHE_REQUEST__INIT;
	Netstream__Envelope *env;
	int rc;

	rq.slot = (unsigned)o->slot;
	rq.record = (char *)o->record;
	rq.top = (uint32_t)o->top;
	if ((rc = slot_ask(n, &rq, &env)) != 0)
		return rc;
	if (env->cache_reply->status != 0) {
		fprintf(stderr, "nsctl: sampled slot %d: %s\n", o->slot,
		    env->cache_reply->text);
		bus_free(env);
		return EXIT_INVALID;
	}
	cache_print(env->cache_reply, o);
	bus_free(env);
	return 0;
}

