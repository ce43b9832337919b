/* plan.h: reading the effective plan every process follows. */
#ifndef NS_PLAN_H
#define NS_PLAN_H

#include "netstream.pb-c.h"
#include "util.h"

/* plan_text.c */
void plan_render(const Netstream__Plan *p, struct sbuf *out);
const char *sampler_mode_name(int mode);
const char *direction_name(int dir);

#endif
