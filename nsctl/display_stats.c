/*
 * display_stats.c: `nsctl display statistics` and `display template`,
 * from one stats sample of each process and the running plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "display.h"
#include "fields.h"
#include "layout.h"
#include "util.h"

#define OPT_SAMPLER 256 /* exportd's options templates (exportd/options.c) */
#define OPT_IFNAME 257

static const char *const len_ranges[] = { "1-64", "65-128", "129-256",
	"257-512", "513-1024", "1025-1500", ">1500" };
static const char *const age_reasons[] = { "idle", "active", "end-of-flow",
	"forced", "lack-of-resources" };

/* ---- display statistics ---- */

static void
stats_lengths(const Netstream__Stats *s, int json)
{
	struct table t;
	uint64_t total = 0, v;
	size_t i;

	tbl_init(&t, 2, 1);
	tbl_cell(&t, "Packet length");
	tbl_cell(&t, "Packets");
	for (i = 0; i < NELEM(len_ranges); i++) {
		v = stats_sum(s, "packet_length", "range", len_ranges[i], NULL,
		    NULL);
		total += v;
		if (json)
			printf("%s\"%s\":%llu", i ? "," : "", len_ranges[i],
			    ull(v));
		tbl_cell(&t, "%s", len_ranges[i]);
		tbl_cell(&t, "%llu", ull(v));
	}
	tbl_cell(&t, "Total");
	tbl_cell(&t, "%llu", ull(total));
	if (json) {
		printf(",\"total\":%llu", ull(total));
		tbl_free(&t);
		return;
	}
	printf(" IPv6 packet length distribution:\n");
	tbl_print(&t, "   ");
}

/*
 * Live: GSO/GRO super-packets the kernel handed over, counted above as
 * the segments they stand for; and packets whose headers ran past the
 * capture (counted by what they prove). A line only when there are.
 */
static void
stats_offloads(const Netstream__Stats *s, int json)
{
	static const char *const names[] = { "gso_frames", "gso_segments",
		"gso_unsplit", "truncated_headers" };
	uint64_t v[NELEM(names)], any = 0;
	size_t i;

	for (i = 0; i < NELEM(names); i++) {
		v[i] = stats_sum(s, names[i], NULL, NULL, NULL, NULL);
		any |= v[i];
		if (json)
			printf(",\"%s\":%llu", names[i], ull(v[i]));
	}
	if (json || any == 0)
		return;
	printf(" Offloads: gso_frames %llu, gso_segments %llu, gso_unsplit "
	    "%llu, truncated_headers %llu\n", ull(v[0]), ull(v[1]), ull(v[2]),
	    ull(v[3]));
}

static void
stats_packets(const Netstream__Stats *s, int json)
{
	static const char *const names[] = { "packets_received",
		"packets_ipv6", "packets_ipv4", "packets_other",
		"packets_malformed", "packets_sampled", "packets_unbound" };
	uint64_t v;
	size_t i;

	if (!json)
		printf(" Packets:");
	for (i = 0; i < NELEM(names); i++) {
		v = stats_sum(s, names[i], NULL, NULL, NULL, NULL);
		if (json)
			printf(",\"%s\":%llu", names[i], ull(v));
		else /* without the "packets_" */
			printf("%s %s %llu", i ? "," : "", names[i] + 8,
			    ull(v));
	}
	if (!json)
		printf("\n");
	stats_offloads(s, json);
}

/* The records a slot's sample names, in order, each once. */
static size_t
stats_records(const Netstream__Stats *s, const char **rec, size_t max)
{
	size_t i, j, n = 0;
	const char *r;

	for (i = 0; i < s->n_counters; i++) {
		if (strcmp(s->counters[i]->name, "flows_current") != 0 ||
		    (r = label_of(s->counters[i], "record")) == NULL)
			continue;
		for (j = 0; j < n && strcmp(rec[j], r) != 0; j++)
			;
		if (j == n && n < max)
			rec[n++] = r;
	}
	return n;
}

