/*
 * display_iface.c: `nsctl display interface [NAME]`, what the vendor's
 * `display ipv6 netstream interface` shows: per interface and direction,
 * what the running plan applies there (monitor, record, hosts, sampler)
 * beside what the slot's sampled counted; and `nsctl reset statistics`
 * and `reset cache`, which that sampled carries out.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "display.h"
#include "plan.h"
#include "util.h"

static const char *const aged_names[] = { "idle", "active", "end-of-flow",
	"forced", "lack-of-resources" };

/* The counters of each slot, as its sampled answered (NULL: no answer). */
struct slots {
	Netstream__Envelope *env[PLAN_SLOT_MAX + 1];
	int asked[PLAN_SLOT_MAX + 1];
	/* a slot without word of an interface: what cfgd says of it */
	char note[PLAN_SLOT_MAX + 1][128];
	struct samples cf; /* cfgd's sample, read once when needed */
	int cf_read;
};

static const Netstream__Interface *
plan_interface(const Netstream__Plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_interfaces; i++)
		if (strcmp(p->interfaces[i]->name, name) == 0)
			return p->interfaces[i];
	return NULL;
}

static const Netstream__Binding *
plan_binding(const Netstream__Plan *p, const char *iface, int dir)
{
	size_t i;

	for (i = 0; i < p->n_bindings; i++)
		if ((int)p->bindings[i]->direction == dir &&
		    strcmp(p->bindings[i]->interface, iface) == 0)
			return p->bindings[i];
	return NULL;
}

/* One request of this action to the sampled of slot; 0: done. */
static int
ask(struct nsctl *n, unsigned slot, Netstream__CacheAction action,
    const char *iface, Netstream__Envelope **env)
{
	Netstream__CacheRequest rq = NETSTREAM__CACHE_REQUEST__INIT;
	int rc;

	rq.slot = slot;
	rq.action = action;
	rq.interface = (char *)(iface ? iface : "");
	if ((rc = slot_ask(n, &rq, env)) != 0)
		return rc;
	if ((*env)->cache_reply->status != 0) {
		fprintf(stderr, "nsctl: sampled slot %u: %s\n", slot,
		    (*env)->cache_reply->text);
		bus_free(*env);
		*env = NULL;
		return EXIT_INVALID;
	}
	return 0;
}

static const Netstream__InterfaceCounters *
counters_of(const struct slots *sl, unsigned slot, const char *iface, int dir)
{
	const Netstream__CacheReply *r;
	size_t i;

	if (slot > PLAN_SLOT_MAX || sl->env[slot] == NULL)
		return NULL;
	r = sl->env[slot]->cache_reply;
	for (i = 0; i < r->n_interfaces; i++)
		if ((int)r->interfaces[i]->direction == dir &&
		    strcmp(r->interfaces[i]->interface, iface) == 0)
			return r->interfaces[i];
	return NULL;
}

/* The state of the capture of interface iface, as its slot answered. */
static const Netstream__CaptureState *
capture_of(const struct slots *sl, unsigned slot, const char *iface)
{
	const Netstream__CacheReply *r;
	size_t i;

	if (slot > PLAN_SLOT_MAX || sl->env[slot] == NULL)
		return NULL;
	r = sl->env[slot]->cache_reply;
	for (i = 0; i < r->n_captures; i++)
		if (strcmp(r->captures[i]->interface, iface) == 0)
			return r->captures[i];
	return NULL;
}

static const char *
capture_state_name(Netstream__CaptureStateKind k)
{
	static const char *const names[] = { "capturing", "waiting", "failed",
		"reading", "ended" };

	return (size_t)k < NELEM(names) ? names[k] : "unknown";
}

/* unix ms as 2026-12-06T17:50:01Z (UTC, as the logs of a group) */
static void
utc(int64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "-");
}

static void
capture_json(const Netstream__CaptureState *c)
{
	char when[32];

	if (c == NULL) {
		printf(",\"capture\":null");
		return;
	}
	utc(c->since_ms, when, sizeof(when));
	printf(",\"capture\":{\"state\":\"%s\",\"reason\":",
	    capture_state_name(c->state));
	json_string(c->error);
	printf(",\"since\":\"%s\",\"since_ms\":%lld,\"starts\":%llu,"
	    "\"stops\":%llu,\"device_ifindex\":%u}", when,
	    (long long)c->since_ms, ull(c->starts), ull(c->stops),
	    c->device_ifindex);
}

/*
 * " Capture: waiting since 2026-12-06T17:50:01Z: No such device (starts
 * 0, stops 0)"; a file says only what it is doing (no starts, stops).
 */
