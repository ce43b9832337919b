/*
 * slots.c: which slots of the running plan are alive. The stats proxy
 * sees every sample a slot's sampled publishes (topic
 * "stats.sampled.<slot>"); a slot is connected while its samples keep
 * coming, and not connected once none came for SLOT_SILENT_INTERVALS of
 * its stats interval (at least SLOT_SILENT_MIN_MS). cfgd logs each
 * change and publishes, for every slot of the plan, slot_connected and
 * slot_last_seen_seconds, so `nsctl stats` and `nsctl display slot` show
 * a slot that went silent, or never came, instead of leaving it out.
 * Silence is timed on the monotonic clock; the last-seen time is the
 * wall clock's when the sample came.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfgd.h"
#include "log.h"
#include "plan.h"
#include "stats.h"
#include "util.h"

#define TOPIC_PREFIX "stats.sampled."

/* A sample passed through the proxy: topic is its first frame. */
void
slots_seen(struct cfgd *c, const char *topic)
{
	struct slot_live *l;
	unsigned long id;
	char *end;

	if (strncmp(topic, TOPIC_PREFIX, strlen(TOPIC_PREFIX)) != 0)
		return;
	id = strtoul(topic + strlen(TOPIC_PREFIX), &end, 10);
	if (*end != '\0' || end == topic + strlen(TOPIC_PREFIX) ||
	    id > PLAN_SLOT_MAX)
		return;
	l = &c->live[id];
	l->mono_ms = mono_ms();
	l->wall_ms = now_ms();
	if (!l->connected)
		log_info("slot %lu: connected (its stats come in)", id);
	l->connected = 1;
}

static void
utc(int64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "-");
}

/* How long without a sample before a slot is said not connected. */
static int64_t
silent_ms(const struct cfgd *c)
{
	int64_t iv = c->plan && c->plan->stats_interval_ms ?
	    c->plan->stats_interval_ms : 1000;

	iv *= SLOT_SILENT_INTERVALS;
	return iv > SLOT_SILENT_MIN_MS ? iv : SLOT_SILENT_MIN_MS;
}

/* Slots silent too long are not connected any more (logged once). */
void
slots_check(struct cfgd *c)
{
	int64_t now = mono_ms(), limit = silent_ms(c);
	char when[32];
	unsigned id;

	for (id = 0; id <= PLAN_SLOT_MAX; id++) {
		struct slot_live *l = &c->live[id];

		if (!l->connected || now - l->mono_ms <= limit)
			continue;
		l->connected = 0;
		utc(l->wall_ms, when, sizeof(when));
		log_warnx("slot %u: not connected: no stats for %lld ms (last "
		    "seen %s)", id, (long long)(now - l->mono_ms), when);
	}
}

/* slot_connected and slot_last_seen_seconds of every slot of the plan. */
void
slots_stats(struct cfgd *c, Netstream__Stats *s)
{
	char id[16];
	size_t i;

	slots_check(c);
	for (i = 0; c->plan != NULL && i < c->plan->n_slots; i++) {
		unsigned n = c->plan->slots[i]->id;
		const struct slot_live *l;

		if (n > PLAN_SLOT_MAX)
			continue;
		l = &c->live[n];
		snprintf(id, sizeof(id), "%u", n);
		stats_add(s, "slot_connected", (uint64_t)l->connected, "slot",
		    id, NULL, NULL);
		/* 0: never seen since cfgd started */
		stats_add(s, "slot_last_seen_seconds",
		    l->wall_ms > 0 ? (uint64_t)(l->wall_ms / 1000) : 0, "slot",
		    id, NULL, NULL);
	}
}