static void
stats_flows(const Netstream__Stats *s, int json)
{
	const char *rec[64];
	size_t n = stats_records(s, rec, NELEM(rec)), i, k;
	struct table t;
	uint64_t cur, created, aged;

	tbl_init(&t, 9, 1);
	for (k = 0; k < 9; k++)
		tbl_cell(&t, "%s", (const char *[]){ "Record", "Current",
		    "Created", "Aged", "Idle", "Active", "End-of-flow",
		    "Forced", "Resources" }[k]);
	if (json)
		printf(",\"records\":[");
	for (i = 0; i < n; i++) {
		cur = stats_sum(s, "flows_current", "record", rec[i], NULL,
		    NULL);
		created = stats_sum(s, "flows_created", "record", rec[i], NULL,
		    NULL);
		aged = stats_sum(s, "flows_aged", "record", rec[i], NULL, NULL);
		tbl_cell(&t, "%s", rec[i]);
		tbl_cell(&t, "%llu", ull(cur));
		tbl_cell(&t, "%llu", ull(created));
		tbl_cell(&t, "%llu", ull(aged));
		if (json) {
			printf("%s{\"record\":", i ? "," : "");
			json_string(rec[i]);
			printf(",\"current\":%llu,\"created\":%llu,"
			    "\"aged\":%llu", ull(cur), ull(created), ull(aged));
		}
		for (k = 0; k < NELEM(age_reasons); k++) {
			uint64_t v = stats_sum(s, "flows_aged", "record",
			    rec[i], "reason", age_reasons[k]);

			tbl_cell(&t, "%llu", ull(v));
			if (json)
				printf(",\"%s\":%llu", age_reasons[k], ull(v));
		}
		if (json)
			printf("}");
	}
	if (json) {
		printf("]");
		tbl_free(&t);
		return;
	}
	printf(" Flows by record (aged by reason):\n");
	if (n == 0)
		printf("   (no record applies in this slot)\n");
	tbl_print(&t, "   ");
}

static void
stats_slot(const Netstream__Stats *s, int json, int first)
{
	if (json) {
		printf("%s{\"slot\":%u,\"pid\":%d,\"generation\":%llu,"
		    "\"packet_length\":{", first ? "" : ",", s->slot, s->pid,
		    ull(s->generation));
		stats_lengths(s, 1);
		printf("}");
		stats_packets(s, 1);
		stats_flows(s, 1);
		printf("}");
		return;
	}
	printf("Slot %u (sampled pid %d, plan generation %llu)\n", s->slot,
	    s->pid, ull(s->generation));
	stats_lengths(s, 0);
	stats_packets(s, 0);
	stats_flows(s, 0);
	printf("\n");
}

/* Per record over the slots shown: flows aged (handed to exportd), and
 * exportd's packets for the record's template. */
static void
stats_export_records(const Netstream__Plan *p, const struct samples *sm,
    int slot, const Netstream__Stats *xd, int json)
{
	struct table t;
	uint64_t flows, ok, failed;
	size_t i, k;

	tbl_init(&t, 5, 1);
	tbl_cell(&t, "Record");
	tbl_cell(&t, "Template");
	tbl_cell(&t, "Flows exported");
	tbl_cell(&t, "Packets ok");
	tbl_cell(&t, "Packets failed");
	for (i = 0; i < p->n_records; i++) {
		const Netstream__Record *r = p->records[i];

		flows = 0;
		for (k = 0; k < sm->n; k++)
			if (strcmp(sm->s[k]->process, "sampled") == 0 &&
			    (slot < 0 || sm->s[k]->slot == (unsigned)slot))
				flows += stats_sum(sm->s[k], "flows_aged",
				    "record", r->name, NULL, NULL);
		/* by record name: over every template the record has had */
		ok = stats_sum(xd, "packets_ok", "record", r->name, NULL, NULL);
		failed = stats_sum(xd, "packets_failed", "record", r->name,
		    NULL, NULL);
		tbl_cell(&t, "%s", r->name);
		tbl_cell(&t, "%u", r->template_id);
		tbl_cell(&t, "%llu", ull(flows));
		tbl_cell(&t, "%llu", ull(ok));
		tbl_cell(&t, "%llu", ull(failed));
		if (json) {
			printf("%s{\"record\":", i ? "," : "");
			json_string(r->name);
			printf(",\"template\":%u,\"flows\":%llu,"
			    "\"packets_ok\":%llu,\"packets_failed\":%llu}",
			    r->template_id, ull(flows), ull(ok), ull(failed));
		}
	}
	if (json) {
		tbl_free(&t);
		return;
	}
	printf("Exported by record (flows of the slots shown, packets of "
	       "exportd):\n");
	tbl_print(&t, "   ");
}

