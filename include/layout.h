/* layout.h: the data template of a record: which fields, in which order. */
#ifndef NS_LAYOUT_H
#define NS_LAYOUT_H

#include "netstream.pb-c.h"
#include "xpkt.h"

#define LAYOUT_MAX_ROW 512

/* layout.c */
int layout_record(const Netstream__Plan *p, const Netstream__Record *r,
    struct tmpl *t);
int layout_has(const struct tmpl *t, unsigned type);
int layout_icmp(const Netstream__Record *r);

#endif
