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
#define PLAN_PACE_DEFAULT 10000
#define PLAN_PACE_MIN 100
#define PLAN_PACE_MAX 1000000
#define PLAN_SAMPLER_ID_MAX 255 /* v9 FLOW_SAMPLER_ID is one byte */

/* plan_text.c */
void plan_render(const Netstream__Plan *p, struct sbuf *out);
const char *sampler_mode_name(int mode);
const char *direction_name(int dir);

#endif