/* exportd's state of host h: failing (1) or ok, since (unix s), error */
static int
host_state(const Netstream__Stats *xd, const char *h, uint64_t *since,
    const char **err)
{
	const Netstream__Counter *c;
	const char *v;
	int failing = 0;
	size_t i;

	*since = 0;
	*err = "";
	for (i = 0; i < xd->n_counters; i++) {
		c = xd->counters[i];
		if ((v = label_of(c, "host")) == NULL || strcmp(v, h) != 0)
			continue;
		if (strcmp(c->name, "host_failing") == 0 && c->value) {
			failing = 1;
			if ((v = label_of(c, "error")) != NULL)
				*err = v;
		} else if (strcmp(c->name, "host_state_since_seconds") == 0)
			*since = c->value;
	}
	return failing;
}

/*
 * Per host: what it was sent (the kernel took it and no error came
 * back) and what failed, and its state: never "exported" for packets
 * that an ICMP error or a send error says it did not get.
 */
static void
stats_export_hosts(const Netstream__Stats *xd, int json)
{
	static const char *const cols[] = { "packets", "records", "bytes",
		"template_sends", "failed_packets", "failed_records",
		"packets_in_flight", "send_errors" };
	static const char *const heads[] = { "Export host", "Packets",
		"Flows", "Bytes", "Templates", "Failed packets", "Failed flows",
		"In flight", "State", "Since (UTC)", "Error" };
	struct table t;
	const char *h, *err;
	uint64_t since;
	size_t i, k, n = 0;
	int failing;

	tbl_init(&t, NELEM(heads), 1);
	for (k = 0; k < NELEM(heads); k++)
		tbl_cell(&t, "%s", heads[k]);
	for (i = 0; xd != NULL && i < xd->n_counters; i++) {
		char when[32] = "-";
		time_t tt;
		struct tm tm;

		if (strcmp(xd->counters[i]->name, "packets") != 0 ||
		    (h = label_of(xd->counters[i], "host")) == NULL)
			continue;
		failing = host_state(xd, h, &since, &err);
		tt = (time_t)since;
		if (since != 0 && gmtime_r(&tt, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		tbl_cell(&t, "%s", h);
		if (json) {
			printf("%s{\"host\":", n ? "," : "");
			json_string(h);
		}
		for (k = 0; k < NELEM(cols); k++) {
			uint64_t v = stats_sum(xd, cols[k], "host", h, NULL,
			    NULL);

			if (k + 1 < NELEM(cols)) /* send_errors: JSON only */
				tbl_cell(&t, "%llu", ull(v));
			if (json)
				printf(",\"%s\":%llu", cols[k], ull(v));
		}
		tbl_cell(&t, "%s", failing ? "failing" : "ok");
		tbl_cell(&t, "%s", when);
		tbl_cell(&t, "%s", failing ? err : "-");
		if (json) {
			printf(",\"state\":\"%s\",\"since\":%llu,\"error\":",
			    failing ? "failing" : "ok", ull(since));
			json_string(failing ? err : "");
			printf("}");
		}
		n++;
	}
	if (json) {
		tbl_free(&t);
		return;
	}
	printf("Exported by host (exportd%s; packets and flows sent, failed, "
	       "and packets in flight, waiting 5 s for an error):\n",
	    xd ? "" : ": no stats");
	tbl_print(&t, "   ");
}

int
display_statistics(struct nsctl *n, const struct dopts *o)
{
	struct samples sm = { .n = 0 };
	Netstream__Envelope *env;
	const Netstream__Stats *xd;
	size_t i, shown = 0;
	int rc;

	if ((rc = display_get_plan(n, &env)) != 0)
		return rc;
	display_collect(n, env->reply->plan, o->slot, &sm);
	xd = sample_of(&sm, "exportd", 0);
	if (o->json)
		printf("{\"slots\":[");
	for (i = 0; i < sm.n; i++)
		if (strcmp(sm.s[i]->process, "sampled") == 0 &&
		    (o->slot < 0 || sm.s[i]->slot == (unsigned)o->slot))
			stats_slot(sm.s[i], o->json, shown++ == 0);
	if (o->json)
		printf("],\"records\":[");
	else if (shown == 0 && o->slot >= 0)
		printf("No sampled stats for slot %d in %d ms.\n\n", o->slot,
		    STATS_WAIT_MS);
	else if (shown == 0)
		printf("No sampled stats in %d ms.\n\n", STATS_WAIT_MS);
	stats_export_records(env->reply->plan, &sm, o->slot, xd, o->json);
	if (o->json)
		printf("],\"hosts\":[");
	else
		printf("\n");
	stats_export_hosts(xd, o->json);
	if (o->json)
		printf("]}\n");
	rc = shown > 0 || xd != NULL ? 0 : EXIT_INVALID;
	if (rc != 0)
		fprintf(stderr, "nsctl: no stats received in %d ms from %s "
		    "(is the group running?)\n", STATS_WAIT_MS, n->ep.stats);
	samples_free(&sm);
	bus_free(env);
	return rc;
}

/* ---- display template ---- */

/* The options templates as exportd announces them (exportd/options.c). */
static void
options_layout(unsigned id, struct tmpl *t)
{
	static const struct tmpl_field sampler[] = { { F_INPUT_IF, 4 },
		{ F_SAMPLER_ID, 1 }, { F_SAMPLER_MODE, 1 },
		{ F_SAMPLER_INTERVAL, 4 }, { F_DIRECTION, 1 } };
	static const struct tmpl_field ifname[] = { { F_INPUT_IF, 4 },
		{ F_IF_NAME, 32 }, { F_IF_DESC, 32 } };
	const struct tmpl_field *f = id == OPT_SAMPLER ? sampler : ifname;
	unsigned i, n = id == OPT_SAMPLER ? NELEM(sampler) : NELEM(ifname);

	memset(t, 0, sizeof(*t));
	t->id = (uint16_t)id;
	t->n_scope = 1;
	for (i = 0; i < n; i++) {
		t->f[i] = f[i];
		t->rec_len = (uint16_t)(t->rec_len + f[i].len);
	}
	t->n_fields = (uint16_t)n;
}

/* Template ids to show: options, the plan's records, and exportd's. */
static size_t
template_ids(const Netstream__Plan *p, const Netstream__Stats *xd,
    unsigned *ids, size_t max)
{
	size_t i, j, n = 0;
	const char *v;
	unsigned id;

	ids[n++] = OPT_SAMPLER;
	ids[n++] = OPT_IFNAME;
	for (i = 0; i < p->n_records + (xd ? xd->n_counters : 0); i++) {
		if (i < p->n_records)
			id = p->records[i]->template_id;
		else if (strcmp(xd->counters[i - p->n_records]->name,
		    "packets_ok") == 0 &&
		    (v = label_of(xd->counters[i - p->n_records],
		    "template")) != NULL)
			id = (unsigned)strtoul(v, NULL, 10);
		else
			continue;
		for (j = 0; j < n && ids[j] != id; j++)
			;
		if (j == n && n < max)
			ids[n++] = id;
	}
	for (i = 1; i < n; i++) /* few: insertion sort */
		for (j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			id = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = id;
		}
	return n;
}

static void
template_fields(const struct tmpl *t, int json)
{
	struct table tb;
	unsigned i;

	tbl_init(&tb, 3, 1);
	tbl_cell(&tb, "Field");
	tbl_cell(&tb, "Type");
	tbl_cell(&tb, "Length");
	for (i = 0; i < t->n_fields; i++) {
		tbl_cell(&tb, "%s%s", display_field_name(t->f[i].type),
		    i < t->n_scope ? " (scope)" : "");
		tbl_cell(&tb, "%u", t->f[i].type);
		tbl_cell(&tb, "%u", t->f[i].len);
		if (json) {
			printf("%s{\"name\":\"%s\",\"type\":%u,\"length\":%u,"
			    "\"scope\":%s}", i ? "," : "",
			    display_field_name(t->f[i].type), t->f[i].type,
			    t->f[i].len, i < t->n_scope ? "true" : "false");
		}
	}
	if (json)
		tbl_free(&tb);
	else
		tbl_print(&tb, "   ");
}

/* The record exportd counted template id for ("": none, or unknown). */
static const char *
template_record(const Netstream__Stats *xd, unsigned id)
{
	const char *v, *rec;
	size_t i;

	for (i = 0; xd != NULL && i < xd->n_counters; i++)
		if (strcmp(xd->counters[i]->name, "packets_ok") == 0 &&
		    (v = label_of(xd->counters[i], "template")) != NULL &&
		    strtoul(v, NULL, 10) == id &&
		    (rec = label_of(xd->counters[i], "record")) != NULL)
			return rec;
	return "";
}

static void
template_one(const Netstream__Plan *p, const Netstream__Stats *xd,
    unsigned id, int json, int first)
{
	const Netstream__Record *r = NULL;
	const char *rname;
	char what[160];
	struct tmpl t;
	size_t i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < p->n_records && r == NULL; i++)
		if (p->records[i]->template_id == id)
			r = p->records[i];
	rname = r ? r->name : template_record(xd, id);
	if (id == OPT_SAMPLER || id == OPT_IFNAME) {
		options_layout(id, &t);
		snprintf(what, sizeof(what), "options, %s", id == OPT_SAMPLER ?
		    "sampler per interface direction" : "interface names");
	} else if (r != NULL && layout_record(p, r, &t) == 0)
		snprintf(what, sizeof(what), "data, record %s", r->name);
	else if (rname[0])
		snprintf(what, sizeof(what), "data, record %s, of an earlier "
		    "plan", rname);
	else
		snprintf(what, sizeof(what), "data, of an earlier plan");
	if (json) {
		printf("%s{\"template\":%u,\"kind\":", first ? "" : ",", id);
		json_string(what);
		printf(",\"record\":");
		json_string(rname);
		printf(",\"packets_ok\":%llu,\"packets_failed\":%llu,"
		    "\"record_bytes\":%u,\"fields\":[",
		    ull(template_count(xd, "packets_ok", id)),
		    ull(template_count(xd, "packets_failed", id)), t.rec_len);
		template_fields(&t, 1);
		printf("]}");
		return;
	}
	printf("Template %u (%s): %u fields, %u bytes per record\n", id, what,
	    t.n_fields, t.rec_len);
	printf("   Packets sent: success %llu, failure %llu\n",
	    ull(template_count(xd, "packets_ok", id)),
	    ull(template_count(xd, "packets_failed", id)));
	if (t.n_fields > 0)
		template_fields(&t, 0);
	printf("\n");
}

int
display_template(struct nsctl *n, const struct dopts *o)
{
	struct samples sm = { .n = 0 };
	Netstream__Envelope *env;
	const Netstream__Stats *xd;
	unsigned ids[512];
	size_t i, nid;
	int rc;

	if ((rc = display_get_plan(n, &env)) != 0)
		return rc;
	/* only exportd counts templates: do not wait for the slots */
	display_collect(n, &(Netstream__Plan)NETSTREAM__PLAN__INIT, -1, &sm);
	if ((xd = sample_of(&sm, "exportd", 0)) == NULL)
		fprintf(stderr, "nsctl: no exportd stats in %d ms: packet "
		    "counts are 0\n", STATS_WAIT_MS);
	nid = template_ids(env->reply->plan, xd, ids, NELEM(ids));
	if (o->json)
		printf("[");
	for (i = 0; i < nid; i++)
		template_one(env->reply->plan, xd, ids[i], o->json, i == 0);
	if (o->json)
		printf("]\n");
	samples_free(&sm);
	bus_free(env);
	return 0;
}