static void
capture_text(const struct slots *sl, const Netstream__Interface *pi,
    const Netstream__CaptureState *c)
{
	char when[32];

	if (c == NULL) {
		printf(" Capture: - (%s sampled slot %u%s%s)\n",
		    pi->slot <= PLAN_SLOT_MAX && sl->env[pi->slot] != NULL ?
		    "no word of it from" : "no answer from", pi->slot,
		    sl->note[pi->slot][0] ? "; " : "", sl->note[pi->slot]);
		return;
	}
	utc(c->since_ms, when, sizeof(when));
	printf(" Capture: %s since %s%s%s", capture_state_name(c->state), when,
	    c->error[0] ? ": " : "", c->error);
	if (!pi->file[0])
		printf(" (starts %llu, stops %llu)",
		    ull(c->starts), ull(c->stops));
	/* the index flows carry was fixed at commit; the device's own may
	 * differ once it came (or came back): said, not hidden */
	if (c->device_ifindex != 0 && c->device_ifindex != pi->ifindex &&
	    strcmp(pi->ifindex_from, "config") != 0)
		printf("\n   The device's ifindex is %u; flows carry %u until "
		    "a commit (or set ifindex)", c->device_ifindex,
		    pi->ifindex);
	printf("\n");
}

static uint64_t
aged(const Netstream__InterfaceCounters *c, size_t k)
{
	return k < c->n_flows_aged ? c->flows_aged[k] : 0;
}

static const char *
record_name(const Netstream__Plan *p, const Netstream__Binding *b)
{
	return b->record >= 0 && (size_t)b->record < p->n_records ?
	    p->records[b->record]->name : "";
}

static void
hosts_json(const Netstream__Binding *b)
{
	size_t i;

	printf(",\"hosts_from\":");
	json_string(b->hosts_from);
	printf(",\"hosts\":[");
	for (i = 0; i < b->n_hosts; i++) {
		printf("%s{\"address\":", i ? "," : "");
		json_string(b->hosts[i]->address);
		printf(",\"port\":%u,\"version\":\"%s\"}", b->hosts[i]->port,
		    b->hosts[i]->ipfix ? "ipfix" : "9");
	}
	printf("]");
}

static void
counters_json(const Netstream__InterfaceCounters *c)
{
	size_t k;

	if (c == NULL) {
		printf(",\"counters\":null");
		return;
	}
	printf(",\"counters\":{\"packets\":%llu,\"bytes\":%llu,"
	    "\"ipv6_packets\":%llu,\"sampled_packets\":%llu,"
	    "\"flows_created\":%llu,\"flows_current\":%llu,\"flows_aged\":{",
	    ull(c->packets), ull(c->bytes), ull(c->ipv6_packets),
	    ull(c->sampled_packets), ull(c->flows_created),
	    ull(c->flows_current));
	for (k = 0; k < NELEM(aged_names); k++)
		printf("%s\"%s\":%llu", k ? "," : "", aged_names[k],
		    ull(aged(c, k)));
	printf("}}");
}

static void
direction_json(const Netstream__Plan *p, const struct slots *sl,
    const Netstream__Interface *pi, int dir)
{
	const Netstream__Binding *b = plan_binding(p, pi->name, dir);
	const Netstream__Sampler *sm;

	printf("%s{\"direction\":\"%s\",\"enabled\":%s", dir ? "," : "",
	    direction_name(dir), b ? "true" : "false");
	if (b == NULL) {
		printf("}");
		return;
	}
	printf(",\"monitor\":");
	json_string(b->monitor);
	printf(",\"record\":");
	json_string(record_name(p, b));
	hosts_json(b);
	sm = b->sampler;
	printf(",\"sampler\":{\"mode\":\"%s\",\"value\":%u}",
	    sampler_mode_name(sm ? (int)sm->mode : 0), sm ? sm->value : 0);
	counters_json(counters_of(sl, pi->slot, pi->name, dir));
	printf("}");
}

