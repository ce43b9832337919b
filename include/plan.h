/* plan.h: reading the effective plan every process follows. */
#ifndef NS_PLAN_H
#define NS_PLAN_H

#include "netstream.pb-c.h"
#include "util.h"

/*
 * Export pacing per host (DESIGN.md wire rules), in export packets a
 * second: at the default a stock nfcapd on loopback (208 KiB socket
 * buffer) loses nothing of a fast replay. exportd lets a burst of
 * XD_PACE_BURST packets go at once.
 */
#define PLAN_PACE_DEFAULT 5000
#define PLAN_PACE_MIN 100
#define PLAN_PACE_MAX 1000000
#define PLAN_SAMPLER_ID_MAX 255 /* v9 FLOW_SAMPLER_ID is one byte */

#define PLAN_SLOT_MAX 255	  /* slot ids, as the config allows */
#define PLAN_HOSTS_MAX 8	  /* hosts of one view */
#define PLAN_NAME_MAX 32	  /* record and monitor names */
#define PLAN_IFNAME_MAX 63	  /* interface and device names */
#define PLAN_PATH_MAX 1023	  /* capture and routes files */
#define PLAN_WORKERS_MAX 64	  /* live capture threads of a slot */
#define PLAN_TMPL_ID_FIRST 258 /* 256, 257: exportd's options templates */

/* Why a plan from the bus was refused: bad_plans{reason}. */
enum plan_bad {
	PLAN_OK = 0,
	PLAN_BAD_GENERATION,
	PLAN_BAD_RECORD,
	PLAN_BAD_FIELD,
	PLAN_BAD_TEMPLATE,
	PLAN_BAD_BINDING,
	PLAN_BAD_SAMPLER,
	PLAN_BAD_HOST,
	PLAN_BAD_INTERFACE,
	PLAN_BAD_SLOT,
	PLAN_BAD_TIMER,
	PLAN_BAD_LIMIT,
	PLAN_BAD_MONITOR,
	PLAN_BAD_MAX
};

/* plancheck.c */
enum plan_bad plan_check(const Netstream__Plan *p, char *why, size_t len);
const char *plan_bad_name(enum plan_bad why);
int plan_take_check(const Netstream__Plan *p, uint64_t bad[PLAN_BAD_MAX]);
void plan_bad_stats(Netstream__Stats *st, const uint64_t bad[PLAN_BAD_MAX]);

/* fanout.c: the addresses a live device's packets are split by */
#define FANOUT_SRC 1u
#define FANOUT_DST 2u
unsigned plan_fanout_fields(const Netstream__Plan *p, const char *iface);
unsigned plan_slot_workers(const Netstream__Plan *p, unsigned slot);

/* plan_text.c */
void plan_render(const Netstream__Plan *p, struct sbuf *out);
const char *sampler_mode_name(int mode);
const char *direction_name(int dir);

#endif