static void
direction_text(const Netstream__Plan *p, const struct slots *sl,
    const Netstream__Interface *pi, int dir)
{
	const Netstream__Binding *b = plan_binding(p, pi->name, dir);
	const Netstream__InterfaceCounters *c;
	const Netstream__Sampler *sm;
	size_t i;

	if (b == NULL) {
		printf(" %s: ipv6 netstream %s is not enabled\n",
		    dir ? "Outbound" : "Inbound", direction_name(dir));
		return;
	}
	sm = b->sampler;
	printf(" %s: monitor %s, record %s, sampler %s",
	    dir ? "Outbound" : "Inbound", b->monitor[0] ? b->monitor : "-",
	    b->record >= 0 ? record_name(p, b) : "- (none applies)",
	    sampler_mode_name(sm ? (int)sm->mode : 0));
	if (sm != NULL && sm->mode != 0)
		printf(" %u", sm->value);
	printf("\n   Export hosts (%s):", b->hosts_from[0] ? b->hosts_from :
	    "none");
	for (i = 0; i < b->n_hosts; i++)
		printf("%s %s port %u%s", i ? "," : "", b->hosts[i]->address,
		    b->hosts[i]->port, b->hosts[i]->ipfix ? " ipfix" : "");
	printf("%s\n", b->n_hosts ? "" : " -");
	if ((c = counters_of(sl, pi->slot, pi->name, dir)) == NULL) {
		printf("   Counters: - (no answer from sampled slot %u)\n",
		    pi->slot);
		return;
	}
	printf("   Packets: %llu, bytes: %llu, IPv6 packets: %llu, "
	       "sampled packets: %llu\n", ull(c->packets), ull(c->bytes),
	    ull(c->ipv6_packets), ull(c->sampled_packets));
	printf("   Flows: created %llu, current %llu, aged:",
	    ull(c->flows_created), ull(c->flows_current));
	for (i = 0; i < NELEM(aged_names); i++)
		printf("%s %s %llu", i ? "," : "", aged_names[i],
		    ull(aged(c, i)));
	printf("\n");
}

static void
interface_show(const Netstream__Plan *p, const struct slots *sl,
    const Netstream__Interface *pi, int json, int first)
{
	int dir;

	if (json) {
		printf("%s{\"interface\":", first ? "" : ",");
		json_string(pi->name);
		printf(",\"slot\":%u,\"ifindex\":%u,\"ifindex_from\":",
		    pi->slot, pi->ifindex);
		json_string(pi->ifindex_from);
		printf(",\"source\":");
		json_string(pi->file[0] ? pi->file : pi->device);
		capture_json(capture_of(sl, pi->slot, pi->name));
		if (sl->note[pi->slot][0]) {
			printf(",\"slot_liveness\":");
			json_string(sl->note[pi->slot]);
		}
		printf(",\"directions\":[");
		for (dir = 0; dir < 2; dir++)
			direction_json(p, sl, pi, dir);
		printf("]}");
		return;
	}
	printf("Interface %s (slot %u, ifindex %u%s, %s %s)\n", pi->name,
	    pi->slot, pi->ifindex, strcmp(pi->ifindex_from, "stand-in") == 0 ?
	    " stand-in: no device at commit" : "",
	    pi->file[0] ? "file" : "device",
	    pi->file[0] ? pi->file : pi->device);
	capture_text(sl, pi, capture_of(sl, pi->slot, pi->name));
	for (dir = 0; dir < 2; dir++)
		direction_text(p, sl, pi, dir);
	printf("\n");
}

static void
slots_free(struct slots *sl)
{
	size_t i;

	for (i = 0; i <= PLAN_SLOT_MAX; i++)
		bus_free(sl->env[i]);
	samples_free(&sl->cf);
}

/*
 * The slot of pi said nothing of it (no answer, or not captured there):
 * "slot N: not connected, last seen T" or the like, from cfgd's stats.
 */
static void
slot_note(struct nsctl *n, struct slots *sl, const Netstream__Interface *pi)
{
	Netstream__Plan none = NETSTREAM__PLAN__INIT;
	struct liveness l;
	char text[96];

	if (pi->slot > PLAN_SLOT_MAX || sl->note[pi->slot][0] != '\0' ||
	    capture_of(sl, pi->slot, pi->name) != NULL)
		return;
	if (!sl->cf_read) {
		sl->cf.want_cfgd = 1;
		display_collect(n, &none, -2, &sl->cf);
		sl->cf_read = 1;
	}
	liveness_of(sample_of(&sl->cf, "cfgd", 0), pi->slot, &l);
	if (!l.known)
		return;
	liveness_text(&l, text, sizeof(text));
	snprintf(sl->note[pi->slot], sizeof(sl->note[pi->slot]), "slot %u: %s",
	    pi->slot, text);
}

int
display_interface(struct nsctl *n, const struct dopts *o)
{
	static struct slots sl;
	const Netstream__Interface *pi;
	const Netstream__Plan *p;
	Netstream__Envelope *env;
	size_t i, shown = 0;
	int rc;

	if ((rc = display_get_plan(n, &env)) != 0)
		return rc;
	p = env->reply->plan;
	if (o->name != NULL && plan_interface(p, o->name) == NULL) {
		fprintf(stderr, "nsctl: no interface %s in revision %llu\n",
		    o->name, ull(p->revision));
		bus_free(env);
		return EXIT_INVALID;
	}
	memset(&sl, 0, sizeof(sl));
	if (o->json)
		printf("[");
	for (i = 0; i < p->n_interfaces; i++) {
		pi = p->interfaces[i];
		if (o->name != NULL && strcmp(pi->name, o->name) != 0)
			continue;
		if (pi->slot <= PLAN_SLOT_MAX && !sl.asked[pi->slot]) {
			sl.asked[pi->slot] = 1;
			/* shown without counters; the exit code says so */
			if (ask(n, pi->slot,
			    NETSTREAM__CACHE_ACTION__INTERFACE_COUNTERS,
			    o->name, &sl.env[pi->slot]) != 0)
				rc = EXIT_INVALID;
		}
		slot_note(n, &sl, pi);
		interface_show(p, &sl, pi, o->json, shown++ == 0);
	}
	if (o->json)
		printf("]\n");
	else if (shown == 0)
		printf("No interface in revision %llu.\n", ull(p->revision));
	slots_free(&sl);
	bus_free(env);
	return rc;
}

/* ---- reset statistics | cache ---- */

/* The slots the running plan captures on, each once, in order. */
static size_t
plan_slots(const Netstream__Plan *p, unsigned *out)
{
	static int seen[PLAN_SLOT_MAX + 1];
	size_t i, n = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < p->n_interfaces; i++)
		if (p->interfaces[i]->slot <= PLAN_SLOT_MAX)
			seen[p->interfaces[i]->slot] = 1;
	for (i = 0; i <= PLAN_SLOT_MAX; i++)
		if (seen[i])
			out[n++] = (unsigned)i;
	return n;
}

static int
reset_slot(struct nsctl *n, unsigned slot, int cache, const char *iface)
{
	Netstream__Envelope *env;
	int rc;

	rc = ask(n, slot, cache ? NETSTREAM__CACHE_ACTION__RESET_CACHE :
	    NETSTREAM__CACHE_ACTION__RESET_STATISTICS, iface, &env);
	if (rc != 0)
		return rc;
	if (cache)
		printf("Slot %u: %llu flows aged (forced) and exported.\n",
		    slot, ull(env->cache_reply->flows_reset));
	else if (iface != NULL)
		printf("Statistics of interface %s (slot %u) reset.\n", iface,
		    slot);
	else
		printf("Statistics of slot %u reset.\n", slot);
	bus_free(env);
	return 0;
}

/*
 * reset statistics [slot N | interface NAME], reset cache [slot N]:
 * without a slot, every slot the running plan captures on.
 */
int
cmd_reset(struct nsctl *n, int argc, char **argv)
{
	unsigned slots[PLAN_SLOT_MAX + 1];
	const Netstream__Interface *pi;
	const char *iface = NULL;
	Netstream__Envelope *env;
	int cache, slot = -1, rc = 0, r;
	size_t i, ns;
	char *end;

	if (argc < 2 || (strcmp(argv[1], "statistics") != 0 &&
	    strcmp(argv[1], "cache") != 0))
		nsctl_usage();
	cache = strcmp(argv[1], "cache") == 0;
	if (argc == 4 && strcmp(argv[2], "slot") == 0) {
		slot = (int)strtol(argv[3], &end, 10);
		if (*end != '\0' || argv[3][0] == '\0' || slot < 0 ||
		    slot > PLAN_SLOT_MAX)
			nsctl_usage();
	} else if (argc == 4 && !cache && strcmp(argv[2], "interface") == 0)
		iface = argv[3];
	else if (argc != 2)
		nsctl_usage();
	if (slot >= 0)
		return reset_slot(n, (unsigned)slot, cache, NULL);
	if ((rc = display_get_plan(n, &env)) != 0)
		return rc;
	if (iface != NULL) {
		if ((pi = plan_interface(env->reply->plan, iface)) == NULL) {
			fprintf(stderr, "nsctl: no interface %s in revision "
			    "%llu\n", iface,
			    ull(env->reply->plan->revision));
			rc = EXIT_INVALID;
		} else
			rc = reset_slot(n, pi->slot, 0, iface);
		bus_free(env);
		return rc;
	}
	ns = plan_slots(env->reply->plan, slots);
	for (i = 0; i < ns; i++)
		if ((r = reset_slot(n, slots[i], cache, NULL)) != 0)
			rc = r;
	bus_free(env);
	return rc;
}
